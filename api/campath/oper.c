/* Operator requests on the camera path (docs/HTTP1.md, "One reader for
 * every request"). A request that is not a camera endpoint is served by
 * h2o's handler (front.c) without h2o's HTTP/1 reader: the head our machine
 * read (and checked: no body, limits, framing) becomes an h2o_req_t of a
 * connection of ours, and the reply comes back through a final ostream of
 * ours, rendered here and written by write.c. The connection stays the
 * camera path's: the next request is read by our machine again.
 *
 * While h2o holds the request (a /logs waiter), the connection is not read,
 * as h2o's HTTP/1 does, and held.c watches it for a hang-up. A reply of
 * unknown length goes out chunked (HTTP/1.1) or ends with the connection
 * (1.0); each piece is asked for once the one before it is written, so a
 * client that reads slowly holds one piece at a time. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "campath_int.h"

/* A reply's body goes out in pieces of this size, each written before the
 * next: the bytes stay where h2o keeps them (the request's pool) and each
 * piece written is progress for the write deadline. */
#define PIECE (16 * 1024)

struct oper {
    h2o_conn_t super; /* first: h2o hands it back as req->conn */
    cam_conn_t *c;
    h2o_req_t req;
    h2o_ostream_t ostr;
    bool sent_head, chunked, final, cut; /* cut: the body ended in error */
    h2o_iovec_t *rest;                   /* the final send's bytes still to go (in the pool) */
    size_t nrest;
};

static socklen_t get_sockname(h2o_conn_t *conn, struct sockaddr *sa)
{
    return h2o_socket_getsockname(((oper_t *)conn)->c->sock, sa);
}

static socklen_t get_peername(h2o_conn_t *conn, struct sockaddr *sa)
{
    return h2o_socket_getpeername(((oper_t *)conn)->c->sock, sa);
}

static h2o_socket_t *get_socket(h2o_conn_t *conn)
{
    return ((oper_t *)conn)->c->sock;
}

static const h2o_conn_callbacks_t callbacks = {
    .get_sockname = get_sockname, .get_peername = get_peername, .get_socket = get_socket};

static h2o_iovec_t dup_span(h2o_req_t *req, const char *base, http1_span_t s)
{
    return h2o_strdup(&req->pool, base + s.off, s.len);
}

/* The head's fields, names lowercased (h2o's tokens are), values copied. */
static void copy_fields(h2o_req_t *req, const http1_head_t *h, const char *base)
{
    for (unsigned i = 0; i < h->nfields; i++) {
        h2o_iovec_t n = dup_span(req, base, h->fields[i].name);
        h2o_iovec_t v = dup_span(req, base, h->fields[i].value);
        for (size_t j = 0; j < n.len; j++)
            n.base[j] = (char)tolower((unsigned char)n.base[j]);
        if (h2o_memis(n.base, n.len, H2O_STRLIT("host")) && req->input.authority.base == NULL)
            req->input.authority = v;
        h2o_add_header_by_str(&req->pool, &req->headers, n.base, n.len, 1, NULL, v.base, v.len);
    }
}

/* Rendering -------------------------------------------------------------------- */

static bool no_body_status(int status)
{
    return status == 204 || status == 304 || (status >= 100 && status < 200);
}

static void render_head(oper_t *o, buf_t *b)
{
    h2o_req_t *req = &o->req;
    cam_conn_t *c = o->c;
    bool head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    write_closing(c, !req->http1_is_persistent);
    /* h2o's chunked encoder (a default filter for HTTP/1.1) may have framed
     * the body already: it added the header, and the chunks are in the body. */
    bool framed = h2o_find_header(&req->res.headers, H2O_TOKEN_TRANSFER_ENCODING, -1) >= 0;
    if (req->res.content_length == SIZE_MAX && !no_body_status(req->res.status) && !head &&
        !framed) {
        if (c->http10)
            c->closing = true; /* the end of the connection ends the body */
        else
            o->chunked = true;
    }
    buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", req->res.status, reply_reason(req->res.status),
               write_date());
    h2o_iovec_t server = o->super.ctx->globalconf->server_name;
    if (server.len > 0) /* as h2o's HTTP/1 says it */
        buf_printf(b, "Server: %.*s\r\n", (int)server.len, server.base);
    if (c->closing)
        buf_puts(b, "Connection: close\r\n");
    else if (c->http10)
        buf_puts(b, "Connection: keep-alive\r\n");
    for (size_t i = 0; i < req->res.headers.size; i++) {
        const h2o_header_t *f = &req->res.headers.entries[i];
        buf_printf(b, "%.*s: %.*s\r\n", (int)f->name->len, f->name->base, (int)f->value.len,
                   f->value.base);
    }
    if (o->chunked)
        buf_puts(b, "Transfer-Encoding: chunked\r\n");
    else if (req->res.content_length != SIZE_MAX && !no_body_status(req->res.status))
        buf_printf(b, "Content-Length: %zu\r\n", req->res.content_length);
    buf_puts(b, "\r\n");
}

/* A piece of a reply still in progress (one chunk when chunked). */
static void render_body(oper_t *o, buf_t *b, h2o_iovec_t *bufs, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += bufs[i].len;
    if (o->chunked && len > 0)
        buf_printf(b, "%zx\r\n", len);
    for (size_t i = 0; i < n; i++)
        buf_append(b, bufs[i].base, bufs[i].len);
    if (o->chunked && len > 0)
        buf_puts(b, "\r\n");
}

/* Writes up to PIECE bytes of o->rest, or the last of them as the end of
 * the reply. */
static void next_piece(oper_t *o, buf_t *b)
{
    size_t room = PIECE;
    while (o->nrest > 0 && room > 0) {
        size_t n = o->rest->len < room ? o->rest->len : room;
        buf_append(b, o->rest->base, n);
        o->rest->base += n, o->rest->len -= n, room -= n;
        if (o->rest->len == 0)
            o->rest++, o->nrest--;
    }
    if (o->nrest > 0) {
        write_part(o->c, b);
        return;
    }
    if (o->chunked && !o->cut) /* a cut body has no last chunk: the close says so */
        buf_puts(b, "0\r\n\r\n");
    write_final(o->c, b);
}

/* A slow reader of a long reply is judged by its progress: TCP_USER_TIMEOUT
 * is lifted until the connection's next request (conn.c), since the kernel
 * may hold all of the reply after our last write. */
static void lift_user_timeout(cam_conn_t *c)
{
    if (!c->ut_lifted) {
        c->ut_lifted = true;
        net_reading_reply(h2o_socket_get_fd(c->sock), true);
    }
}

/* h2o's final ostream: every piece of the reply comes here. A final send
 * goes out PIECE by PIECE; one in progress at once, h2o asked for the next
 * when it is written. */
static void on_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n,
                    h2o_send_state_t state)
{
    oper_t *o = H2O_STRUCT_FROM_MEMBER(oper_t, ostr, self);
    buf_t b = BUF_INIT;
    if (!o->sent_head) {
        render_head(o, &b);
        o->sent_head = true;
    }
    o->final = !h2o_send_state_is_in_progress(state);
    if (state == H2O_SEND_STATE_ERROR)
        o->cut = o->c->closing = true; /* only a close says the body was cut */
    if (!o->final) {
        lift_user_timeout(o->c); /* a body in slices (a /logs 200) is long */
        render_body(o, &b, bufs, n);
        write_part(o->c, &b);
        return;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += bufs[i].len;
    if (o->chunked && len > 0) { /* one chunk for all of it */
        buf_printf(&b, "%zx\r\n", len);
        o->rest = h2o_mem_alloc_pool(&req->pool, sizeof(*o->rest) * (n + 1));
        memcpy(o->rest, bufs, sizeof(*bufs) * n);
        o->rest[n] = h2o_iovec_init(H2O_STRLIT("\r\n"));
        o->nrest = n + 1;
    } else if (n > 0) {
        o->rest = h2o_mem_alloc_pool(&req->pool, sizeof(*o->rest) * n);
        memcpy(o->rest, bufs, sizeof(*bufs) * n);
        o->nrest = n;
    }
    if (len > PIECE)
        lift_user_timeout(o->c);
    next_piece(o, &b);
}

/* Lifetime -------------------------------------------------------------------------- */

void oper_request(cam_conn_t *c)
{
    const http1_head_t *h = &c->req->p.head;
    const char *base = conn_head_base(c);
    oper_t *o = xcalloc(1, sizeof(*o));
    o->super.ctx = accept_h2o_ctx->ctx;
    o->super.hosts = accept_h2o_ctx->hosts;
    o->super.connected_at = c->connected_at;
    o->super.callbacks = &callbacks;
    o->c = c;
    c->oper = o;
    h2o_req_t *req = &o->req;
    h2o_init_request(req, &o->super, NULL);
    req->_ostr_top = &o->ostr;
    o->ostr.do_send = on_send;
    req->input.method = dup_span(req, base, h->method);
    req->input.path =
        h2o_strdup(&req->pool, base + h->path.off,
                   h->has_query ? h->query.off + h->query.len - h->path.off : h->path.len);
    req->input.scheme = c->sock->ssl != NULL ? &H2O_URL_SCHEME_HTTPS : &H2O_URL_SCHEME_HTTP;
    req->version = 0x100 | (h->minor != 0);
    req->http1_is_persistent = h->keep_alive && !api_stopping;
    copy_fields(req, h, base);
    c->keep_alive = h->keep_alive;
    c->http10 = h->minor == 0;
    conn_consume(c, c->req->fed); /* everything h2o needs is copied */
    conn_drop_request(c);
    conn_set_state(c, CS_OPER);
    tmr_cancel(&c->timer);
    conn_pause_reading(c, true); /* as h2o's HTTP/1 does; held.c sees a hang-up */
    h2o_process_request(req);
}

void oper_proceed(cam_conn_t *c)
{
    oper_t *o = c->oper;
    if (o == NULL)
        return;
    if (o->nrest > 0) {
        buf_t b = BUF_INIT;
        next_piece(o, &b);
    } else if (!o->final) {
        h2o_proceed_response(&o->req);
    }
}

void oper_free(cam_conn_t *c)
{
    oper_t *o = c->oper;
    if (o == NULL)
        return;
    c->oper = NULL;
    h2o_dispose_request(&o->req); /* a request not answered: held.c's on_gone */
    free(o);
}
