/* GET /logs?follow=1 on the camera path (docs/API.md "Follow"): the
 * connection itself holds the follower, as it holds a poll: no h2o request,
 * no input buffer, no parser; only this record, the follower and what is
 * still unsent. The checks are /logs' (operator token, parameters, the
 * waiters' cap) plus the follower's (relay/followfetch.c); then a 200 head
 * (chunked over HTTP/1.1, ended by the close over 1.0) and the relay writes
 * the stream through follow_ops_t. Writes are non-blocking, PIECE bytes at a
 * time, so a client that reads slowly is seen to make progress (took_ms);
 * one that does not read is cut by the relay. What the client sends while
 * it follows is dropped; its hang-up drops the follower. */
#include <stdlib.h>
#include <string.h>

#include "campath_int.h"

#define PIECE (64 * 1024)

struct cfollow {
    follower_t f;
    cam_conn_t *c;
    bool attached; /* the relay's follower (not yet ended or gone) */
    bool chunked;
    bool closing;   /* close once everything is written */
    buf_t out;      /* being written, from out_off: not touched while a piece is */
    size_t out_off; /* in flight (h2o writes from it), so nothing is copied */
    size_t wlen;    /* the piece in flight (0: none) */
    buf_t next;     /* sent since: written once `out` is */
};

static void on_written(h2o_socket_t *sock, const char *err);

/* Writes the next piece of what is unsent, if none is in flight; closes a
 * closing stream once all is written. False when the connection is closed. */
static bool pump(cfollow_t *cf)
{
    if (cf->wlen != 0)
        return true;
    if (cf->out_off == cf->out.len) { /* `out` is written: `next` goes */
        buf_free(&cf->out);
        cf->out = cf->next;
        cf->next = (buf_t)BUF_INIT;
        cf->out_off = 0;
    }
    if (cf->out.len == 0) {
        buf_free(&cf->out); /* an idle follower keeps no buffer */
        if (cf->closing) {
            conn_close(cf->c);
            return false;
        }
        return true;
    }
    size_t n = cf->out.len - cf->out_off;
    cf->wlen = n < PIECE ? n : PIECE;
    h2o_iovec_t v = h2o_iovec_init(cf->out.data + cf->out_off, cf->wlen);
    h2o_socket_write(cf->c->sock, &v, 1, on_written);
    return true;
}

static void on_written(h2o_socket_t *sock, const char *err)
{
    cam_conn_t *c = sock->data;
    cfollow_t *cf = c->follow;
    cf->out_off += cf->wlen;
    cf->f.unsent -= cf->wlen;
    cf->wlen = 0;
    cf->f.took_ms = clock_ms();
    if (err != NULL) {
        conn_close(c); /* cfollow_free drops the follower */
        return;
    }
    pump(cf);
}

static void send_bytes(follower_t *f, buf_t *b)
{
    cfollow_t *cf = H2O_STRUCT_FROM_MEMBER(cfollow_t, f, f);
    size_t before = cf->next.len;
    if (cf->chunked)
        buf_printf(&cf->next, "%zx\r\n", b->len);
    buf_append(&cf->next, b->data, b->len);
    if (cf->chunked)
        buf_puts(&cf->next, "\r\n");
    buf_free(b);
    if (f->unsent == 0)
        f->took_ms = clock_ms(); /* "taken nothing" counts from now */
    f->unsent += cf->next.len - before;
    pump(cf);
}

static void close_stream(follower_t *f, bool flush)
{
    cfollow_t *cf = H2O_STRUCT_FROM_MEMBER(cfollow_t, f, f);
    cf->attached = false;
    if (!flush) {
        conn_close(cf->c);
        return;
    }
    cf->closing = true;
    if (cf->chunked)
        buf_puts(&cf->next, "0\r\n\r\n");
    pump(cf);
}

static const follow_ops_t cfollow_ops = {send_bytes, close_stream};

/* The checks of /logs and of a follower; 0, or -1 with the refusal in v. */
static int check(cam_conn_t *c, query_t *q, camera_t **cam, verdict_t *v)
{
    const http1_head_t *h = &c->req->p.head;
    const char *base = conn_head_base(c), *id = checks_logs_camera(q);
    size_t alen = 0, llen = 0;
    bool presented = false;
    /* two statements: an argument list's order of evaluation is unspecified */
    const char *authz = http1_field(h, base, "authorization", &alen);
    const char *why = checks_operator_token(authz, alen, &presented);
    if (why != NULL) {
        reply_refuse(v, 401, why, id);
        v->bad_token = presented;
        return -1;
    }
    const char *err = query_error(q, LOGS_PARAMS);
    if (err != NULL)
        return reply_refuse(v, 400, err, id);
    if (api_stopping)
        return reply_refuse(v, 503, "the api is shutting down", id);
    if (metrics_waiting_now() + follow_count() >= api_conf.max_waiters) {
        reply_refuse(v, 503, "too many /logs waiters and followers", id);
        v->close = true;
        return -1;
    }
    if ((*cam = checks_admit(id, v)) == NULL)
        return -1;
    const char *last = http1_field(h, base, "last-event-id", &llen);
    return follow_check(*cam, q, last, llen, v);
}

static void head(cfollow_t *cf, const char *camera)
{
    cam_conn_t *c = cf->c;
    buf_printf(&cf->out,
               "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: text/event-stream\r\n"
               "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n%s\r\n",
               write_date(), cf->chunked ? "Transfer-Encoding: chunked\r\n" : "");
    cf->f.unsent = cf->out.len;
    cf->f.took_ms = clock_ms();
    metrics_reply(M_LOGS, 200);
    if (!reply_log_wanted("/logs", 5, 200))
        return;
    char client[64];
    net_sock_peer(c->sock, client, sizeof(client));
    long long us = (long long)(clock_us() - c->head_us);
    reply_log("GET", 3, "/logs", 5, client, 200, camera, us, NULL);
}

void cfollow_request(cam_conn_t *c, query_t *q)
{
    camera_t *cam = NULL;
    verdict_t v;
    if (check(c, q, &cam, &v) != 0) {
        write_refuse(c, &v);
        return;
    }
    conn_consume(c, c->req->fed);
    conn_drop_request(c);
    tmr_cancel(&c->timer);
    conn_set_state(c, CS_FOLLOW);
    conn_trim_input(c);
    cfollow_t *cf = xcalloc(1, sizeof(*cf));
    cf->c = c;
    cf->attached = true;
    cf->chunked = !c->http10;
    cf->f.ops = &cfollow_ops;
    c->follow = cf;
    head(cf, cameras_name(cam));
    follow_start(cam, &cf->f, q); /* writes the stream's start (and may end it) */
}

void cfollow_free(cam_conn_t *c)
{
    cfollow_t *cf = c->follow;
    if (cf == NULL)
        return;
    c->follow = NULL;
    if (cf->attached)
        follow_gone(&cf->f);
    buf_free(&cf->out); /* h2o drops a pending write on close */
    buf_free(&cf->next);
    free(cf);
}
