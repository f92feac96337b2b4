/* The camera path's connections. Each request head is read with the
 * generated HTTP/1.1 machine (runtime/http1.h) and routed: /control-channel
 * and /send-stats are served here (cam_control.c, cam_stats.c); any other
 * request is handed to h2o together with the bytes already read
 * (h2o_http1_accept parses what sits in sock->input), and the connection is
 * h2o's from then on. Requests are taken one at a time, in order: what a
 * client sends early waits in the input, bounded by READ_AHEAD_MAX. Replies
 * are written here. A hang-up is read straight from the connection (EOF).
 * A held poll keeps this record and nothing else: no input buffer, no
 * parser, no h2o request. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cam.h"

#include <h2o/http1.h>

/* Bytes read ahead of the request in hand (pipelining) before reading stops
 * until that request is answered. */
#define READ_AHEAD_MAX HTTP1_HEAD_MAX
/* After the last reply: how long to read (and drop) what the client still
 * sends, so that closing does not reset the connection under the reply. */
#define LINGER_MS 2000

static h2o_linklist_t conns = {&conns, &conns};
static size_t nwriting; /* connections with a write in flight */

static void on_read(h2o_socket_t *sock, const char *err);
static void on_timer(tmr_t *t);
static bool advance(cam_conn_t *c);

static void arm(cam_conn_t *c, uint64_t ms)
{
    c->timer.cb = on_timer;
    tmr_arm(&c->timer, ms);
}

/* Input ------------------------------------------------------------------------ */

static void consume(cam_conn_t *c, size_t n)
{
    if (n > 0)
        h2o_buffer_consume(&c->sock->input, n);
}

/* An empty input buffer goes back to the prototype (a read reserves 4 KiB
 * even when it finds nothing): an idle or held connection keeps none. */
static void trim_input(cam_conn_t *c)
{
    h2o_buffer_t **b = &c->sock->input;
    if ((*b)->size == 0 && (*b)->bytes != NULL) {
        h2o_buffer_dispose(b);
        h2o_buffer_init(b, &h2o_socket_buffer_prototype);
    }
}

static void pause_reading(cam_conn_t *c, bool on)
{
    if (c->paused == on)
        return;
    c->paused = on;
    if (on)
        h2o_socket_read_stop(c->sock);
    else
        h2o_socket_read_start(c->sock, on_read);
}

const char *cam_head_base(const cam_conn_t *c)
{
    return c->sock->input->bytes;
}

/* Lifetime ---------------------------------------------------------------------- */

cam_conn_t *cam_conn_new(h2o_socket_t *sock, struct timeval connected_at, bool handshake)
{
    cam_conn_t *c = xcalloc(1, sizeof(*c));
    c->sock = sock;
    c->connected_at = connected_at;
    c->state = handshake ? CS_HANDSHAKE : CS_HEAD;
    sock->data = c;
    h2o_linklist_insert(&conns, &c->all);
    arm(c, api_conf.req_timeout_ms); /* the handshake and the first head */
    if (!handshake)
        cam_conn_begin(c);
    return c;
}

void cam_conn_begin(cam_conn_t *c)
{
    c->state = CS_HEAD;
    h2o_socket_read_start(c->sock, on_read);
    if (c->sock->input->size > 0) /* read along with the TLS handshake */
        advance(c);
}

static void drop_request(cam_conn_t *c)
{
    if (c->req == NULL)
        return;
    upload_free(c->req->up); /* one not finished is aborted: its waiters get 502 */
    free(c->req);
    c->req = NULL;
}

void cam_conn_detach(cam_conn_t *c)
{
    tmr_cancel(&c->timer);
    tmr_cancel(&c->poll.timeout);
    drop_request(c);
    h2o_linklist_unlink(&c->all);
    if (c->wbuf != NULL) { /* h2o drops a pending write on close */
        free(c->wbuf);
        nwriting--;
    }
    buf_free(&c->queued);
    c->sock->data = NULL;
    free(c);
}

void cam_conn_close(cam_conn_t *c)
{
    h2o_socket_t *sock = c->sock;
    cam_conn_detach(c);
    h2o_socket_close(sock);
}

/* Gives the connection to h2o: the request in hand is at the input's start. */
static void hand_off(cam_conn_t *c)
{
    h2o_socket_t *sock = c->sock;
    struct timeval at = c->connected_at;
    cam_conn_detach(c);
    h2o_http1_accept(cam_accept_ctx, sock, at);
}

/* Writing ------------------------------------------------------------------------ */

static void next_request(cam_conn_t *c);

/* The last reply went out: drop what the client still sends, then close. */
static void linger(cam_conn_t *c)
{
    if (c->eof) {
        cam_conn_close(c);
        return;
    }
    c->state = CS_LINGER;
    if (c->sock->ssl == NULL)
        shutdown(h2o_socket_get_fd(c->sock), SHUT_WR);
    consume(c, c->sock->input->size);
    trim_input(c);
    pause_reading(c, false);
    arm(c, LINGER_MS);
}

static void write_out(cam_conn_t *c, buf_t *b);

static void on_written(h2o_socket_t *sock, const char *err)
{
    cam_conn_t *c = sock->data;
    free(c->wbuf);
    c->wbuf = NULL;
    nwriting--;
    if (err != NULL) {
        cam_conn_close(c);
    } else if (c->queued.len > 0) {
        buf_t b = c->queued;
        c->queued = (buf_t)BUF_INIT;
        write_out(c, &b);
    } else if (c->state == CS_REPLY) {
        if (c->closing || c->eof || api_stopping)
            linger(c);
        else
            next_request(c);
    }
}

/* Writes b's bytes (taking them) after what is in flight. */
static void write_out(cam_conn_t *c, buf_t *b)
{
    if (c->wbuf != NULL) {
        buf_append(&c->queued, b->data, b->len);
        buf_free(b);
        return;
    }
    h2o_iovec_t v = h2o_iovec_init(b->data, b->len);
    c->wbuf = b->data;
    *b = (buf_t)BUF_INIT;
    nwriting++;
    h2o_socket_write(c->sock, &v, 1, on_written);
}

/* RFC 9110's IMF-fixdate, made once a second. */
static const char *http_date(void)
{
    static char s[40];
    static time_t last = -1;
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return s;
}

static void add_header(void *ctx, const char *name, const char *value)
{
    buf_printf(ctx, "%s: %s\r\n", name, value);
}

static void render(buf_t *b, const cam_conn_t *c, const api_reply_t *r)
{
    bool empty = r->status == 204;
    buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", r->status, reply_reason(r->status),
               http_date());
    if (c->closing)
        buf_puts(b, "Connection: close\r\n");
    else if (c->http10)
        buf_puts(b, "Connection: keep-alive\r\n");
    if (!empty && r->ctype != NULL)
        buf_printf(b, "Content-Type: %s\r\n", r->ctype);
    if (!empty)
        buf_printf(b, "Content-Length: %zu\r\n", r->len);
    reply_each_header(r, add_header, b);
    buf_puts(b, "\r\n");
    if (!empty && r->len > 0)
        buf_append(b, r->body, r->len);
}

/* The request line's method and path, as well as they are known. */
static void log_reply(cam_conn_t *c, int status, const char *camera)
{
    const char *m = "-", *p = "-";
    size_t ml = 1, pl = 1;
    if (c->req != NULL && c->req->head_done && c->state == CS_HEAD) {
        const http1_head_t *h = &c->req->p.head;
        m = cam_head_base(c) + h->method.off, ml = h->method.len;
        p = cam_head_base(c) + h->path.off, pl = h->path.len;
    } else if (c->route != NULL) {
        m = c->route->method, ml = strlen(m);
        p = c->route->path, pl = strlen(p);
    }
    char client[INET6_ADDRSTRLEN + 8];
    struct sockaddr_storage ss;
    if (h2o_socket_getpeername(c->sock, (struct sockaddr *)&ss) != 0)
        net_format_addr((struct sockaddr *)&ss, client, sizeof(client));
    else
        snprintf(client, sizeof(client), "-");
    long long us = c->head_us ? (long long)(now_us() - c->head_us) : 0;
    reply_log(m, ml, p, pl, client, status, camera, us);
    metrics_reply(c->route != NULL ? c->route->metric : M_OTHER, status);
}

void cam_log_gone(cam_conn_t *c, const char *camera)
{
    log_reply(c, 499, camera);
}

/* Bytes of the request's body that were never read: the connection cannot
 * carry another request. */
static bool unread_body(const cam_conn_t *c)
{
    const cam_req_t *r = c->req;
    if (r == NULL || !r->head_done || r->body_done)
        return false;
    return r->p.head.chunked || (r->p.head.has_length && r->p.head.length > 0);
}

void cam_answer(cam_conn_t *c, const api_reply_t *r)
{
    log_reply(c, r->status, r->camera);
    c->closing = r->close || !c->keep_alive || api_stopping || unread_body(c) || c->eof;
    buf_t b = BUF_INIT;
    render(&b, c, r);
    if (c->req != NULL)
        consume(c, c->req->fed); /* the request's bytes still in the input */
    drop_request(c);
    c->state = CS_REPLY;
    arm(c, api_conf.req_timeout_ms); /* for the reply to go out */
    write_out(c, &b);
    if (c->closing) /* what the client sends after this is dropped */
        advance(c);
}

void cam_refuse(cam_conn_t *c, const verdict_t *v)
{
    buf_t b = BUF_INIT;
    api_reply_t r;
    reply_of_verdict(&r, v, &b);
    cam_answer(c, &r);
    buf_free(&b);
}

void cam_continue(cam_conn_t *c)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "HTTP/1.1 100 Continue\r\n\r\n");
    write_out(c, &b);
}

/* Requests ------------------------------------------------------------------------ */

static void next_request(cam_conn_t *c)
{
    c->state = CS_HEAD;
    c->route = NULL;
    c->head_us = 0;
    c->keep_alive = c->http10 = false;
    arm(c, api_conf.req_timeout_ms);
    trim_input(c);
    pause_reading(c, false);
    advance(c);
}

void cam_hold(cam_conn_t *c)
{
    consume(c, c->req->fed);
    drop_request(c);
    tmr_cancel(&c->timer);
    c->state = CS_HELD;
    trim_input(c);
}

void cam_expect_body(cam_conn_t *c)
{
    consume(c, c->req->fed); /* the head: the input now starts with the body */
    c->req->fed = 0;
    c->state = CS_BODY;
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

/* The head is complete: serve it here, or hand it to h2o (false: the
 * connection is no longer ours). */
static bool dispatch(cam_conn_t *c)
{
    const http1_head_t *h = &c->req->p.head;
    const char *base = cam_head_base(c);
    const route_t *rt = route_find(base + h->path.off, h->path.len);
    if (rt == NULL || (rt->kind != R_CONTROL && rt->kind != R_STATS)) {
        hand_off(c);
        return false;
    }
    c->route = rt;
    c->keep_alive = h->keep_alive;
    c->http10 = h->minor == 0;
    if (!span_is(base, h->method, rt->method)) {
        verdict_t v = {.status = 405, .reason = "method not allowed", .allow = rt->method};
        cam_refuse(c, &v);
        return true;
    }
    query_t q;
    query_parse(base + h->query.off, h->query.len, &q);
    if (rt->kind == R_CONTROL)
        cam_control(c, &q);
    else
        cam_stats(c, &q);
    return true;
}

/* Reads the head of the next request; false once the connection is h2o's. */
static bool read_head(cam_conn_t *c)
{
    h2o_buffer_t *in = c->sock->input;
    if (c->req == NULL) {
        if (in->size == 0)
            return true;
        int h2 = h2_preface(in);
        if (h2 > 0)
            hand_off(c);
        if (h2 != 0)
            return h2 < 0;
        c->req = xcalloc(1, sizeof(*c->req));
        http1_init(&c->req->p);
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
        cam_refuse(c, &v);
        return true;
    }
    r->head_done = true;
    c->head_us = now_us();
    if (!dispatch(c))
        return false;
    if (c->state == CS_BODY) /* what came with the head */
        cam_stats_body(c);
    return true;
}

/* Acts on what the input holds, as far as the state allows; false once the
 * connection is h2o's. */
static bool advance(cam_conn_t *c)
{
    switch (c->state) {
    case CS_HEAD:
        return read_head(c);
    case CS_BODY:
        cam_stats_body(c);
        break;
    case CS_LINGER:
        consume(c, c->sock->input->size);
        break;
    case CS_HELD:
    case CS_REPLY:
        if (c->closing)
            consume(c, c->sock->input->size);
        else if (c->sock->input->size > READ_AHEAD_MAX)
            pause_reading(c, true);
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
        cam_control_gone(c);
        break;
    case CS_BODY:
        cam_stats_abort(c, "the camera's upload broke off before the end of its stream");
        log_reply(c, 499, NULL);
        break;
    case CS_REPLY: /* the reply may still reach a half-closed client */
        pause_reading(c, true);
        return;
    default:
        break;
    }
    cam_conn_close(c);
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    cam_conn_t *c = sock->data;
    if (err != NULL) {
        on_eof(c);
        return;
    }
    if (advance(c) && (c->state == CS_HELD || c->state == CS_LINGER))
        trim_input(c);
}

static void on_timer(tmr_t *t)
{
    cam_conn_t *c = H2O_STRUCT_FROM_MEMBER(cam_conn_t, timer, t);
    verdict_t v = {.status = 408, .close = true};
    switch (c->state) {
    case CS_HEAD:
        if (c->req == NULL && c->sock->input->size == 0) { /* idle between requests */
            cam_conn_close(c);
            return;
        }
        v.reason = "the request was not received within --request-timeout";
        cam_refuse(c, &v);
        return;
    case CS_BODY:
        cam_stats_abort(c, "the camera's upload did not end within --request-timeout");
        v.reason = "the body was not received within --request-timeout";
        cam_refuse(c, &v);
        return;
    default: /* a handshake, a reply or a linger that took too long */
        cam_conn_close(c);
    }
}

/* Shutdown ------------------------------------------------------------------------ */

void cam_shutdown(void)
{
    verdict_t v = {.status = 503, .reason = "the api is shutting down", .close = true};
    for (h2o_linklist_t *n = conns.next, *next; n != &conns; n = next) {
        next = n->next;
        cam_conn_t *c = H2O_STRUCT_FROM_MEMBER(cam_conn_t, all, n);
        if (c->state == CS_BODY) {
            cam_stats_abort(c, "the api is shutting down");
            cam_refuse(c, &v);
        } else if (c->state == CS_HEAD && (c->req != NULL || c->sock->input->size > 0)) {
            cam_refuse(c, &v);
        } else if (c->state == CS_REPLY) {
            c->closing = true;
        } else if (c->state != CS_HELD) { /* idle, handshaking, lingering */
            cam_conn_close(c);
        }
    }
}

size_t cam_live(void)
{
    return nwriting;
}

void cam_close_all(void)
{
    while (!h2o_linklist_is_empty(&conns)) {
        cam_conn_t *c = H2O_STRUCT_FROM_MEMBER(cam_conn_t, all, conns.next);
        if (c->state == CS_HELD)
            camera_poll_gone(&c->poll);
        cam_conn_close(c);
    }
}
