/* Appending to the store: events are queued as record lines, written in one
 * write() per batch and segment, and synced per --fsync. A failure (disk
 * full, I/O error) keeps the queue, logs one line and retries with backoff;
 * the events stay in the ring meanwhile (docs/CAMERA.md "Failures"). */
#include "store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "eol.h"
#include "log.h"

/* Counters when the current failure began, for the line that ends it. */
static uint64_t ep_fails, ep_late, ep_dropped;

void store_fail(store_t *s, const char *what, int err, uint64_t now_ms)
{
    s->fails++;
    if (!s->failing) {
        log_msg(LOGL_WARN, "store %s: %s: %s; events kept in memory, retrying", s->cfg.dir, what,
                strerror(err));
        s->failing = true;
        s->backoff_ms = STORE_RETRY_MIN_MS;
        ep_fails = s->fails - 1;
        ep_late = s->late;
        ep_dropped = s->dropped;
    } else if ((s->backoff_ms *= 2) > STORE_RETRY_MAX_MS) {
        s->backoff_ms = STORE_RETRY_MAX_MS;
    }
    s->retry_ms = now_ms + s->backoff_ms;
}

static void recovered(store_t *s)
{
    log_msg(LOGL_INFO,
            "store %s: writing again after %" PRIu64 " failed attempt(s); %" PRIu64
            " event(s) stored late, %" PRIu64 " never stored",
            s->cfg.dir, s->fails - ep_fails, s->late - ep_late, s->dropped - ep_dropped);
    s->failing = false;
}

/* An emptied buffer gives back what a burst made it grow to (10,000 events
 * at once leave about 1 MiB in the two of them: docs/FOOTPRINT.md); a
 * small one is kept for the next write. */
#define STORE_BUF_KEEP 65536
static void store_buf_empty(buf_t *b)
{
    if (b->cap > STORE_BUF_KEEP)
        buf_free(b);
    else
        buf_reset(b);
}

/* The queue keeps at most --retain events, as the ring does: past that the
 * oldest queued one is one the ring has dropped too. Its index is skipped,
 * so the next event written starts a segment named after its own index. */
static void drop_oldest(store_t *s)
{
    const char *p = s->pend.data + s->pend_off;
    const char *nl = memchr(p, '\n', s->pend.len - s->pend_off);
    s->pend_off += (size_t)(nl - p) + 1;
    s->pend_lines--;
    s->dropped++;
    s->next++;
    s->force_rotate = true;
}

/* The queue's head already written or dropped is given back once it is
 * half of the queue (each byte moves at most once per halving), so that
 * the queue stays near --retain lines however long the store fails. */
static void compact(store_t *s)
{
    if (s->pend_off == 0 || s->pend_off <= s->pend.len / 2)
        return;
    s->pend.len -= s->pend_off;
    memmove(s->pend.data, s->pend.data + s->pend_off, s->pend.len);
    s->pend.data[s->pend.len] = '\0';
    s->pend_off = 0;
}

void store_append(store_t *s, const record_t *r)
{
    if (s->pend_lines >= s->cfg.retain)
        drop_oldest(s);
    compact(s);
    eol_encode_record(&s->pend, r->description, r->description_len, record_ts(r), r->timestamp_len);
    s->pend_lines++;
    s->appended++;
}

/* Bytes of the first n queued lines. */
static size_t span_of(const store_t *s, uint64_t n)
{
    const char *p = s->pend.data + s->pend_off, *end = s->pend.data + s->pend.len;
    if (n == s->pend_lines)
        return (size_t)(end - p);
    for (const char *q = p; n > 0; n--)
        q = p = (const char *)memchr(q, '\n', (size_t)(end - q)) + 1;
    return (size_t)(p - (s->pend.data + s->pend_off));
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A failed write may have left part of a line: cut it, or if that fails
 * too, write on in a new segment so that no line is glued to it. */
static void write_failed(store_t *s, int err, uint64_t now_ms)
{
    char what[STORE_SEG_NAME_LEN + 16] = "write ";
    store_seg_name(what + 6, s->segs[s->nsegs - 1].start);
    if (ftruncate(s->fd, (off_t)s->size) != 0)
        s->force_rotate = true;
    store_fail(s, what, err, now_ms);
}

/* Writes as many queued lines as fit the current segment. Returns 0 or -1. */
static int write_some(store_t *s, uint64_t now_ms)
{
    store_seg_t *seg = &s->segs[s->nsegs - 1];
    uint64_t n = s->seg_max - seg->count;
    if (n > s->pend_lines)
        n = s->pend_lines;
    size_t len = span_of(s, n);
    const char *p = s->pend.data + s->pend_off;

    if (write_all(s->fd, p, len) != 0) {
        write_failed(s, errno, now_ms);
        return -1;
    }
    if (s->cfg.fsync != STORE_FSYNC_NEVER) { /* kept until synced: see store_sync */
        buf_append(&s->unsynced, p, len);
        s->unsynced_lines += n;
        if (s->dirty_ms == 0)
            s->dirty_ms = now_ms ? now_ms : 1;
    }
    s->size += len;
    seg->count += n;
    s->stored += n;
    s->next += n;
    s->pend_off += len;
    s->pend_lines -= n;
    s->writes++;
    if (s->failing)
        s->late += n;
    return 0;
}

/* Writes the queue, rotating every seg_max events. Returns 0 or -1. */
static int write_pending(store_t *s, uint64_t now_ms)
{
    while (s->pend_lines > 0) {
        if (s->fd < 0 || s->force_rotate || s->segs[s->nsegs - 1].count >= s->seg_max) {
            const char *what;
            if (store_rotate(s, now_ms, &what) != 0) {
                if (what)
                    store_fail(s, what, errno, now_ms);
                return -1;
            }
        }
        if (write_some(s, now_ms) != 0)
            return -1;
        store_prune(s);
    }
    store_buf_empty(&s->pend);
    s->pend_off = 0;
    return 0;
}

void store_flush(store_t *s, uint64_t now_ms)
{
    if (s->failing && now_ms < s->retry_ms)
        return;
    if (s->pend_lines > 0 && write_pending(s, now_ms) != 0)
        return;
    if (s->cfg.fsync == STORE_FSYNC_ALWAYS) {
        store_sync(s, now_ms); /* clears a failure itself */
        return;
    }
    if (s->cfg.fsync == STORE_FSYNC_NEVER) {
        store_pos_save(s, now_ms);
        if (s->failing)
            recovered(s);
    }
}

/* After a failed fdatasync the kernel may have dropped the dirty pages
 * (and a later fsync would not say so): the segment is cut back to what is
 * known durable and the lines after it are queued again, first. */
static void requeue_unsynced(store_t *s)
{
    if (s->unsynced_lines == 0 || ftruncate(s->fd, (off_t)s->synced) != 0)
        return; /* nothing to redo, or it stays as written: the best left */
    buf_t q = BUF_INIT;
    buf_append(&q, s->unsynced.data, s->unsynced.len);
    if (s->pend.len > s->pend_off)
        buf_append(&q, s->pend.data + s->pend_off, s->pend.len - s->pend_off);
    buf_free(&s->pend);
    s->pend = q;
    s->pend_off = 0;
    s->pend_lines += s->unsynced_lines;
    s->segs[s->nsegs - 1].count -= s->unsynced_lines;
    s->stored -= s->unsynced_lines;
    s->next -= s->unsynced_lines;
    s->size = s->synced;
    buf_reset(&s->unsynced);
    s->unsynced_lines = 0;
}

int store_sync(store_t *s, uint64_t now_ms)
{
    char what[STORE_SEG_NAME_LEN + 16] = "fdatasync ";

    if (s->fd >= 0 && s->size > s->synced) {
        if (fdatasync(s->fd) != 0) {
            int e = errno;
            store_seg_name(what + 10, s->segs[s->nsegs - 1].start);
            requeue_unsynced(s);
            store_fail(s, what, e, now_ms);
            return -1;
        }
        s->synced = s->size;
        store_buf_empty(&s->unsynced);
        s->unsynced_lines = 0;
        s->syncs++;
    }
    if (s->dir_dirty) {
        if (fsync(s->dirfd) != 0) {
            store_fail(s, "fsync of the directory", errno, now_ms);
            return -1;
        }
        s->dir_dirty = false;
    }
    s->dirty_ms = 0;
    store_pos_save(s, now_ms);
    if (s->failing && s->pend_lines == 0)
        recovered(s);
    return 0;
}

uint64_t store_tick(store_t *s, uint64_t now_ms)
{
    bool every = s->cfg.fsync == STORE_FSYNC_EVERY;

    store_epoch_keep(s, now_ms);
    if (s->failing && now_ms >= s->retry_ms) {
        store_flush(s, now_ms);
        if (every && s->pend_lines == 0)
            store_sync(s, now_ms); /* a retry ends with a sync: the failure may have been one */
    } else if (!s->failing && every && s->dirty_ms && now_ms >= s->dirty_ms + s->cfg.fsync_ms) {
        store_sync(s, now_ms);
    }
    if (s->failing)
        return s->retry_ms > now_ms ? s->retry_ms - now_ms : 0;
    if (every && s->dirty_ms)
        return s->dirty_ms + s->cfg.fsync_ms > now_ms ? s->dirty_ms + s->cfg.fsync_ms - now_ms : 0;
    return UINT64_MAX;
}
