/* The store's epoch (docs/CAMERA.md "Event numbers"): the history its
 * events belong to, in DIR/epoch. An event's number is its index in the
 * store plus one, so a camera restarted on the same store (SIGTERM, kill -9,
 * power cut) goes on counting in the same epoch. The rule that keeps that
 * true: DIR/epoch names the epoch only while every number ever sent is
 * durable. A number about to be sent whose event is not (the disk failing,
 * or not yet synced and the sync fails) takes the file away first; it is
 * written again once the store has caught up. A camera that stops before
 * then finds no DIR/epoch and starts a new epoch, so no number is given to
 * two events in one epoch. A store from 1.1 (no DIR/epoch) gets one. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "camera.h"
#include "log.h"
#include "query.h"

#define EPOCH_TMP STORE_EPOCH_NAME ".tmp"

/* Reads DIR/epoch into s->epoch. Returns 0, or -1 when it is missing or
 * not an epoch. */
static int epoch_read(store_t *s)
{
    char b[ID_MAX + 2];
    int fd = openat(s->dirfd, STORE_EPOCH_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n > 0 && b[n - 1] == '\n')
        n--;
    if (n <= 0 || !query_valid_id(b, (size_t)n)) {
        log_msg(LOGL_WARN, "store %s/%s: not an epoch; a new epoch starts", s->cfg.dir,
                STORE_EPOCH_NAME);
        return -1;
    }
    memcpy(s->epoch, b, (size_t)n);
    s->epoch[n] = '\0';
    return 0;
}

/* Writes s->epoch to DIR/epoch (a new file renamed over it, synced unless
 * --fsync never). Returns 0, or -1 with *what naming the step (errno set). */
static int epoch_write(store_t *s, const char **what)
{
    bool sync = s->cfg.fsync != STORE_FSYNC_NEVER;
    size_t len = strlen(s->epoch);
    char line[ID_MAX + 2];
    int fd = openat(s->dirfd, EPOCH_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    *what = "create " EPOCH_TMP;
    if (fd < 0)
        return -1;
    memcpy(line, s->epoch, len);
    line[len] = '\n';
    int ok = write(fd, line, len + 1) == (ssize_t)(len + 1) && (!sync || fdatasync(fd) == 0);
    int e = errno;
    close(fd);
    errno = e;
    *what = "write " EPOCH_TMP;
    if (!ok)
        return -1;
    *what = "rename " EPOCH_TMP;
    if (renameat(s->dirfd, EPOCH_TMP, s->dirfd, STORE_EPOCH_NAME) != 0)
        return -1;
    *what = "fsync of the directory";
    return sync && fsync(s->dirfd) != 0 ? -1 : 0;
}

int store_epoch_load(store_t *s, char *err, size_t errlen)
{
    const char *what;

    if (epoch_read(s) == 0) {
        s->epoch_saved = true;
        return 0;
    }
    if (epoch_random(s->epoch, err, errlen) != 0)
        return -1;
    if (epoch_write(s, &what) == 0) {
        s->epoch_saved = true;
        log_msg(LOGL_INFO, "store %s: new epoch %s", s->cfg.dir, s->epoch);
        return 0;
    }
    /* A full disk at start: the camera runs; the file is written later. */
    store_fail(s, what, errno, clock_ms());
    return 0;
}

const char *store_epoch(const store_t *s)
{
    return s->epoch;
}

/* The index after the last event that is durable: written, and synced
 * unless --fsync never. */
static uint64_t durable_end(const store_t *s)
{
    return s->next - s->unsynced_lines;
}

uint64_t store_durable(store_t *s, uint64_t seq, uint64_t now_ms)
{
    if (seq > durable_end(s) && s->cfg.fsync != STORE_FSYNC_NEVER && !s->failing &&
        s->size > s->synced)
        store_sync(s, now_ms);
    return seq < durable_end(s) ? seq : durable_end(s);
}

void store_vouch(store_t *s, uint64_t seq, uint64_t now_ms)
{
    if (seq <= durable_end(s))
        return;
    if (s->cfg.fsync != STORE_FSYNC_NEVER && !s->failing && s->size > s->synced)
        store_sync(s, now_ms);
    if (seq <= durable_end(s) || !s->epoch_saved)
        return;
    if (unlinkat(s->dirfd, STORE_EPOCH_NAME, 0) != 0 && errno != ENOENT) {
        log_msg(LOGL_ERROR, "store %s: removing %s: %s", s->cfg.dir, STORE_EPOCH_NAME,
                strerror(errno));
        return;
    }
    if (s->cfg.fsync != STORE_FSYNC_NEVER)
        fsync(s->dirfd);
    s->epoch_saved = false;
    log_msg(LOGL_WARN,
            "store %s: events sent before they are stored; epoch %s is kept once they are "
            "(a camera stopped before then starts a new epoch)",
            s->cfg.dir, s->epoch);
}

void store_epoch_keep(store_t *s, uint64_t now_ms)
{
    const char *what;

    if (s->epoch_saved || s->failing || s->pend_lines > 0 || s->unsynced_lines > 0)
        return;
    if (epoch_write(s, &what) != 0) {
        store_fail(s, what, errno, now_ms);
        return;
    }
    s->epoch_saved = true;
    log_msg(LOGL_INFO, "store %s: every event sent is stored; epoch %s kept", s->cfg.dir, s->epoch);
}
