/* The camera path's replies: rendered (status line, Date, Content-Type,
 * Content-Length, Connection, the headers a status carries), logged and
 * counted like h2o's (reply.c), written one after the other; then the
 * connection's next request, or a lingering close. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "campath_int.h"

/* After the last reply: how long to read (and drop) what the client still
 * sends, so that closing does not reset the connection under the reply. */
#define LINGER_MS 2000
/* The receive buffer of a connection whose input is only dropped. */
#define DROP_RCVBUF 4096

static size_t nwriting; /* connections with a write in flight */

size_t write_live(void)
{
    return nwriting;
}

void write_drop(cam_conn_t *c)
{
    if (c->wbuf != NULL) { /* h2o drops a pending write on close */
        free(c->wbuf);
        c->wbuf = NULL;
        nwriting--;
    }
    buf_free(&c->queued);
}

/* Writing ------------------------------------------------------------------------ */

/* The last reply went out: drop what the client still sends, then close.
 * A client that sent nothing past its request (every byte read, none
 * waiting) has nothing a close could reset: it is closed at once, which
 * gives the descriptor back (a refusal at a cap must not hold one). */
static void linger(cam_conn_t *c)
{
    int unread = 0;
    if (c->eof || (!c->drain && c->sock->input->size == 0 &&
                   ioctl(h2o_socket_get_fd(c->sock), FIONREAD, &unread) == 0 && unread == 0)) {
        conn_close(c);
        return;
    }
    conn_set_state(c, CS_LINGER);
    if (c->sock->ssl == NULL)
        shutdown(h2o_socket_get_fd(c->sock), SHUT_WR);
    conn_consume(c, c->sock->input->size);
    conn_trim_input(c);
    conn_pause_reading(c, false);
    conn_arm(c, LINGER_MS);
}

static void write_out(cam_conn_t *c, buf_t *b);

static void on_written(h2o_socket_t *sock, const char *err)
{
    cam_conn_t *c = sock->data;
    free(c->wbuf);
    c->wbuf = NULL;
    nwriting--;
    if (err != NULL) {
        conn_close(c);
    } else if (c->queued.len > 0) {
        buf_t b = c->queued;
        c->queued = (buf_t)BUF_INIT;
        write_out(c, &b);
    } else if (c->state == CS_OPER) {
        tmr_cancel(&c->timer);
        oper_proceed(c);
    } else if (c->state == CS_REPLY) {
        oper_free(c);
        if (c->closing || c->eof || api_stopping) {
            linger(c);
        } else if (c->skipping != NULL) { /* the refused request's body is still coming */
            conn_set_state(c, CS_SKIP);
            conn_arm(c, api_conf.req_timeout_ms);
            conn_advance(c);
        } else {
            conn_next_request(c);
        }
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

/* Rendering ---------------------------------------------------------------------- */

/* RFC 9110's IMF-fixdate, made once a second. */
const char *write_date(void)
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
               write_date());
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
static void log_reply(cam_conn_t *c, int status, const char *camera, const char *why)
{
    const char *m = "-", *p = "-";
    size_t ml = 1, pl = 1;
    if (c->req != NULL && c->req->head_done && c->state == CS_HEAD) {
        const http1_head_t *h = &c->req->p.head;
        m = conn_head_base(c) + h->method.off, ml = h->method.len;
        p = conn_head_base(c) + h->path.off, pl = h->path.len;
    } else if (c->route != NULL) {
        m = c->route->method, ml = strlen(m);
        p = c->route->path, pl = strlen(p);
    }
    metrics_reply(c->route != NULL ? c->route->metric : M_OTHER, status);
    if (!reply_log_wanted(p, pl, status))
        return;
    char client[INET6_ADDRSTRLEN + 8];
    struct sockaddr_storage ss;
    if (h2o_socket_getpeername(c->sock, (struct sockaddr *)&ss) != 0)
        net_format_addr((struct sockaddr *)&ss, client, sizeof(client));
    else
        snprintf(client, sizeof(client), "-");
    long long us = c->head_us ? (long long)(clock_us() - c->head_us) : 0;
    reply_log(m, ml, p, pl, client, status, camera, us, why);
}

void write_log_gone(cam_conn_t *c, const char *camera)
{
    log_reply(c, 499, camera, NULL);
}

/* Bytes of the request's body that were never read: the connection cannot
 * carry another request. */
static bool unread_body(const cam_conn_t *c)
{
    const cam_req_t *r = c->req;
    if (r == NULL || !r->head_done || r->body_done || r->skip)
        return false;
    return r->p.head.chunked || (r->p.head.has_length && r->p.head.length > 0);
}

bool write_closing(cam_conn_t *c, bool close)
{
    c->closing = c->closing || close || !c->keep_alive || api_stopping || unread_body(c) || c->eof;
    return c->closing;
}

void write_final(cam_conn_t *c, buf_t *b)
{
    c->drain = unread_body(c) || (c->req != NULL && c->sock->input->size > c->req->fed);
    if (c->req != NULL)
        conn_consume(c, c->req->fed); /* the request's bytes still in the input */
    if (c->req != NULL && c->req->skip && !c->closing) {
        c->skipping = c->req; /* its body is dropped as it comes (conn.c) */
        c->req = NULL;
    }
    conn_drop_request(c);
    conn_set_state(c, CS_REPLY);
    conn_arm(c, api_conf.req_timeout_ms); /* for the reply to go out */
    write_out(c, b);
    if (c->closing) { /* what the client sends after this is dropped */
        /* A small window keeps each read (h2o reads all that is there,
         * growing the buffer) from pinning memory meanwhile. */
        int small = DROP_RCVBUF;
        setsockopt(h2o_socket_get_fd(c->sock), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        if (!c->eof)
            conn_pause_reading(c, false);
        conn_advance(c);
    }
}

void write_part(cam_conn_t *c, buf_t *b)
{
    conn_arm(c, api_conf.req_timeout_ms); /* for this piece to go out */
    write_out(c, b);
}

void write_answer(cam_conn_t *c, const api_reply_t *r)
{
    log_reply(c, r->status, r->camera, r->why);
    write_closing(c, r->close);
    buf_t b = BUF_INIT;
    render(&b, c, r);
    write_final(c, &b);
}

static void send_to_conn(void *c, const api_reply_t *r)
{
    write_answer(c, r);
}

void write_refuse(cam_conn_t *c, const verdict_t *v)
{
    reply_verdict_to(v, send_to_conn, c);
}

void write_continue(cam_conn_t *c)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "HTTP/1.1 100 Continue\r\n\r\n");
    write_out(c, &b);
}
