/* A follow upload's body (PROTOCOL.md 1.2, the wake-up's "follow":S;
 * docs/CAMERA.md "Follow uploads"): a chunked EOL stream of the events the
 * wake-up selected, then each event made later, written as soon as it is
 * durable, until S seconds after the wake-up (or an earlier end: a signal,
 * a newer wake-up, --max-body), then its `EOL <count>` line.
 * curl pulls the bytes with stream_read (CURLOPT_READFUNCTION, no
 * POSTFIELDSIZE: chunked); with nothing to give it pauses the transfer
 * (CURL_READFUNC_PAUSE), and the loop resumes it with curl_easy_pause
 * (stream_feed, stream_tick) once there is an event or the end. Nothing is
 * copied ahead of curl: events are encoded from the ring as curl asks,
 * found by number, so a stream holds at most one batch of lines. Every
 * attempt (the first and each retry, spec/retry.rl) starts over: the
 * selection, then every event made since the wake-up, then live until the
 * window's end. */
#include "camera.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eol.h"
#include "store.h"

/* Lines encoded per refill at most: bounds the stream's own buffer. */
#define STREAM_BATCH_BYTES (64 << 10)
/* Times an attempt is resumed for bytes from the api (TLS 1.3 sends two
 * session tickets, maybe apart) before those bytes end it. */
#define STREAM_NUDGES_MAX 8

struct stream {
    camera_t *cam;
    CURL *easy;               /* the attempt's transfer (set by stream_prepare) */
    const buf_t *head;        /* the selection's record lines (the upload's body) */
    uint64_t head_count;      /* records in head */
    uint64_t live_from;       /* the first number made after the wake-up */
    uint64_t end_ms;          /* the window's end (monotonic) */
    const char *why;          /* why it ends: NULL while it is live */
    size_t head_off;          /* bytes of head given to curl in this attempt */
    buf_t pend;               /* encoded lines not given to curl yet */
    size_t pend_off;          /* of which given */
    uint64_t next_seq;        /* the next live event to encode */
    uint64_t ready;           /* live events numbered up to this may go out */
    uint64_t count, bytes;    /* records and bytes encoded in this attempt */
    bool eol;                 /* the EOL line is encoded: nothing follows it */
    bool full;                /* --max-body reached: no more events */
    bool paused;              /* the read callback paused the transfer */
    int fds[2];               /* sockets curl opened for this attempt (-1: none) */
    unsigned nudges;          /* resumed for bytes from the api, in this attempt */
    char peeked[STREAM_PEEK]; /* what those bytes began with */
    size_t npeeked;
};

stream_t *stream_new(camera_t *cam, const buf_t *head, uint64_t head_count, uint64_t live_from,
                     uint64_t end_ms)
{
    stream_t *st = xcalloc(1, sizeof(*st));
    st->cam = cam;
    st->head = head;
    st->head_count = head_count;
    st->live_from = live_from;
    st->end_ms = end_ms;
    st->fds[0] = st->fds[1] = -1;
    return st;
}

void stream_free(stream_t *st)
{
    if (st == NULL)
        return;
    buf_free(&st->pend);
    free(st);
}

uint64_t stream_count(const stream_t *st)
{
    return st->count;
}

/* CURLINFO_ACTIVESOCKET says nothing during a transfer (curl 7.88 knows
 * it only after one), so each attempt has a connection of its own
 * (CURLOPT_FRESH_CONNECT) whose socket it opens here. Happy eyeballs may
 * open two; the one curl closes is forgotten. */
static curl_socket_t on_open(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    stream_t *st = ctx;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    (void)purpose;
    if (fd >= 0)
        st->fds[st->fds[0] < 0 ? 0 : 1] = fd;
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int on_close(void *ctx, curl_socket_t fd)
{
    stream_t *st = ctx;
    for (int i = 0; i < 2; i++)
        if (st->fds[i] == fd)
            st->fds[i] = -1;
    return close(fd);
}

int stream_watch_fd(stream_t *st)
{
    if (!st->paused || st->why != NULL || (st->fds[0] >= 0 && st->fds[1] >= 0))
        return -1; /* not waiting, or which socket is not known */
    return st->fds[0] >= 0 ? st->fds[0] : st->fds[1];
}

const char *stream_why(const stream_t *st)
{
    return st->why ? st->why : "live";
}

/* The newest event that may go on the wire: with --store only a durable
 * one (written, and synced unless --fsync never: store_durable syncs now
 * if need be); none while the store is failing. */
static uint64_t newest_ready(stream_t *st, uint64_t now)
{
    uint64_t newest = source_next_seq(st->cam) - 1;
    if (newest < st->next_seq)
        return newest;
    return st->cam->store ? store_durable(st->cam->store, newest, now) : newest;
}

/* Starts the attempt over from its first byte: a retry whose window has
 * passed sends what was made since the wake-up, then its EOL line. */
static void rewind_all(stream_t *st, uint64_t now)
{
    st->head_off = 0;
    buf_reset(&st->pend);
    st->pend_off = 0;
    st->next_seq = st->live_from;
    st->count = st->head_count;
    st->bytes = st->head->len;
    st->eol = false;
    st->full = false;
    st->paused = false;
    st->nudges = 0;
    st->npeeked = 0;
    st->why = now >= st->end_ms ? "its window had passed" : NULL;
    st->ready = newest_ready(st, now);
}

/* The ring index of the first event numbered `seq` or later. */
static size_t ring_from(const ring_t *ring, uint64_t seq)
{
    size_t lo = 0, hi = ring_count(ring);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_get(ring, mid)->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Encodes ready events after the last one encoded, while they fit
 * --max-body with the EOL line still to come (else the stream ends). */
static void refill_live(stream_t *st)
{
    const ring_t *ring = st->cam->ring;
    char end[32];

    for (size_t i = ring_from(ring, st->next_seq); i < ring_count(ring); i++) {
        const record_t *r = ring_get(ring, i);
        if (r->seq > st->ready || st->pend.len >= STREAM_BATCH_BYTES)
            return;
        size_t before = st->pend.len;
        eol_encode_record_seq(&st->pend, r->description, r->description_len, record_ts(r),
                              r->timestamp_len, r->seq);
        size_t len = st->pend.len - before;
        size_t end_len =
            (size_t)snprintf(end, sizeof(end), "EOL %llu\n", (unsigned long long)st->count + 1);
        if (st->bytes + len + end_len > st->cam->cfg.max_body) {
            st->pend.len = before; /* sent by the next fetch */
            st->full = true;
            if (st->why == NULL)
                st->why = "--max-body reached";
            return;
        }
        st->bytes += len;
        st->count++;
        st->next_seq = r->seq + 1;
    }
}

/* Refills pend (taken to its end): live events, or the EOL line once the
 * stream ends and every event before its end is out. */
static void refill(stream_t *st)
{
    buf_reset(&st->pend);
    st->pend_off = 0;
    if (st->eol)
        return;
    if (!st->full)
        refill_live(st); /* also once ending: what was ready goes first */
    if (st->pend.len == 0 && st->why != NULL) {
        eol_encode_end(&st->pend, st->count);
        st->eol = true;
    }
}

static size_t take(char *dst, size_t room, const char *src, size_t avail, size_t *off)
{
    size_t n = avail - *off < room ? avail - *off : room;
    memcpy(dst, src + *off, n);
    *off += n;
    return n;
}

size_t stream_read(char *dst, size_t size, size_t nitems, void *ctx)
{
    stream_t *st = ctx;
    size_t room = size * nitems, got = 0;

    while (got < room) {
        if (st->head_off < st->head->len) {
            got += take(dst + got, room - got, st->head->data, st->head->len, &st->head_off);
            continue;
        }
        if (st->pend_off == st->pend.len)
            refill(st);
        if (st->pend_off == st->pend.len)
            break;
        got += take(dst + got, room - got, st->pend.data, st->pend.len, &st->pend_off);
    }
    if (got > 0)
        return got;
    if (st->eol)
        return 0; /* the body is complete */
    st->paused = true;
    return CURL_READFUNC_PAUSE;
}

/* CURLOPT_SEEKFUNCTION: curl starts a request again on a fresh connection
 * when a reused one died before any answer; only "from the start" is
 * possible (and needed). */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
    stream_t *st = ctx;
    if (offset != 0 || origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    rewind_all(st, clock_ms());
    log_msg(LOGL_DEBUG, "follow upload: curl starts it over");
    return CURL_SEEKFUNC_OK;
}

void stream_prepare(stream_t *st, CURL *e, uint64_t now, long reply_ms)
{
    uint64_t left = st->end_ms > now ? st->end_ms - now : 0;

    rewind_all(st, now);
    st->easy = e;
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1); /* chunked */
    curl_easy_setopt(e, CURLOPT_READFUNCTION, stream_read);
    curl_easy_setopt(e, CURLOPT_READDATA, st);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, st);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    /* ... closed when the attempt ends: the close callback must not
     * outlive the stream. */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, st);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, st);
    /* A quiet window sends nothing for up to 60 s: no low-speed cut (TCP
     * keep-alive watches the connection); the whole attempt is bounded by
     * the window plus the time an answer may take. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left + reply_ms);
}

/* Resumes a paused transfer; the read callback runs at the next perform. */
static bool resume(stream_t *st)
{
    if (!st->paused || st->easy == NULL)
        return false;
    st->paused = false; /* before: curl may call stream_read from within */
    CURLcode rc = curl_easy_pause(st->easy, CURLPAUSE_CONT);
    if (rc != CURLE_OK)
        log_msg(LOGL_ERROR, "curl_easy_pause: %s", curl_easy_strerror(rc));
    return true;
}

bool stream_feed(stream_t *st, uint64_t now)
{
    if (st->eol)
        return false;
    if (st->why == NULL) {
        st->ready = newest_ready(st, now);
        /* The next event the ring still holds, not next_seq: events may
         * have left the ring unsent (--retain), and resuming for them
         * would only pause again, every turn. */
        size_t i = ring_from(st->cam->ring, st->next_seq);
        if (i == ring_count(st->cam->ring) || ring_get(st->cam->ring, i)->seq > st->ready)
            return false;
    }
    return resume(st);
}

void stream_peer_data(stream_t *st, const char *peek, size_t n)
{
    bool same = n == st->npeeked && memcmp(peek, st->peeked, n) == 0;

    if (same || ++st->nudges > STREAM_NUDGES_MAX) { /* curl left them: read them at the end */
        stream_end(st, "the api answered before its end");
        return;
    }
    memcpy(st->peeked, peek, n);
    st->npeeked = n;
    resume(st);
}

void stream_end(stream_t *st, const char *why)
{
    if (st->why == NULL) {
        st->ready = newest_ready(st, clock_ms()); /* what is ready goes before EOL */
        st->why = why;
        log_msg(LOGL_DEBUG, "follow upload: ends (%s) after %llu records", why,
                (unsigned long long)st->count);
    }
    resume(st);
}

uint64_t stream_tick(stream_t *st, uint64_t now)
{
    if (st->why != NULL)
        return UINT64_MAX;
    if (now < st->end_ms)
        return st->end_ms - now;
    stream_end(st, "its window ended");
    return 0;
}
