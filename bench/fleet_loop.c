/* One epoll loop driving simulated cameras or operators over keep-alive
 * HTTP/1.1 connections, one connection each.
 *
 * A camera: GET /control-channel; on 200 it POSTs /send-stats with K records
 * (the request_id from the control message), then polls again; on 204 it
 * polls again; any other reply or a broken connection: reconnect after 1 s.
 * An operator: GET /logs of a random camera, back to back, timing each. */
#define _GNU_SOURCE /* memmem, IP_BIND_ADDRESS_NO_PORT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "fleet.h"

enum { K_CAM, K_OP };
enum { S_IDLE, S_CONNECTING, S_POLL, S_POST, S_LOGS, S_RETRY, S_DONE };
#define RETRY_NS 1000000000ull

typedef struct conn {
    int fd;
    uint32_t idx; /* camera number, or operator number */
    uint8_t kind, state;
    bool polled; /* a camera's first poll went out */
    char *rb;    /* read buffer */
    uint32_t rlen, rcap;
    char *ob; /* request head being written (owned), then `blen` of body */
    uint32_t olen, ooff, blen;
    uint64_t t_sent;
} conn_t;

struct fl_loop {
    fl_config_t *cfg;
    int ep;
    conn_t *c;
    unsigned n, ncams, next_open, opening;
    char *body; /* the K-record EOL stream every camera sends */
    size_t body_len;
    uint32_t *retry; /* FIFO ring of connections waiting to reconnect */
    uint64_t *retry_at;
    unsigned rhead, rtail;
    uint64_t stop_ns, rng;
    fl_stats_t st;
};

static void count(fl_loop_t *l, int ep, int status)
{
    l->st.codes[ep][status >= 100 && status < FL_CODES ? status : 0]++;
}

static void set_events(fl_loop_t *l, conn_t *c, uint32_t ev, int op)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(l->ep, op, c->fd, &e);
}

static void conn_close(fl_loop_t *l, conn_t *c, uint8_t next_state)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    free(c->ob);
    c->ob = NULL;
    c->rlen = 0;
    c->state = next_state;
    if (next_state == S_RETRY) {
        l->retry[l->rtail] = (uint32_t)(c - l->c);
        l->retry_at[l->rtail] = fh_now_ns() + RETRY_NS;
        l->rtail = (l->rtail + 1) % (l->n + 1);
    }
}

static void conn_open(fl_loop_t *l, conn_t *c)
{
    unsigned ns = l->cfg->nsrc;
    in_addr_t src = c->kind == K_CAM && ns ? htonl(0x7f000002u + c->idx % ns) : 0;
    c->fd = fh_connect(&l->cfg->dst, src);
    if (c->fd < 0) {
        l->st.connect_errs++;
        conn_close(l, c, S_RETRY);
        return;
    }
    c->state = S_CONNECTING;
    l->opening++;
    set_events(l, c, EPOLLOUT, EPOLL_CTL_ADD);
}

/* Writes what is pending; 0 done, 1 more to write, -1 broken. */
static int flush(fl_loop_t *l, conn_t *c)
{
    while (c->ooff < c->olen + c->blen) {
        struct iovec iov[2];
        int k = 0;
        if (c->ooff < c->olen)
            iov[k++] = (struct iovec){c->ob + c->ooff, c->olen - c->ooff};
        size_t boff = c->ooff > c->olen ? c->ooff - c->olen : 0;
        if (c->blen > boff)
            iov[k++] = (struct iovec){l->body + boff, c->blen - boff};
        ssize_t w = writev(c->fd, iov, k);
        if (w < 0)
            return errno == EAGAIN ? 1 : -1;
        c->ooff += (uint32_t)w;
    }
    free(c->ob);
    c->ob = NULL;
    return 0;
}

static void send_req(fl_loop_t *l, conn_t *c, const char *head, int hlen, bool body, int state)
{
    c->ob = xmemdup(head, (size_t)hlen);
    c->olen = (uint32_t)hlen;
    c->ooff = 0;
    c->blen = body ? (uint32_t)l->body_len : 0;
    c->state = (uint8_t)state;
    c->t_sent = fh_now_ns();
    int rc = flush(l, c);
    if (rc < 0) {
        l->st.drops++;
        conn_close(l, c, S_RETRY);
    } else {
        set_events(l, c, rc ? EPOLLOUT : EPOLLIN, EPOLL_CTL_MOD);
    }
}

static uint32_t rnd(fl_loop_t *l, uint32_t n)
{
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 7;
    l->rng ^= l->rng << 17;
    return (uint32_t)(l->rng % n);
}

/* The connection's next request: a poll, or the next /logs. */
static void next_request(fl_loop_t *l, conn_t *c)
{
    char head[256];
    int n;
    if (c->kind == K_CAM) {
        if (!c->polled) {
            c->polled = true;
            l->st.first_polls++;
        }
        n = snprintf(head, sizeof(head),
                     "GET /control-channel?camera=cam-%u HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                     c->idx);
        send_req(l, c, head, n, false, S_POLL);
    } else if (fh_now_ns() < l->stop_ns) {
        n = snprintf(head, sizeof(head),
                     "GET /logs?camera=cam-%u&timeout=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                     rnd(l, l->cfg->cameras));
        send_req(l, c, head, n, false, S_LOGS);
    } else {
        conn_close(l, c, S_DONE);
    }
}

static void send_stats(fl_loop_t *l, conn_t *c, const char *body, size_t len)
{
    char rid[65] = "", head[512];
    const char *p = memmem(body, len, "\"request_id\":\"", 14);
    if (p != NULL) {
        p += 14;
        size_t i = 0;
        while (i < 64 && p + i < body + len && p[i] != '"')
            i++;
        memcpy(rid, p, i);
        rid[i] = 0;
    }
    int n = snprintf(head, sizeof(head),
                     "POST /send-stats?camera=cam-%u%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/x-ndjson\r\nContent-Length: %zu\r\n\r\n",
                     c->idx, rid[0] ? "&request_id=" : "", rid, l->body_len);
    send_req(l, c, head, n, true, S_POST);
}

static int endpoint_of(const conn_t *c)
{
    return c->kind == K_OP ? EP_LOGS : c->state == S_POST ? EP_STATS : EP_CONTROL;
}

/* Counts the reply and sends what follows it; a reply that closes the
 * connection (the api shutting down, a 499) sends nothing: reconnect. */
static void on_response(fl_loop_t *l, conn_t *c, const fh_resp_t *r)
{
    count(l, endpoint_of(c), r->status);
    if (c->kind == K_OP && l->cfg->lat_n < l->cfg->lat_cap)
        l->cfg->lat_ns[l->cfg->lat_n++] = fh_now_ns() - c->t_sent;
    bool ok = c->kind == K_OP || c->state == S_POST || r->status == 200 || r->status == 204;
    if (r->close || !ok)
        conn_close(l, c, S_RETRY);
    else if (c->state == S_POLL && r->status == 200)
        send_stats(l, c, c->rb + r->body_off, r->body_len);
    else
        next_request(l, c);
}

/* Reads what arrived and handles the complete response. */
static void on_readable(fl_loop_t *l, conn_t *c)
{
    for (;;) {
        if (c->rlen == c->rcap) {
            c->rcap = c->rcap ? c->rcap * 2 : 512;
            c->rb = xrealloc(c->rb, c->rcap);
        }
        ssize_t got = read(c->fd, c->rb + c->rlen, c->rcap - c->rlen);
        if (got < 0 && errno == EAGAIN)
            return;
        fh_resp_t r;
        int rc = got > 0 ? fh_parse(c->rb, c->rlen + (size_t)got, &r) : -1;
        if (got > 0)
            c->rlen += (uint32_t)got;
        if (rc == 0)
            continue;
        /* closed, garbage, or more than the one reply we asked for */
        if (rc < 0 || c->rlen != r.total) {
            l->st.drops++;
            count(l, endpoint_of(c), 0);
            conn_close(l, c, S_RETRY);
            return;
        }
        c->rlen = 0;
        on_response(l, c, &r);
        return;
    }
}

static void on_writable(fl_loop_t *l, conn_t *c)
{
    if (c->state == S_CONNECTING) {
        int err = 0;
        socklen_t sl = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        l->opening--;
        if (err != 0) {
            l->st.connect_errs++;
            conn_close(l, c, S_RETRY);
            return;
        }
        l->st.opened++;
        next_request(l, c);
        return;
    }
    int rc = flush(l, c);
    if (rc < 0) {
        l->st.drops++;
        conn_close(l, c, S_RETRY);
    } else if (rc == 0) {
        set_events(l, c, EPOLLIN, EPOLL_CTL_MOD);
    }
}

static void make_body(fl_loop_t *l, unsigned k)
{
    buf_t b = BUF_INIT;
    for (unsigned i = 0; i < k; i++)
        buf_printf(&b,
                   "{\"description\":\"fleet bench event %04u: motion detected in zone %u\","
                   "\"timestamp\":\"2026-11-28T06:%02u:%02u.%03uZ\"}\n",
                   i, i % 7, i / 60 % 60, i % 60, i % 1000);
    buf_printf(&b, "EOL %u\n", k);
    l->body = b.data;
    l->body_len = b.len;
}

fl_loop_t *fl_new(fl_config_t *cfg, unsigned ncams, unsigned nops)
{
    fl_loop_t *l = xcalloc(1, sizeof(*l));
    l->cfg = cfg;
    l->n = ncams + nops;
    l->ncams = ncams;
    l->c = xcalloc(l->n, sizeof(*l->c));
    for (unsigned i = 0; i < l->n; i++) {
        l->c[i].fd = -1;
        l->c[i].kind = i < ncams ? K_CAM : K_OP;
        l->c[i].idx = i < ncams ? cfg->first_camera + i : i - ncams;
    }
    l->retry = xcalloc(l->n + 1, sizeof(*l->retry));
    l->retry_at = xcalloc(l->n + 1, sizeof(*l->retry_at));
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->rng = 0x9e3779b97f4a7c15ull ^ fh_now_ns();
    make_body(l, cfg->records);
    return l;
}

/* One round: opens more connections while under the in-flight cap, waits
 * for events (at most 20 ms) and reconnects what is due. */
static void round_once(fl_loop_t *l, uint64_t until_ns, bool *ctl_ready)
{
    while (l->next_open < l->n && l->opening < l->cfg->inflight)
        conn_open(l, &l->c[l->next_open++]);
    struct epoll_event ev[512];
    uint64_t now = fh_now_ns();
    int ms = until_ns > now ? (int)((until_ns - now) / 1000000) : 0;
    int n = epoll_wait(l->ep, ev, 512, ms < 20 ? ms : 20);
    for (int i = 0; i < n; i++) {
        conn_t *c = ev[i].data.ptr;
        if (c == NULL) {
            *ctl_ready = true;
        } else if (c->fd >= 0 && (ev[i].events & EPOLLOUT)) {
            on_writable(l, c);
        } else if (c->fd >= 0) {
            on_readable(l, c);
        }
    }
    now = fh_now_ns();
    while (l->rhead != l->rtail && l->retry_at[l->rhead] <= now) {
        conn_t *c = &l->c[l->retry[l->rhead]];
        l->rhead = (l->rhead + 1) % (l->n + 1);
        conn_open(l, c);
    }
}

void fl_issue(fl_loop_t *l, uint64_t until_ns)
{
    uint64_t t0 = fh_now_ns();
    bool ctl_ready = false;
    while (fh_now_ns() < until_ns && (l->next_open < l->n || l->opening > 0))
        round_once(l, until_ns, &ctl_ready);
    l->st.issue_ns = fh_now_ns() - t0;
}

void fl_run(fl_loop_t *l, uint64_t until_ns, int ctl)
{
    bool ctl_ready = false;
    l->stop_ns = until_ns;
    if (ctl >= 0) {
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, ctl, &e);
    }
    while (!ctl_ready && fh_now_ns() < until_ns)
        round_once(l, until_ns, &ctl_ready);
}

fl_stats_t *fl_stats(fl_loop_t *l)
{
    return &l->st;
}

void fl_free(fl_loop_t *l)
{
    for (unsigned i = 0; i < l->n; i++) {
        if (l->c[i].fd >= 0)
            close(l->c[i].fd);
        free(l->c[i].rb);
        free(l->c[i].ob);
    }
    close(l->ep);
    free(l->c);
    free(l->retry);
    free(l->retry_at);
    free(l->body);
    free(l);
}
