/* The camera path's connections. Each request head is read with the
 * generated HTTP/1.1 machine (runtime/http1.h) and routed: /control-channel
 * and /send-stats are served here (channel.c, stats.c); any other
 * request (with no body: refused from its head) is served by h2o's handler
 * on this same connection (oper.c), and the next request is read here
 * again: h2o's HTTP/1 reader never sees a byte. Requests are taken one at a time, in order: what a
 * client sends early waits in the input, bounded by READ_AHEAD_MAX. Replies
 * go out through write.c. A hang-up is read straight from the
 * connection (EOF). A held poll keeps this record and nothing else: no
 * input buffer, no parser, no h2o request. */
#include <stdlib.h>
#include <string.h>

#include "campath_int.h"
#include "web.h"

#include <h2o/http1.h>

/* Bytes read ahead of the request in hand (pipelining) before reading stops
 * until that request is answered. */
#define READ_AHEAD_MAX HTTP1_HEAD_MAX

static h2o_linklist_t conns = {&conns, &conns};

static void on_read(h2o_socket_t *sock, const char *err);
static void on_timer(tmr_t *t);

void conn_arm(cam_conn_t *c, uint64_t ms)
{
    c->timer.cb = on_timer;
    tmr_arm(&c->timer, ms);
}

/* Input ------------------------------------------------------------------------ */

void conn_consume(cam_conn_t *c, size_t n)
{
    if (n > 0)
        h2o_buffer_consume(&c->sock->input, n);
}

/* An empty input buffer goes back to the prototype (a read reserves 4 KiB
 * even when it finds nothing): an idle or held connection keeps none. */
void conn_trim_input(cam_conn_t *c)
{
    h2o_buffer_t **b = &c->sock->input;
    if ((*b)->size == 0 && (*b)->bytes != NULL) {
        h2o_buffer_dispose(b);
        h2o_buffer_init(b, &h2o_socket_buffer_prototype);
    }
}

void conn_pause_reading(cam_conn_t *c, bool on)
{
    if (c->paused == on)
        return;
    c->paused = on;
    if (on)
        h2o_socket_read_stop(c->sock);
    else
        h2o_socket_read_start(c->sock, on_read);
}

const char *conn_head_base(const cam_conn_t *c)
{
    return c->sock->input->bytes;
}

/* A head's deadline: --head-timeout, or --request-timeout when shorter
 * (the head is part of the request). */
static uint64_t head_ms(void)
{
    return api_conf.head_timeout_ms < api_conf.req_timeout_ms ? api_conf.head_timeout_ms
                                                              : api_conf.req_timeout_ms;
}

void conn_set_state(cam_conn_t *c, uint8_t state)
{
    pending_leave(c);
    c->state = state;
    if (state == CS_HANDSHAKE || state == CS_HEAD)
        pending_enter(c, state == CS_HANDSHAKE);
}

/* Lifetime ---------------------------------------------------------------------- */

cam_conn_t *conn_new(h2o_socket_t *sock, struct timeval connected_at, bool handshake)
{
    cam_conn_t *c = xcalloc(1, sizeof(*c));
    c->sock = sock;
    c->connected_at = connected_at;
    sock->data = c;
    h2o_linklist_insert(&conns, &c->all);
    if (handshake) {
        conn_set_state(c, CS_HANDSHAKE);
        conn_arm(c, api_conf.head_timeout_ms);
    } else {
        conn_begin(c);
    }
    return c;
}

void conn_begin(cam_conn_t *c)
{
    conn_set_state(c, CS_HEAD);
    conn_arm(c, api_conf.head_timeout_ms); /* a new connection's idle limit */
    h2o_socket_read_start(c->sock, on_read);
    if (c->sock->input->size > 0) /* read along with the TLS handshake */
        conn_advance(c);
}

void conn_drop_request(cam_conn_t *c)
{
    if (c->req == NULL)
        return;
    upload_free(c->req->up); /* one not finished is aborted: its waiters get 502 */
    free(c->req);
    c->req = NULL;
}

static void end_skip(cam_conn_t *c)
{
    free(c->skipping);
    c->skipping = NULL;
}

void conn_detach(cam_conn_t *c)
{
    end_skip(c);
    tmr_cancel(&c->timer);
    tmr_cancel(&c->poll.timeout);
    pending_leave(c);
    oper_free(c); /* before the socket closes: held.c unwatches it */
    cfollow_free(c);
    conn_drop_request(c);
    h2o_linklist_unlink(&c->all);
    write_drop(c);
    c->sock->data = NULL;
    free(c);
}

void conn_close(cam_conn_t *c)
{
    h2o_socket_t *sock = c->sock;
    conn_detach(c);
    h2o_socket_close(sock);
}

/* Gives the connection to h2o's HTTP/2 (prior knowledge, --http2): the
 * preface is at the input's start. */
static void hand_off(cam_conn_t *c)
{
    h2o_socket_t *sock = c->sock;
    struct timeval at = c->connected_at;
    conn_detach(c);
    h2o_http1_accept(accept_h2o_ctx, sock, at);
}

/* Requests ------------------------------------------------------------------------ */

void conn_next_request(cam_conn_t *c)
{
    conn_set_state(c, CS_HEAD);
    c->route = NULL;
    c->head_us = 0;
    c->keep_alive = c->http10 = false;
    conn_arm(c, api_conf.req_timeout_ms);
    conn_trim_input(c);
    conn_pause_reading(c, false);
    conn_advance(c);
}

void conn_hold(cam_conn_t *c)
{
    conn_consume(c, c->req->fed);
    conn_drop_request(c);
    tmr_cancel(&c->timer);
    conn_set_state(c, CS_HELD);
    conn_trim_input(c);
}

void conn_expect_body(cam_conn_t *c)
{
    conn_consume(c, c->req->fed); /* the head: the input now starts with the body */
    c->req->fed = 0;
    conn_set_state(c, CS_BODY);
    /* --request-timeout counts from the request's first byte; a follow
     * upload the api asked for is not cut before --follow-hold plus
     * --connect-grace (1.2) */
    uint64_t spent = (clock_us() - c->start_us) / 1000, limit = api_conf.req_timeout_ms;
    uint64_t hold = api_conf.follow_hold_s * 1000 + api_conf.grace_ms;
    if (c->req->up != NULL && upload_follow(c->req->up) && hold > limit)
        limit = hold;
    conn_arm(c, limit > spent ? limit - spent : 1);
}

/* HTTP/2 with prior knowledge starts with this: h2o takes it (1), wait for
 * more (-1), or not (0). */
static int h2_preface(const h2o_buffer_t *in)
{
    static const char pri[] = "PRI * HTTP/2";
    size_t n = in->size < sizeof(pri) - 1 ? in->size : sizeof(pri) - 1;
    if (memcmp(in->bytes, pri, n) != 0)
        return 0;
    return n == sizeof(pri) - 1 ? 1 : -1;
}

static bool span_is(const char *base, http1_span_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(base + s.off, want, s.len) == 0;
}

/* Whatever h2o serves takes no body, and h2o reads a whole body before its
 * handlers run: a request that carries one is refused here, from its head,
 * so no client can make the api buffer a body without credentials. The
 * status is what h2o's routing would give first (405, 404), else 413. */
static bool refuse_body(cam_conn_t *c, const route_t *rt, const char *base)
{
    const http1_head_t *h = &c->req->p.head;
    if (!h->chunked && (!h->has_length || h->length == 0))
        return false;
    verdict_t v = {.status = 413, .reason = "this endpoint takes no request body", .close = true};
    bool page = rt == NULL && web_has(base + h->path.off, h->path.len);
    if (rt != NULL && !span_is(base, h->method, rt->method)) {
        v = (verdict_t){.status = 405, .reason = "method not allowed", .allow = rt->method};
    } else if (page && !span_is(base, h->method, "GET") && !span_is(base, h->method, "HEAD")) {
        v = (verdict_t){.status = 405, .reason = "method not allowed", .allow = "GET, HEAD"};
    } else if (rt == NULL && !page) {
        v = (verdict_t){.status = 404, .reason = "no such endpoint"};
    }
    v.close = true;
    write_refuse(c, &v);
    return true;
}

/* A GET /logs with follow=1 is held here (follow.c), not by h2o. */
static bool follow_asked(cam_conn_t *c, const route_t *rt, const char *base)
{
    const http1_head_t *h = &c->req->p.head;
    if (rt == NULL || rt->kind != R_LOGS || !span_is(base, h->method, "GET"))
        return false;
    query_t q;
    query_parse(base + h->query.off, h->query.len, &q);
    if (!q.follow)
        return false;
    c->route = rt;
    c->keep_alive = h->keep_alive;
    c->http10 = h->minor == 0;
    cfollow_request(c, &q);
    return true;
}

/* The head is complete: serve it here, or by h2o's handler (oper.c). */
static bool dispatch(cam_conn_t *c)
{
    const http1_head_t *h = &c->req->p.head;
    const char *base = conn_head_base(c);
    const route_t *rt = routes_find(base + h->path.off, h->path.len);
    if (rt == NULL || (rt->kind != R_CONTROL && rt->kind != R_STATS)) {
        if (!refuse_body(c, rt, base) && !follow_asked(c, rt, base))
            oper_request(c);
        return true;
    }
    c->route = rt;
    c->keep_alive = h->keep_alive;
    c->http10 = h->minor == 0;
    if (!span_is(base, h->method, rt->method)) {
        verdict_t v = {.status = 405, .reason = "method not allowed", .allow = rt->method};
        write_refuse(c, &v);
        return true;
    }
    query_t q;
    query_parse(base + h->query.off, h->query.len, &q);
    if (rt->kind == R_CONTROL)
        channel_request(c, &q);
    else
        stats_request(c, &q);
    return true;
}

/* Reads the head of the next request; false once the connection is h2o's. */
static bool read_head(cam_conn_t *c)
{
    h2o_buffer_t *in = c->sock->input;
    if (c->req == NULL) {
        if (in->size == 0)
            return true;
        int h2 = api_conf.http2 ? h2_preface(in) : 0; /* else: the parser refuses it */
        if (h2 > 0)
            hand_off(c);
        if (h2 != 0)
            return h2 < 0;
        c->req = xcalloc(1, sizeof(*c->req));
        http1_init(&c->req->p);
        /* The head's deadline counts from its first byte; until it came,
         * the timer was the idle limit (--head-timeout on a new connection,
         * --request-timeout between keep-alive requests). */
        conn_arm(c, head_ms());
        c->start_us = clock_us();
    }
    cam_req_t *r = c->req;
    size_t used = 0;
    if (in->size == r->fed)
        return true;
    int rc = http1_feed_head(&r->p, in->bytes + r->fed, in->size - r->fed, &used);
    r->fed += used;
    if (rc == HTTP1_MORE)
        return true;
    if (rc == HTTP1_ERROR) { /* framing is lost: answer and close */
        verdict_t v = {.status = r->p.err.status, .reason = r->p.err.reason, .close = true};
        write_refuse(c, &v);
        return true;
    }
    r->head_done = true;
    c->head_us = clock_us();
    if (c->ut_lifted) { /* the long reply before it was read: TCP_USER_TIMEOUT again */
        c->ut_lifted = false;
        net_reading_reply(h2o_socket_get_fd(c->sock), false);
    }
    if (!dispatch(c))
        return false;
    if (c->state == CS_BODY) /* what came with the head */
        stats_body(c);
    return true;
}

/* Drops the bytes of a refused request's body (write.c kept it): false
 * once the connection was closed. */
static bool skip(cam_conn_t *c)
{
    int rc = stats_skip(c, c->skipping);
    if (rc != 0)
        end_skip(c);
    if (rc < 0) { /* framing lost, or over --max-body: nothing more can be read */
        if (c->state == CS_SKIP) {
            conn_close(c);
            return false;
        }
        c->closing = true;
        conn_consume(c, c->sock->input->size);
    }
    return true;
}

/* Acts on what the input holds, as far as the state allows; false once the
 * connection is no longer ours (h2o's, or closed and freed). */
bool conn_advance(cam_conn_t *c)
{
    if (c->skipping != NULL && !skip(c))
        return false;
    switch (c->state) {
    case CS_HEAD:
        return read_head(c);
    case CS_BODY:
        stats_body(c);
        break;
    case CS_LINGER:
    case CS_FOLLOW: /* what a follower's client sends is dropped */
        conn_consume(c, c->sock->input->size);
        break;
    case CS_SKIP:
        if (c->skipping != NULL)
            break;
        conn_next_request(c); /* which reads on, and may close: */
        return false;
    case CS_HELD:
        /* Reading never stops under a held poll, or its hang-up would go
         * unseen: a client that piles more than a request's worth behind
         * its poll is given up, like one that left. */
        if (c->sock->input->size > READ_AHEAD_MAX) {
            channel_gone(c);
            conn_close(c);
            return false;
        }
        break;
    case CS_REPLY:
        if (c->closing)
            conn_consume(c, c->sock->input->size);
        else if (c->sock->input->size > READ_AHEAD_MAX)
            conn_pause_reading(c, true);
        break;
    default:
        break;
    }
    return true;
}

/* Events -------------------------------------------------------------------------- */

static void on_eof(cam_conn_t *c)
{
    c->eof = true;
    switch (c->state) {
    case CS_HELD:
        channel_gone(c);
        break;
    case CS_BODY:
        stats_abort(c);
        write_log_gone(c, stats_camera(c));
        break;
    case CS_REPLY: /* the reply may still reach a half-closed client */
        conn_pause_reading(c, true);
        return;
    default:
        break;
    }
    conn_close(c);
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    cam_conn_t *c = sock->data;
    if (err != NULL) {
        on_eof(c);
        return;
    }
    if (conn_advance(c) &&
        (c->state == CS_HELD || c->state == CS_LINGER || c->state == CS_FOLLOW || c->closing))
        conn_trim_input(c);
}

static void on_timer(tmr_t *t)
{
    cam_conn_t *c = H2O_STRUCT_FROM_MEMBER(cam_conn_t, timer, t);
    verdict_t v = {.status = 408, .close = true};
    switch (c->state) {
    case CS_HEAD:
        if (c->req == NULL && c->sock->input->size == 0) { /* idle between requests */
            conn_close(c);
            return;
        }
        v.reason = api_conf.head_timeout_ms < api_conf.req_timeout_ms
                       ? "the request head was not received within --head-timeout"
                       : "the request was not received within --request-timeout";
        write_refuse(c, &v);
        return;
    case CS_BODY:
        stats_abort(c);
        v.reason = "the body was not received within --request-timeout";
        v.camera = stats_camera(c);
        write_refuse(c, &v);
        return;
    default: /* a handshake, a reply or a linger that took too long */
        conn_close(c);
    }
}

/* Shutdown ------------------------------------------------------------------------ */

void conn_shutdown(void)
{
    verdict_t v = {.status = 503, .reason = "the api is shutting down", .close = true};
    for (h2o_linklist_t *n = conns.next, *next; n != &conns; n = next) {
        next = n->next;
        cam_conn_t *c = H2O_STRUCT_FROM_MEMBER(cam_conn_t, all, n);
        if (c->state == CS_BODY) {
            stats_abort(c);
            v.camera = stats_camera(c);
            write_refuse(c, &v);
            v.camera = NULL;
        } else if (c->state == CS_HEAD && (c->req != NULL || c->sock->input->size > 0)) {
            write_refuse(c, &v);
        } else if (c->state == CS_REPLY) {
            c->closing = true;
        } else if (c->state != CS_HELD && c->state != CS_OPER && c->state != CS_FOLLOW) {
            /* idle, handshaking, lingering (a follower's stream was ended by the relay) */
            conn_close(c);
        }
    }
}

void conn_close_all(void)
{
    while (!h2o_linklist_is_empty(&conns)) {
        cam_conn_t *c = H2O_STRUCT_FROM_MEMBER(cam_conn_t, all, conns.next);
        if (c->state == CS_HELD)
            handshake_poll_gone(&c->poll);
        conn_close(c);
    }
}
