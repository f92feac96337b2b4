/* Message generation: a synthetic event every --interval, or one event per
 * input line (stdin here, a followed file in follow.c, both cut into lines
 * by lines.c). Events go into the ring and the store; nothing else happens
 * here. */
#include "camera.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eol.h"
#include "log.h"
#include "rfc3339.h"
#include "store.h"

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

/* Bytes of stdin taken in one go when more keeps coming. */
#define STDIN_BATCH (256 << 10)

/* Every event goes to the ring and, with --store, to the store. After a
 * restart that re-reads a file from its saved position, the events stored
 * since that position are already in both: they are left out. */
static bool keep(camera_t *cam, record_t *rec)
{
    if (cam->src.skip > 0) {
        cam->src.skip--;
        free(rec);
        return false;
    }
    rec->seq = source_next_seq(cam);
    if (cam->store)
        store_append(cam->store, rec); /* the store's index: seq - 1 */
    else
        cam->next_seq++;
    ring_push(cam->ring, rec);
    return true;
}

uint64_t source_next_seq(const camera_t *cam)
{
    return cam->store ? store_seq(cam->store) + 1 : cam->next_seq;
}

/* Stamps `desc` with the current UTC time and keeps it. Stamps strictly
 * increase: a reader's `since=<newest it saw>` then misses nothing pushed
 * later, even within one microsecond or after the wall clock stepped back
 * (stamps then run 1 us apart until the clock catches up). With --store the
 * newest stored stamp is the floor, so this holds across restarts too. */
void source_emit_text(camera_t *cam, const char *desc, size_t len)
{
    struct timespec ts;
    char stamp[28];
    rfc3339_t when;
    size_t err_at;

    if (cam->src.skip > 0) { /* not stamped: it must not move last_us */
        cam->src.skip--;
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us = (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
    if (us <= cam->src.last_us)
        us = cam->src.last_us + 1;
    int64_t sec = us / US_PER_S - (us % US_PER_S < 0); /* floor, also before 1970 */
    rfc3339_format_us(stamp, sec, (unsigned)(us - sec * US_PER_S));
    if (rfc3339_parse(stamp, strlen(stamp), &when, &err_at) != 0) {
        log_msg(LOGL_ERROR, "internal: bad timestamp %s", stamp); /* clock outside 0000..9999 */
        return;
    }
    cam->src.last_us = us;
    keep(cam, record_new(desc, len, stamp, strlen(stamp), &when));
}

void source_emit_record(camera_t *cam, record_t *rec)
{
    keep(cam, rec);
}

int source_init(camera_t *cam, uint64_t now, char *err)
{
    source_t *s = &cam->src;
    memset(s, 0, sizeof(*s));
    s->last_us = cam->store ? store_last_us(cam->store) : INT64_MIN;
    s->next_ms = now + cam->cfg.interval_ms;
    s->stdin_open = cam->cfg.from_stdin;
    lines_init(&s->in, "stdin", 0, 0);
    return cam->cfg.follow_path ? follow_open(cam, err) : 0;
}

uint64_t source_tick(camera_t *cam, uint64_t now)
{
    source_t *s = &cam->src;
    char desc[128];

    if (cam->cfg.from_stdin || cam->cfg.follow_path)
        return UINT64_MAX;
    for (int n = 0; s->next_ms <= now; n++) {
        if (n == CATCH_UP_MAX) {
            s->next_ms = now + cam->cfg.interval_ms;
            break;
        }
        s->seq++;
        int len = snprintf(desc, sizeof(desc), "#%llu %s", (unsigned long long)s->seq,
                           PHRASES[s->seq % NPHRASES]);
        source_emit_text(cam, desc, (size_t)len);
        s->next_ms += cam->cfg.interval_ms;
    }
    return s->next_ms - now;
}

/* Whether stdin has more right now (stdin stays blocking: its file
 * description may be shared with the terminal or parent). */
static bool stdin_ready(void)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* Reads what stdin has, up to STDIN_BATCH bytes: a burst becomes one batch,
 * written and synced once by the store. */
void source_read_stdin(camera_t *cam)
{
    source_t *s = &cam->src;
    char chunk[65536];

    for (size_t got = 0; got < STDIN_BATCH;) {
        ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return;
        if (n <= 0) {
            lines_end(cam); /* a last line without its newline still counts */
            if (n < 0)
                log_msg(LOGL_ERROR, "stdin: %s; no more events", strerror(errno));
            else
                log_msg(LOGL_INFO, "stdin closed; still serving fetches");
            s->stdin_open = false;
            return;
        }
        lines_feed(cam, chunk, (size_t)n);
        got += (size_t)n;
        if (!stdin_ready())
            return;
    }
}

void source_fini(camera_t *cam)
{
    follow_close(cam);
    eol_decoder_free(cam->src.dec);
    cam->src.dec = NULL;
    buf_free(&cam->src.in.line);
}
