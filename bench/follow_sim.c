/* Simulated numbering cameras for bench_follow's many-camera scenario: a
 * real camera costs 0.1-0.4 ms of CPU per live event (libcurl, its loop),
 * so 1,000 of them at 10 events/s each need more cores than the api under
 * test. Each one here is two connections on the bench's loop, the camera
 * side of the contract and nothing more: a held GET /control-channel
 * (epoch=), and per wake-up a chunked POST /send-stats (epoch=, first=1,
 * request_id=) with the events after the wake-up's `after`, then, for a
 * follow upload, each new event as it is published, and `EOL <n>` after
 * `follow` seconds. It holds every event it was given. Test-side code. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fleet.h"
#include "follow.h"

enum { UP_IDLE, UP_OPEN, UP_ENDED }; /* ENDED: EOL written, reply awaited */

typedef struct fm_conn {
    int fd;
    buf_t out;
    char in[4096];
    size_t in_len;
} fm_conn_t;

typedef struct fm_cam {
    fm_conn_t poll, up;
    char **ev; /* descriptions, seq = index + 1 */
    size_t n, cap;
    int up_state;
    uint64_t up_end;   /* monotonic ns: the follow upload's EOL */
    uint64_t up_count; /* records in the open upload */
    char rid[72];
    char *pending; /* a wake-up that came before the last upload's reply */
} fm_cam_t;

struct fm_set {
    int ep;
    struct sockaddr_in dst;
    unsigned n;
    fm_cam_t *cams;
    uint64_t failures;
};

static int conn_open(fm_set_t *s, fm_conn_t *c, uint64_t tag)
{
    c->fd = fh_connect(&s->dst, 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u64 = tag};
    if (c->fd < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        return -1;
    c->in_len = 0;
    return 0;
}

static void conn_drop(fm_set_t *s, fm_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_free(&c->out);
    c->in_len = 0;
    s->failures++;
}

static void conn_flush(fm_set_t *s, fm_conn_t *c)
{
    size_t off = 0;
    if (c->out.len == 0)
        return;
    while (c->fd >= 0 && off < c->out.len) {
        ssize_t w = write(c->fd, c->out.data + off, c->out.len - off);
        if (w < 0 && (errno == EAGAIN || errno == ENOTCONN))
            break;
        if (w <= 0) {
            conn_drop(s, c);
            return;
        }
        off += (size_t)w;
    }
    memmove(c->out.data, c->out.data + off, c->out.len - off);
    c->out.len -= off;
}

static void send_poll(fm_set_t *s, unsigned i)
{
    fm_cam_t *m = &s->cams[i];
    if (m->poll.fd < 0 && conn_open(s, &m->poll, ((uint64_t)i * 2) | FM_TAG) != 0) {
        s->failures++;
        return;
    }
    buf_printf(&m->poll.out,
               "GET /control-channel?camera=cam-%u&epoch=bench%u HTTP/1.1\r\nHost: bench\r\n\r\n",
               i, i);
    conn_flush(s, &m->poll);
}

fm_set_t *fm_new(int ep, const struct sockaddr_in *dst, unsigned cameras)
{
    fm_set_t *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->cams = calloc(cameras, sizeof(*s->cams))) == NULL) {
        free(s);
        return NULL;
    }
    s->ep = ep;
    s->dst = *dst;
    s->n = cameras;
    for (unsigned i = 0; i < cameras; i++) {
        s->cams[i].poll.fd = s->cams[i].up.fd = -1;
        send_poll(s, i);
    }
    return s;
}

/* Event seq (1-based) of camera m as a chunk: one record line. */
static void put_record(fm_cam_t *m, size_t seq)
{
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t k = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof(ts) - k, ".%03ldZ", now.tv_nsec / 1000000);
    char line[256];
    int n =
        snprintf(line, sizeof(line), "{\"description\":\"%s\",\"timestamp\":\"%s\",\"seq\":%zu}\n",
                 m->ev[seq - 1], ts, seq);
    buf_printf(&m->up.out, "%x\r\n%s\r\n", n, line);
    m->up_count++;
}

static void put_eol(fm_set_t *s, fm_cam_t *m)
{
    char eol[32];
    int n = snprintf(eol, sizeof(eol), "EOL %llu\n", (unsigned long long)m->up_count);
    buf_printf(&m->up.out, "%x\r\n%s\r\n0\r\n\r\n", n, eol);
    m->up_state = UP_ENDED;
    conn_flush(s, &m->up);
}

/* The events after the wake-up's `after` (all of them for another epoch). */
static size_t wake_after(const fm_cam_t *m, unsigned i, const char *body, size_t len)
{
    const char *p = memmem(body, len, "\"after\":\"", 9);
    char epoch[72], mine[32];
    size_t after = 0;
    snprintf(mine, sizeof(mine), "bench%u", i);
    if (p == NULL || sscanf(p + 9, "%71[A-Za-z0-9._-]:%zu", epoch, &after) != 2 ||
        strcmp(epoch, mine) != 0 || after > m->n)
        return 0;
    return after;
}

/* A wake-up: the body of a 200 to the poll. One that comes while the last
 * upload waits for its reply is kept until then; the one being answered
 * again (a lost wake-up resent) is ignored, as the contract says. */
static void on_wakeup(fm_set_t *s, unsigned i, const char *body, size_t len)
{
    fm_cam_t *m = &s->cams[i];
    char rid[72] = "";
    const char *p = memmem(body, len, "\"request_id\":\"", 14);
    if (p == NULL || sscanf(p + 14, "%71[A-Za-z0-9._-]", rid) != 1 ||
        (m->up_state != UP_IDLE && strcmp(rid, m->rid) == 0))
        return;
    if (m->up_state != UP_IDLE) {
        free(m->pending);
        m->pending = strndup(body, len);
        return;
    }
    size_t after = wake_after(m, i, body, len);
    p = memmem(body, len, "\"follow\":", 9);
    unsigned follow = p != NULL ? (unsigned)strtoul(p + 9, NULL, 10) : 0;
    if (m->up.fd < 0 && conn_open(s, &m->up, ((uint64_t)i * 2 + 1) | FM_TAG) != 0) {
        s->failures++;
        return;
    }
    snprintf(m->rid, sizeof(m->rid), "%s", rid);
    buf_printf(&m->up.out,
               "POST /send-stats?camera=cam-%u&epoch=bench%u&first=1&request_id=%s HTTP/1.1\r\n"
               "Host: bench\r\nContent-Type: application/x-ndjson\r\n"
               "Transfer-Encoding: chunked\r\n\r\n",
               i, i, rid);
    m->up_count = 0;
    for (size_t q = after + 1; q <= m->n; q++)
        put_record(m, q);
    m->up_state = UP_OPEN;
    m->up_end = fh_now_ns() + (uint64_t)follow * 1000000000ull;
    if (follow == 0)
        put_eol(s, m);
    conn_flush(s, &m->up);
}

/* The upload's reply (or its connection's end): the camera is free again. */
static void up_done(fm_set_t *s, unsigned i)
{
    fm_cam_t *m = &s->cams[i];
    m->up_state = UP_IDLE;
    char *w = m->pending;
    m->pending = NULL;
    if (w != NULL)
        on_wakeup(s, i, w, strlen(w));
    free(w);
}

int fm_publish(fm_set_t *s, unsigned i, const char *line, int len)
{
    fm_cam_t *m = &s->cams[i];
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        char **ev = realloc(m->ev, cap * sizeof(*ev));
        if (ev == NULL)
            return -1;
        m->ev = ev;
        m->cap = cap;
    }
    m->ev[m->n++] = strndup(line, (size_t)len - 1); /* (without its newline) */
    if (m->up_state == UP_OPEN) {
        put_record(m, m->n);
        conn_flush(s, &m->up);
    }
    return 0;
}

/* Replies on a camera's connection: a poll's (wake-up, 204, refusal) is
 * followed by the next poll; an upload's ends the upload. */
static void on_reply(fm_set_t *s, unsigned i, bool up, const char *b, const fh_resp_t *r)
{
    if (up) {
        if (r->status != 200)
            s->failures++;
        up_done(s, i);
        return;
    }
    if (r->status == 200)
        on_wakeup(s, i, b + r->body_off, r->body_len);
    else if (r->status != 204)
        s->failures++;
    send_poll(s, i);
}

void fm_event(fm_set_t *s, uint64_t data, uint32_t events)
{
    unsigned i = (unsigned)((data & ~FM_TAG) / 2);
    bool up = data & 1;
    fm_cam_t *m = &s->cams[i];
    fm_conn_t *c = up ? &m->up : &m->poll;
    if (c->fd < 0)
        return;
    if (events & EPOLLOUT)
        conn_flush(s, c);
    for (;;) {
        ssize_t got = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (got < 0 && errno == EAGAIN)
            return;
        if (got <= 0) {
            conn_drop(s, c); /* the next wake-up or poll opens another */
            if (up)
                up_done(s, i);
            else
                send_poll(s, i);
            return;
        }
        c->in_len += (size_t)got;
        fh_resp_t r;
        while (c->in_len > 0 && fh_parse(c->in, c->in_len, &r) == 1) {
            on_reply(s, i, up, c->in, &r);
            memmove(c->in, c->in + r.total, c->in_len - r.total);
            c->in_len -= r.total;
        }
    }
}

void fm_tick(fm_set_t *s, uint64_t now)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->cams[i].up_state == UP_OPEN && now >= s->cams[i].up_end)
            put_eol(s, &s->cams[i]);
}

uint64_t fm_failures(const fm_set_t *s)
{
    return s->failures;
}

void fm_free(fm_set_t *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->n; i++) {
        fm_cam_t *m = &s->cams[i];
        if (m->poll.fd >= 0)
            close(m->poll.fd);
        if (m->up.fd >= 0)
            close(m->up.fd);
        buf_free(&m->poll.out);
        buf_free(&m->up.out);
        for (size_t k = 0; k < m->n; k++)
            free(m->ev[k]);
        free(m->ev);
        free(m->pending);
    }
    free(s->cams);
    free(s);
}
