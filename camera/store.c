/* The store's directory, its lock and its segment files: opening, creating,
 * rotating, pruning (docs/CAMERA.md "The store"). */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "camera.h"
#include "log.h"

void store_seg_name(char out[STORE_SEG_NAME_LEN + 1], uint64_t start)
{
    snprintf(out, STORE_SEG_NAME_LEN + 1, "%020" PRIu64 STORE_SEG_SUFFIX, start);
}

void store_seg_add(store_t *s, uint64_t start, uint64_t count)
{
    if (s->nsegs == s->segcap) {
        s->segcap = s->segcap ? 2 * s->segcap : 8;
        s->segs = xrealloc(s->segs, s->segcap * sizeof *s->segs);
    }
    s->segs[s->nsegs++] = (store_seg_t){start, count};
    s->stored += count;
}

uint64_t store_hash(const char *str)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)str; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

int64_t store_stamp_us(const char *ts, const rfc3339_t *w)
{
    int64_t us = 0;
    if (w->leap) /* hh:59:60.x: the next stamp the camera can write after it is hh+1:00:00 */
        return w->sec * 1000000 - 1;
    for (uint32_t i = 0; i < 6; i++) /* digits past the microsecond are cut off */
        us = us * 10 + (i < w->frac_len ? ts[w->frac_off + i] - '0' : 0);
    return w->sec * 1000000 + us;
}

/* A directory entry it just made survives a power cut only once its parent
 * is synced. */
static void sync_parent(const char *dir)
{
    char *copy = xmemdup(dir, strlen(dir));
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        log_msg(LOGL_WARN, "store %s: syncing its parent directory: %s", dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(copy);
}

/* Opens DIR, creating it (0700) when only DIR itself is missing. */
static int open_dir(store_t *s, char *err, size_t n)
{
    const char *d = s->cfg.dir;
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT) {
        if (mkdir(d, 0700) != 0) {
            snprintf(err, n, "--store %.200s: %s", d,
                     errno == ENOENT ? "its parent directory does not exist" : strerror(errno));
            return -1;
        }
        sync_parent(d);
        fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(err, n, "--store %.200s: %s", d,
                 errno == ENOTDIR ? "not a directory" : strerror(errno));
        return -1;
    }
    s->dirfd = fd;
    if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        snprintf(err, n, "--store %.200s: not writable: %s", d, strerror(errno));
        return -1;
    }
    return 0;
}

/* One camera per directory: an exclusive flock on DIR/lock, which holds the
 * owner's pid for the message a second camera prints. */
static int lock_dir(store_t *s, char *err, size_t n)
{
    char pid[32] = "";
    int fd = openat(s->dirfd, STORE_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        snprintf(err, n, "--store %.200s: %s: %s", s->cfg.dir, STORE_LOCK_NAME, strerror(errno));
        return -1;
    }
    s->lockfd = fd;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        ssize_t r = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[r > 0 ? r : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            snprintf(err, n, "--store %.200s: in use by another camera (pid %s)", s->cfg.dir,
                     pid[0] ? pid : "unknown");
        else
            snprintf(err, n, "--store %.200s: lock: %s", s->cfg.dir, strerror(e));
        return -1;
    }
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* only the message of a second camera needs it */
    }
    return 0;
}

/* Appends to the last segment if it has room, else starts one: a DIR where
 * no file can be made fails here, at start. */
static int open_last(store_t *s, char *err, size_t n)
{
    char name[STORE_SEG_NAME_LEN + 1];
    struct stat st;

    if (s->nsegs > 0 && s->segs[s->nsegs - 1].count < s->seg_max) {
        store_seg_name(name, s->segs[s->nsegs - 1].start);
        s->fd = openat(s->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (s->fd >= 0 && fstat(s->fd, &st) == 0) {
            s->size = s->synced = (uint64_t)st.st_size;
            return 0;
        }
    } else {
        const char *what = NULL;
        if (store_rotate(s, clock_ms(), &what) == 0)
            return 0;
        snprintf(name, sizeof(name), "%s", what ? what : "sync");
    }
    snprintf(err, n, "--store %.200s: %s: %s", s->cfg.dir, name, strerror(errno));
    return -1;
}

/* Frees everything; closing the lock file releases the lock. */
static void store_free(store_t *s)
{
    int fds[] = {s->fd, s->posfd, s->lockfd, s->dirfd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (fds[i] >= 0)
            close(fds[i]);
    }
    buf_free(&s->pend);
    buf_free(&s->unsynced);
    free(s->segs);
    free(s);
}

static const char *fsync_name(const store_cfg_t *c, char *tmp, size_t n)
{
    if (c->fsync == STORE_FSYNC_ALWAYS)
        return "always";
    if (c->fsync == STORE_FSYNC_NEVER)
        return "never";
    snprintf(tmp, n, "%.3fs", (double)c->fsync_ms / 1000);
    return tmp;
}

store_t *store_open(const store_cfg_t *cfg, ring_t *ring, char *err, size_t errlen)
{
    store_t *s = xcalloc(1, sizeof *s);
    uint64_t t0 = clock_ms();
    char tmp[32];

    s->cfg = *cfg;
    s->dirfd = s->lockfd = s->posfd = s->fd = -1;
    s->seg_max = cfg->retain / 4 + (cfg->retain % 4 != 0);
    s->last_us = INT64_MIN;
    if (open_dir(s, err, errlen) != 0 || lock_dir(s, err, errlen) != 0 ||
        store_recover(s, ring, err, errlen) != 0 || open_last(s, err, errlen) != 0 ||
        store_epoch_load(s, err, errlen) != 0) {
        store_free(s);
        return NULL;
    }
    store_pos_load(s);
    store_prune(s);
    log_msg(LOGL_INFO,
            "store %s: %zu events recovered from %zu segment(s) in %" PRIu64
            " ms; fsync %s; epoch %s, next event %" PRIu64,
            cfg->dir, ring_count(ring), s->nsegs, clock_ms() - t0,
            fsync_name(cfg, tmp, sizeof(tmp)), s->epoch, store_seq(s) + 1);
    return s;
}

/* A new last segment is named after s->next, its first event's index. */
int store_rotate(store_t *s, uint64_t now_ms, const char **what)
{
    static char failed[STORE_SEG_NAME_LEN + 16];
    char name[STORE_SEG_NAME_LEN + 1];

    *what = NULL;
    if (s->fd >= 0) {
        if (s->cfg.fsync != STORE_FSYNC_NEVER && store_sync(s, now_ms) != 0)
            return -1; /* reported by store_sync */
        close(s->fd);
        s->fd = -1;
    }
    if (s->nsegs > 0 && s->segs[s->nsegs - 1].count == 0) { /* left empty: replaced */
        store_seg_name(name, s->segs[--s->nsegs].start);
        unlinkat(s->dirfd, name, 0);
    }
    store_seg_name(name, s->next);
    int fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(failed, sizeof(failed), "create %s", name);
        *what = failed;
        return -1;
    }
    s->fd = fd;
    s->size = s->synced = 0;
    store_seg_add(s, s->next, 0);
    s->force_rotate = false;
    s->dir_dirty = true;
    if (s->dirty_ms == 0)
        s->dirty_ms = now_ms ? now_ms : 1;
    return 0;
}

void store_prune(store_t *s)
{
    char name[STORE_SEG_NAME_LEN + 1];

    while (s->nsegs > 1 && s->stored - s->segs[0].count >= s->cfg.retain) {
        store_seg_name(name, s->segs[0].start);
        if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT)
            log_msg(LOGL_WARN, "store %s: removing %s: %s", s->cfg.dir, name, strerror(errno));
        s->stored -= s->segs[0].count;
        memmove(s->segs, s->segs + 1, --s->nsegs * sizeof *s->segs);
    }
}

int64_t store_last_us(const store_t *s)
{
    return s->last_us;
}

uint64_t store_seq(const store_t *s)
{
    return s->next + s->pend_lines;
}

int store_saved_pos(const store_t *s, store_pos_t *out)
{
    if (!s->pos_have_saved)
        return -1;
    *out = s->pos_saved;
    return 0;
}

void store_close(store_t *s)
{
    if (s == NULL)
        return;
    uint64_t now = clock_ms();
    s->failing = false; /* one last attempt, now */
    store_flush(s, now);
    if (s->cfg.fsync != STORE_FSYNC_NEVER && !s->failing)
        store_sync(s, now);
    store_pos_save(s, now);
    store_epoch_keep(s, now);
    if (s->posfd >= 0 && s->cfg.fsync != STORE_FSYNC_NEVER)
        fdatasync(s->posfd);
    log_msg(LOGL_INFO,
            "store %s: closed; %" PRIu64 " events appended, %" PRIu64 " writes, %" PRIu64
            " syncs, %" PRIu64 " failed attempts, %" PRIu64 " never stored",
            s->cfg.dir, s->appended, s->writes, s->syncs, s->fails, s->dropped + s->pend_lines);
    store_free(s);
}
