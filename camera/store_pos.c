/* The file source's position, DIR/position: two fixed 256-byte text slots
 * written in turn, each with a generation and a checksum, so that a torn
 * write leaves the other slot readable. It says "the source was at this
 * file, offset and line when `seq` events were stored"; a restarted camera
 * re-reads from there and skips the events stored after it (follow.c), so
 * the position need not be saved with every event. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define SLOT 256
#define POS_SYNC_MS 1000 /* the position file is synced at most this often */

static const char FORMAT[] = "camlogs-position 1 gen=%" SCNu64 " seq=%" SCNu64 " dev=%" SCNu64
                             " ino=%" SCNu64 " offset=%" SCNu64 " line=%" SCNu64 " path=%" SCNx64;

/* Checksum of the text before " sum=". */
static uint64_t sum_of(const char *p, size_t n)
{
    char tmp[SLOT + 1];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return store_hash(tmp);
}

/* One slot. Returns 0 with its generation and position, or -1. */
static int parse_slot(const char *p, uint64_t *gen, store_pos_t *o)
{
    char tmp[SLOT + 1];
    uint64_t sum;

    memcpy(tmp, p, SLOT);
    tmp[SLOT] = '\0';
    char *at = strstr(tmp, " sum=");
    if (at == NULL || sscanf(at, " sum=%" SCNx64, &sum) != 1 ||
        sum != sum_of(tmp, (size_t)(at - tmp)))
        return -1;
    *at = '\0';
    if (sscanf(tmp, FORMAT, gen, &o->seq, &o->dev, &o->ino, &o->offset, &o->line, &o->path_hash) !=
        7)
        return -1;
    return 0;
}

void store_pos_load(store_t *s)
{
    char buf[2 * SLOT];
    uint64_t gen, best = 0;
    store_pos_t p;

    s->posfd = openat(s->dirfd, STORE_POS_NAME, O_RDWR | O_CLOEXEC);
    if (s->posfd < 0)
        return; /* none yet */
    ssize_t n = pread(s->posfd, buf, sizeof(buf), 0);
    for (int i = 0; i < 2; i++) {
        if (n >= (i + 1) * SLOT && parse_slot(buf + i * SLOT, &gen, &p) == 0 && gen >= best) {
            best = gen;
            s->pos_saved = p;
            s->pos_have_saved = true;
        }
    }
    s->pos_gen = best;
    if (!s->pos_have_saved && n > 0)
        log_msg(LOGL_WARN, "store %s/%s: unreadable; the file source starts afresh", s->cfg.dir,
                STORE_POS_NAME);
}

/* Formats the slot: the text, " sum=...", spaces, a newline. */
static void format_slot(char out[SLOT], uint64_t gen, const store_pos_t *p)
{
    int n =
        snprintf(out, SLOT, FORMAT, gen, p->seq, p->dev, p->ino, p->offset, p->line, p->path_hash);
    n += snprintf(out + n, SLOT - (size_t)n, " sum=%016" PRIx64, sum_of(out, (size_t)n));
    memset(out + n, ' ', SLOT - 1 - (size_t)n);
    out[SLOT - 1] = '\n';
}

static int open_pos(store_t *s)
{
    if (s->posfd >= 0)
        return 0;
    s->posfd = openat(s->dirfd, STORE_POS_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->posfd < 0)
        return -1;
    s->dir_dirty = true;
    return 0;
}

void store_pos_save(store_t *s, uint64_t now_ms)
{
    char slot[SLOT];

    /* Only once every event the position counts is written: after a crash
     * the store then holds at least `seq` events, and follow.c skips the
     * extra ones. */
    if (!s->pos_dirty || s->pend_lines > 0 || s->next < s->pos_noted.seq)
        return;
    format_slot(slot, s->pos_gen + 1, &s->pos_noted);
    if (open_pos(s) != 0 ||
        pwrite(s->posfd, slot, SLOT, (off_t)((s->pos_gen + 1) % 2) * SLOT) != SLOT) {
        if (!s->failing)
            log_msg(LOGL_WARN, "store %s/%s: %s; saved later", s->cfg.dir, STORE_POS_NAME,
                    strerror(errno));
        return;
    }
    s->pos_gen++;
    s->pos_saved = s->pos_noted;
    s->pos_have_saved = true;
    s->pos_dirty = false;
    /* A stale position is safe (more is re-read and skipped), so it is
     * synced only now and then, not with every batch. */
    if (s->cfg.fsync != STORE_FSYNC_NEVER && now_ms - s->pos_synced_ms >= POS_SYNC_MS) {
        fdatasync(s->posfd);
        s->pos_synced_ms = now_ms;
    }
}
