/* Reading the store back at start: every segment, oldest first, line by line
 * through the generated EOL decoder (eol_decode_line) into the ring. A torn
 * last line is cut off; a corrupt line is reported and skipped; the camera
 * always starts (docs/CAMERA.md "Recovery"). */
#define _GNU_SOURCE /* memrchr */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eol.h"
#include "log.h"

/* Corrupt lines reported one by one per segment; the rest are counted. */
#define REPORT_MAX 10

typedef struct reader {
    store_t *s;
    ring_t *ring;
    eol_decoder_t *dec;
    record_t *rec; /* what on_record made of the line being decoded */
} reader_t;

static void on_record(void *ctx, const eol_record_t *r)
{
    reader_t *rd = ctx;
    rd->rec =
        record_new(r->description, r->description_len, r->timestamp, r->timestamp_len, &r->when);
}

static int by_start(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The start index of a segment named "<20 digits>.eol", or -1 for any
 * other name (other files in DIR are left alone). */
static int seg_start(const char *name, uint64_t *start)
{
    if (strlen(name) != STORE_SEG_NAME_LEN || strcmp(name + 20, STORE_SEG_SUFFIX) != 0)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *start = v;
    return 0;
}

/* The segments' start indexes, ascending. Returns 0, or -1 with err. */
static int list_segments(store_t *s, uint64_t **out, size_t *n, char *err, size_t errlen)
{
    int fd = dup(s->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    size_t cap = 0;
    struct dirent *e;

    *out = NULL;
    *n = 0;
    if (d == NULL) {
        snprintf(err, errlen, "--store %.200s: %s", s->cfg.dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        uint64_t start;
        if (seg_start(e->d_name, &start) != 0)
            continue;
        if (*n == cap)
            *out = xrealloc(*out, (cap = cap ? 2 * cap : 16) * sizeof **out);
        (*out)[(*n)++] = start;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, by_start);
    return 0;
}

/* Decodes the complete lines map[0..end) of the segment whose first event
 * has index `start` (a line's number is its index plus one, also after a
 * corrupt line is skipped); returns how many lines there were. */
static uint64_t decode_lines(reader_t *rd, const char *name, uint64_t start, const char *map,
                             size_t end)
{
    uint64_t line = 0, bad = 0;

    for (const char *p = map, *e = map + end; p < e; line++) {
        const char *nl = memchr(p, '\n', (size_t)(e - p)); /* e follows a '\n' */
        size_t len = (size_t)(nl - p) + 1;
        if (eol_decode_line(rd->dec, p, len, line + 1, (uint64_t)(p - map)) == 0) {
            rd->rec->seq = start + line + 1;
            ring_push(rd->ring, rd->rec);
        } else if (++bad <= REPORT_MAX) {
            const eol_error_t *er = eol_error(rd->dec);
            log_msg(LOGL_WARN, "store %s/%s line %" PRIu64 " offset %" PRIu64 ": %s; line skipped",
                    rd->s->cfg.dir, name, er->line, er->offset, er->reason);
        }
        rd->rec = NULL;
        p = nl + 1;
    }
    if (bad > REPORT_MAX)
        log_msg(LOGL_WARN, "store %s/%s: %" PRIu64 " more corrupt lines skipped", rd->s->cfg.dir,
                name, bad - REPORT_MAX);
    return line;
}

/* A power cut in the middle of a write leaves part of a line (or zeros)
 * after the last line ending: cut back to it. */
static int cut_torn(store_t *s, int fd, const char *name, uint64_t end, uint64_t size,
                    uint64_t lines)
{
    if (ftruncate(fd, (off_t)end) != 0)
        return -1;
    log_msg(LOGL_WARN,
            "store %s/%s: torn last line (%" PRIu64 " bytes at offset %" PRIu64 ", line %" PRIu64
            ") cut off",
            s->cfg.dir, name, size - end, end, lines + 1);
    return 0;
}

/* Reads one segment into the ring; the torn tail is cut, and what is
 * recovered is synced (an earlier run may have died before its sync).
 * Returns 0, or -1 with err. */
static int read_segment(reader_t *rd, uint64_t start, char *err, size_t errlen)
{
    store_t *s = rd->s;
    char name[STORE_SEG_NAME_LEN + 1];
    struct stat st;
    const char *map = NULL;
    int rc = -1;

    store_seg_name(name, start);
    int fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0)
        goto out;
    size_t size = (size_t)st.st_size;
    if (size > 0 && (map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        goto out;
    if (size > 0)
        madvise((void *)map, size, MADV_SEQUENTIAL);
    const char *nl = size > 0 ? memrchr(map, '\n', size) : NULL;
    size_t end = nl ? (size_t)(nl - map) + 1 : 0;
    uint64_t lines = decode_lines(rd, name, start, map, end);
    if (end < size && cut_torn(s, fd, name, end, size, lines) != 0)
        goto out;
    if (s->cfg.fsync != STORE_FSYNC_NEVER && size > 0 && fdatasync(fd) != 0)
        goto out;
    store_seg_add(s, start, lines);
    s->next = start + lines;
    rc = 0;
out:
    if (rc != 0)
        snprintf(err, errlen, "--store %.200s: %s: %s", s->cfg.dir, name, strerror(errno));
    if (map && map != MAP_FAILED)
        munmap((void *)map, size);
    if (fd >= 0)
        close(fd);
    return rc;
}

int store_recover(store_t *s, ring_t *ring, char *err, size_t errlen)
{
    uint64_t *starts;
    size_t n;
    reader_t rd = {.s = s, .ring = ring};
    int rc = 0;

    if (list_segments(s, &starts, &n, err, errlen) != 0)
        return -1;
    if (n > 0)
        rd.dec = eol_decoder_new(on_record, &rd);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = read_segment(&rd, starts[i], err, errlen);
    if (n > 0 && s->cfg.fsync != STORE_FSYNC_NEVER && rc == 0)
        fsync(s->dirfd); /* a cut or a file an earlier run made */
    eol_decoder_free(rd.dec);
    free(starts);
    size_t count = ring_count(ring);
    if (count > 0) {
        const record_t *last = ring_get(ring, count - 1);
        s->last_us = store_stamp_us(record_ts(last), &last->when);
    }
    return rc;
}
