/* --source file:PATH: follows a file the way `tail -F` does. Appends are
 * read as they come; a new file at PATH (rotation by rename, or delete and
 * create) is read from its start once the old one is read to its end; a
 * file that shrinks (truncation) is read again from its start. Wake-ups
 * come from inotify on PATH's directory (one fd in the loop), with a slow
 * re-check as a safety net, or a 1 s poll where inotify is not available.
 * With --store, the position is saved in the store (store_note_pos) and a
 * restarted camera resumes there (docs/CAMERA.md "File source"). */
#include "camera.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define FOLLOW_POLL_MS 1000    /* without inotify */
#define FOLLOW_SAFETY_MS 5000  /* with inotify: a re-check now and then all the same */
#define FOLLOW_BATCH (1 << 20) /* bytes per loop turn while catching up */
#define WATCH_MASK                                                                                 \
    (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE |            \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct follow {
    char *path;       /* as given */
    char *dir, *base; /* PATH's directory (resolved) and name */
    uint64_t path_hash;
    int fd; /* the file being read, or -1 */
    uint64_t dev, ino;
    int ifd, wd;   /* inotify instance and its watch on dir, or -1 */
    bool rewatch;  /* the watch went away (dir moved or removed) */
    bool more;     /* a batch ran out before the end: read on at once */
    bool told;     /* "not there yet" or a read error was logged */
    bool detached; /* PATH is gone while its old file is still read: any write counts */
    uint64_t due_ms;
    uint64_t noted_ino, noted_off, noted_seq; /* the position last given to the store */
};

static void watch(struct follow *f)
{
    if (f->ifd < 0)
        return;
    if (f->wd >= 0)
        inotify_rm_watch(f->ifd, f->wd);
    f->wd = inotify_add_watch(f->ifd, f->dir, WATCH_MASK);
    f->rewatch = false;
    if (f->wd < 0)
        log_msg(LOGL_WARN, "%s: inotify on %s: %s; checking every %d ms instead", f->path, f->dir,
                strerror(errno), FOLLOW_POLL_MS);
}

/* Tells the store where the source is. The events it counts are those
 * made so far, less those still to be left out after a restart: they were
 * made from lines after this point. Compared on the count too: a file read
 * again after a truncation comes back to offsets noted before. */
static void note(camera_t *cam, struct follow *f, bool at_once)
{
    lines_t *l = &cam->src.in;
    if (cam->store == NULL)
        return;
    uint64_t seq = store_seq(cam->store) - cam->src.skip;
    if (!at_once && f->noted_ino == f->ino && f->noted_off == l->start && f->noted_seq == seq)
        return;
    store_pos_t p = {.seq = seq,
                     .dev = f->dev,
                     .ino = f->ino,
                     .offset = l->start,
                     .line = l->seq,
                     .path_hash = f->path_hash};
    store_note_pos(cam->store, &p, at_once, clock_ms());
    f->noted_ino = f->ino;
    f->noted_off = l->start;
    f->noted_seq = seq;
}

/* Reads on to the end of the file, at most FOLLOW_BATCH bytes. Returns
 * true when it got to the end. */
static bool drain(camera_t *cam, struct follow *f)
{
    char chunk[65536];
    size_t got = 0;
    bool end = false;

    while (!end && got < FOLLOW_BATCH) {
        ssize_t n = read(f->fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && !f->told)
            log_msg(LOGL_WARN, "%s: read: %s", f->path, strerror(errno));
        f->told |= n < 0;
        end = n <= 0;
        if (n > 0) {
            lines_feed(cam, chunk, (size_t)n);
            got += (size_t)n;
        }
    }
    f->more = !end;
    note(cam, f, false);
    return end;
}

/* Opens `name` (PATH, or PATH's old file found by its inode) at `off`. */
static int open_at(camera_t *cam, struct follow *f, const char *name, uint64_t off, uint64_t line)
{
    struct stat st;
    int fd = open(name, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0 || lseek(fd, (off_t)off, SEEK_SET) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    f->fd = fd;
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    f->told = false;
    lines_init(&cam->src.in, f->path, off, line);
    return 0;
}

/* Opens PATH at its start. With a store, that base position is saved at
 * once (if nothing is queued): until the first periodic save a crash would
 * otherwise read the file from its start again, on top of what is stored. */
static int open_start(camera_t *cam, struct follow *f)
{
    if (open_at(cam, f, f->path, 0, 0) != 0)
        return -1;
    note(cam, f, true);
    return 0;
}

/* The file shrank under us: read it again from its start. */
static bool truncated(camera_t *cam, struct follow *f)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0 || (uint64_t)st.st_size >= cam->src.in.off)
        return false;
    log_msg(LOGL_INFO,
            "%s: truncated (%lld bytes, was read to %" PRIu64 "); reading it from its start",
            f->path, (long long)st.st_size, cam->src.in.off);
    if (lseek(f->fd, 0, SEEK_SET) < 0)
        return false;
    lines_init(&cam->src.in, f->path, 0, 0); /* a line cut by the truncation is gone */
    note(cam, f, true);                      /* the saved offset may be past the new end */
    return true;
}

/* Reads what is new, then looks for truncation and for a new file at PATH. */
static void check(camera_t *cam, struct follow *f)
{
    struct stat st;

    if (f->fd >= 0 && (!drain(cam, f) || (truncated(cam, f) && !drain(cam, f))))
        return; /* more next turn */
    if (stat(f->path, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (f->fd < 0 && !f->told)
            log_msg(LOGL_INFO, "%s: %s; waiting for it", f->path, strerror(errno));
        f->told = f->fd < 0;
        f->detached = f->fd >= 0;
        return; /* gone: keep the old file, as tail -F does, until a new one comes */
    }
    if (f->fd >= 0 && (uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino)
        return;
    if (f->fd >= 0) {
        if (!drain(cam, f))
            return;     /* the old file's last lines first */
        lines_end(cam); /* its last line, even without a newline: it will not grow now */
        close(f->fd);
        f->fd = -1;
        log_msg(LOGL_INFO, "%s: a new file (rotated); reading it from its start", f->path);
    }
    if (open_start(cam, f) == 0) {
        f->detached = false;
        drain(cam, f);
    } else if (!f->told) {
        log_msg(LOGL_WARN, "%s: %s; trying again", f->path, strerror(errno));
        f->told = true;
    }
}

/* PATH's old file, found in PATH's directory by its inode (a rotation
 * while the camera was down renamed it), as a path to free, or NULL. */
static char *find_inode(const struct follow *f, uint64_t dev, uint64_t ino)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    struct stat st;
    char *found = NULL;

    while (d && found == NULL && (e = readdir(d)) != NULL) {
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino) {
            found = xmalloc(strlen(f->dir) + strlen(e->d_name) + 2);
            sprintf(found, "%s/%s", f->dir, e->d_name);
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* Where the last run stopped. Lines after the saved position are read
 * again, and the events they make are skipped while they are ones the
 * store already holds (cam->src.skip). */
static int resume(camera_t *cam, struct follow *f, const store_pos_t *p)
{
    uint64_t stored = store_seq(cam->store);
    struct stat st;
    char *name = NULL;

    if (stat(f->path, &st) == 0 && (uint64_t)st.st_dev == p->dev && (uint64_t)st.st_ino == p->ino)
        name = xmemdup(f->path, strlen(f->path));
    else
        name = find_inode(f, p->dev, p->ino);
    if (name == NULL || stat(name, &st) != 0 || (uint64_t)st.st_size < p->offset) {
        log_msg(LOGL_WARN, "%s: the file read before the restart is %s; reading %s from its start",
                f->path, name ? "shorter now" : "gone", f->path);
        free(name);
        return -1;
    }
    if (stored < p->seq)
        log_msg(LOGL_WARN, "%s: the store lacks %" PRIu64 " event(s) read before the restart",
                f->path, p->seq - stored);
    cam->src.skip = stored > p->seq ? stored - p->seq : 0;
    int rc = open_at(cam, f, name, p->offset, p->line);
    bool moved = strcmp(name, f->path) != 0;
    if (rc == 0)
        log_msg(LOGL_INFO,
                "%s: resuming %s%s%sat offset %" PRIu64 " (line %" PRIu64 "); the next %" PRIu64
                " event(s) are stored already",
                f->path, moved ? "in its rotated file " : "", moved ? name : "", moved ? " " : "",
                p->offset, p->line, cam->src.skip);
    free(name);
    return rc;
}

int follow_validate(const char *path, char *err)
{
    char *copy = xmemdup(path, strlen(path));
    char real[PATH_MAX];
    struct stat st;
    int rc = -1;

    if (realpath(dirname(copy), real) == NULL)
        snprintf(err, FLAGS_ERRLEN, "--source file:%.100s: its directory: %s", path,
                 strerror(errno));
    else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        snprintf(err, FLAGS_ERRLEN, "--source file:%.100s: not a regular file", path);
    else if (access(path, R_OK) != 0 && errno != ENOENT)
        snprintf(err, FLAGS_ERRLEN, "--source file:%.100s: %s", path, strerror(errno));
    else
        rc = 0;
    free(copy);
    return rc;
}

/* PATH's directory, resolved (inotify and the search by inode use it), and
 * PATH's name in it. */
static int split_path(struct follow *f, char *err)
{
    char *copy = xmemdup(f->path, strlen(f->path)), *copy2 = xmemdup(f->path, strlen(f->path));
    char real[PATH_MAX];
    int rc = follow_validate(f->path, err);

    if (rc == 0 && realpath(dirname(copy), real) != NULL) {
        f->dir = xmemdup(real, strlen(real));
        f->base = xmemdup(basename(copy2), strlen(basename(copy2)));
    } else if (rc == 0) {
        snprintf(err, FLAGS_ERRLEN, "--source file:%.100s: its directory: %s", f->path,
                 strerror(errno));
        rc = -1;
    }
    free(copy);
    free(copy2);
    return rc;
}

int follow_open(camera_t *cam, char *err)
{
    struct follow *f = xcalloc(1, sizeof *f);
    store_pos_t p;

    cam->src.follow = f;
    f->path = xmemdup(cam->cfg.follow_path, strlen(cam->cfg.follow_path));
    f->fd = f->wd = f->ifd = -1;
    if (split_path(f, err) != 0)
        return -1;
    char *full = xmalloc(strlen(f->dir) + strlen(f->base) + 2);
    sprintf(full, "%s/%s", f->dir, f->base); /* the same file whatever the cwd */
    f->path_hash = store_hash(full);
    free(full);
    f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (f->ifd < 0)
        log_msg(LOGL_WARN, "%s: inotify: %s; checking every %d ms instead", f->path,
                strerror(errno), FOLLOW_POLL_MS);
    watch(f);
    f->noted_ino = UINT64_MAX;
    bool saved = cam->store && store_saved_pos(cam->store, &p) == 0;
    if (saved && p.path_hash != f->path_hash)
        log_msg(LOGL_INFO, "%s: the store's position is another file's; reading from its start",
                f->path);
    if (!(saved && p.path_hash == f->path_hash && resume(cam, f, &p) == 0)) {
        cam->src.skip = 0;  /* nothing read before is read again */
        open_start(cam, f); /* or wait for it: check() says so */
    }
    check(cam, f);
    return 0;
}

int follow_fd(const camera_t *cam)
{
    const struct follow *f = cam->src.follow;
    return f && f->wd >= 0 ? f->ifd : -1;
}

void follow_on_fd(camera_t *cam)
{
    struct follow *f = cam->src.follow;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool relevant = false;
    ssize_t n;

    while ((n = read(f->ifd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
                f->rewatch = true; /* re-made at the next tick */
            /* Writes to the renamed old file show under its new name. */
            if ((ev->mask & IN_Q_OVERFLOW) || f->rewatch ||
                (f->detached && (ev->mask & IN_MODIFY)) ||
                (ev->len && strcmp(ev->name, f->base) == 0))
                relevant = true;
            p += sizeof(*ev) + ev->len;
        }
    }
    if (f->rewatch)
        f->due_ms = 0;
    if (relevant)
        check(cam, f);
}

uint64_t follow_tick(camera_t *cam, uint64_t now)
{
    struct follow *f = cam->src.follow;

    if (f == NULL)
        return UINT64_MAX;
    if (f->more) {
        check(cam, f);
    } else if (now >= f->due_ms) {
        if (f->rewatch)
            watch(f);
        check(cam, f);
        f->due_ms = now + (f->wd >= 0 ? FOLLOW_SAFETY_MS : FOLLOW_POLL_MS);
    }
    return f->more ? 0 : f->due_ms - now;
}

void follow_close(camera_t *cam)
{
    struct follow *f = cam->src.follow;

    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->ifd >= 0)
        close(f->ifd);
    free(f->path);
    free(f->dir);
    free(f->base);
    free(f);
    cam->src.follow = NULL;
}
