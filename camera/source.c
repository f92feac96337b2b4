/* Message generation: a synthetic event every --interval, or one event per
 * stdin line. Events go into the ring; nothing else happens here. */
#include "camera.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eol.h"
#include "rfc3339.h"

/* Things a camera says; one is picked per event, with a sequence number so
 * that every event is distinguishable. */
static const char *const PHRASES[] = {
    "motion detected in zone 1",      "person detected at the front door",
    "vehicle entered the driveway",   "motion detected in zone 2",
    "switched to night mode (IR on)", "lens temperature 41 C",
    "frame rate dropped to 12 fps",   "switched to day mode",
    "audio level above threshold",    "tamper check ok",
};
#define NPHRASES (sizeof(PHRASES) / sizeof(PHRASES[0]))

/* Catching up after a stall emits at most this many events per tick, then
 * the schedule restarts from now: a long stop does not cause a burst. */
#define CATCH_UP_MAX 1000

#define US_PER_S 1000000

/* Stamps `desc` with the current UTC time and keeps it. Stamps strictly
 * increase: a reader's `since=<newest it saw>` then misses nothing pushed
 * later, even within one microsecond or after the wall clock stepped back
 * (stamps then run 1 us apart until the clock catches up). */
static void emit(camera_t *cam, const char *desc, size_t len)
{
    struct timespec ts;
    char stamp[28];
    rfc3339_t when;
    size_t err_at;

    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us = (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
    if (us <= cam->src.last_us)
        us = cam->src.last_us + 1;
    cam->src.last_us = us;
    int64_t sec = us / US_PER_S - (us % US_PER_S < 0); /* floor, also before 1970 */
    rfc3339_format_us(stamp, sec, (unsigned)(us - sec * US_PER_S));
    if (rfc3339_parse(stamp, strlen(stamp), &when, &err_at) != 0) {
        log_msg(LOGL_ERROR, "internal: bad timestamp %s", stamp); /* clock outside 0000..9999 */
        return;
    }
    ring_push(cam->ring, record_new(desc, len, stamp, strlen(stamp), &when));
}

void source_init(camera_t *cam, uint64_t now)
{
    source_t *s = &cam->src;
    memset(s, 0, sizeof(*s));
    s->last_us = INT64_MIN;
    s->next_ms = now + cam->cfg.interval_ms;
    s->stdin_open = cam->cfg.from_stdin;
}

uint64_t source_tick(camera_t *cam, uint64_t now)
{
    source_t *s = &cam->src;
    char desc[128];

    if (cam->cfg.from_stdin)
        return UINT64_MAX;
    for (int n = 0; s->next_ms <= now; n++) {
        if (n == CATCH_UP_MAX) {
            s->next_ms = now + cam->cfg.interval_ms;
            break;
        }
        s->seq++;
        int len = snprintf(desc, sizeof(desc), "#%llu %s", (unsigned long long)s->seq,
                           PHRASES[s->seq % NPHRASES]);
        emit(cam, desc, (size_t)len);
        s->next_ms += cam->cfg.interval_ms;
    }
    return s->next_ms - now;
}

/* Cuts `d` (valid UTF-8) until its record line fits in EOL_LINE_MAX. JSON
 * escaping can make the line up to 6 times longer than the text, and the
 * encoder decides which bytes it escapes: measure the real thing. */
static bool fit_line(buf_t *d)
{
    buf_t enc = BUF_INIT;
    char stamp[28];
    bool cut = false;

    rfc3339_format_us(stamp, 0, 0); /* every stamp has this length */
    for (;;) {
        buf_reset(&enc);
        eol_encode_record(&enc, d->data ? d->data : "", d->len, stamp, strlen(stamp));
        size_t line = enc.len - 1; /* without its "\n" */
        if (line <= EOL_LINE_MAX)
            break;
        /* Scale by the overshoot; a few rounds at most, as escapes vary. */
        size_t n = (size_t)((uint64_t)d->len * EOL_LINE_MAX / line);
        d->len = text_boundary(d->data, d->len, n < d->len ? n : d->len - 1);
        d->data[d->len] = '\0';
        cut = true;
    }
    buf_free(&enc);
    return cut;
}

/* A complete stdin line: repaired, fitted, stamped. Empty lines are skipped. */
static void finish_line(camera_t *cam)
{
    source_t *s = &cam->src;
    buf_t d = BUF_INIT;

    if (s->line.len > 0 && s->line.data[s->line.len - 1] == '\r')
        s->line.len--;
    s->seq++;
    if (s->line.len == 0 && !s->line_dropped)
        goto out;
    if (s->line_dropped) /* the keep-cut may have split a character: not the input's fault */
        s->line.len = text_cut_raw(s->line.data, s->line.len);
    size_t bad = text_repair(&d, s->line.data, s->line.len);
    if (bad)
        log_msg(LOGL_WARN, "stdin line %llu: %zu invalid UTF-8 sequence(s) replaced by U+FFFD",
                (unsigned long long)s->seq, bad);
    if (fit_line(&d) || s->line_dropped)
        log_msg(LOGL_WARN, "stdin line %llu: too long, truncated to %zu bytes",
                (unsigned long long)s->seq, d.len);
    emit(cam, d.data ? d.data : "", d.len);
out:
    buf_free(&d);
    buf_reset(&s->line);
    s->line_dropped = false;
}

/* Adds bytes of the current line, keeping at most SOURCE_LINE_KEEP of them. */
static void add_bytes(source_t *s, const char *p, size_t n)
{
    size_t room = SOURCE_LINE_KEEP - s->line.len;
    if (n > room) {
        n = room;
        s->line_dropped = true;
    }
    buf_append(&s->line, p, n);
}

void source_read_stdin(camera_t *cam)
{
    source_t *s = &cam->src;
    char chunk[16384];
    ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        if (s->line.len > 0 || s->line_dropped)
            finish_line(cam); /* a last line without its newline still counts */
        if (n < 0)
            log_msg(LOGL_ERROR, "stdin: %s; no more events", strerror(errno));
        else
            log_msg(LOGL_INFO, "stdin closed; still serving fetches");
        s->stdin_open = false;
        return;
    }
    for (const char *p = chunk, *end = chunk + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        add_bytes(s, p, (size_t)((nl ? nl : end) - p));
        if (!nl)
            break;
        finish_line(cam);
        p = nl + 1;
    }
}

void source_fini(camera_t *cam)
{
    buf_free(&cam->src.line);
}
