/* POST /send-stats on the camera path. The head alone is checked, in the
 * contract's order (the method in conn.c; camera id, token, parameters,
 * Content-Length against --max-body, state here and in upload.c), before a
 * byte of the body is read; then "100 Continue" if asked for, and the body
 * goes to its upload (upload.c) as it arrives, framing removed by the http1
 * machine. A malformation or overflow is answered at once and the
 * connection closed; the fetch's waiters know already.
 *
 * The contract's keep-alive rule: a request refused after its credentials
 * passed (409, or 400 for a parameter) whose body can be skipped (a
 * Content-Length or chunked body within --max-body, and no Expect:
 * 100-continue, whose client would not send it) is answered at once; its
 * body is then read and dropped (write.c keeps the request for that) and
 * the connection reads the request after it. A body that breaks its framing
 * or runs over --max-body ends the connection. */
#include <stdio.h>

#include "campath_int.h"

static bool has_body(const http1_head_t *h)
{
    return h->chunked || (h->has_length && h->length > 0);
}

/* Whether the body of a request refused with `v` can be dropped, keeping
 * the connection. */
static bool skippable(cam_conn_t *c, const query_t *q, const verdict_t *v)
{
    const http1_head_t *h = &c->req->p.head;
    bool after_credentials = v->status == 409 || (v->status == 400 && q->err[QP_CAMERA] == NULL);
    if (!after_credentials || !has_body(h) || h->expect_continue)
        return false;
    return h->chunked || h->length <= api_conf.max_body;
}

void stats_request(cam_conn_t *c, const query_t *q)
{
    const http1_head_t *h = &c->req->p.head;
    size_t alen = 0;
    const char *authz = http1_field(h, conn_head_base(c), "authorization", &alen), *id;
    verdict_t v;
    upload_t *up = NULL;
    int rc = checks_camera(q, authz, alen, STATS_PARAMS, &id, &v);
    if (q->err[QP_CAMERA] == NULL) /* id is valid (it points into q) */
        snprintf(c->req->camera, sizeof(c->req->camera), "%s", id);
    if (rc == 0)
        up = upload_admit(id, q, h->has_length && !h->chunked, h->length, &v);
    if (up == NULL) {
        c->req->skip = skippable(c, q, &v); /* write.c keeps it to drop its body */
        write_refuse(c, &v);
        return;
    }
    c->req->up = up;
    if (h->expect_continue && has_body(h))
        write_continue(c);
    conn_expect_body(c);
}

static void on_data(void *ctx, const char *data, size_t len)
{
    cam_req_t *r = ctx;
    if (upload_feed(r->up, data, len) != 0)
        r->failed = true;
}

static void on_drop(void *ctx, const char *data, size_t len)
{
    cam_req_t *r = ctx;
    r->skipped += len;
}

int stats_skip(cam_conn_t *c, cam_req_t *r)
{
    h2o_buffer_t *in = c->sock->input;
    size_t used = 0;
    if (in->size == 0)
        return 0;
    int rc = http1_feed_body(&r->p, in->bytes, in->size, &used, on_drop, r);
    conn_consume(c, used);
    if (rc == HTTP1_ERROR || r->skipped > api_conf.max_body)
        return -1;
    return rc == HTTP1_BODY_DONE ? 1 : 0;
}

/* The upload's own answer: 200, or 400/409/413 for a stream it refused. */
static void answer(cam_conn_t *c, bool close)
{
    buf_t b = BUF_INIT;
    api_reply_t r;
    upload_reply(c->req->up, &r, &b);
    r.close = close;
    write_answer(c, &r);
    buf_free(&b);
}

void stats_body(cam_conn_t *c)
{
    cam_req_t *r = c->req;
    h2o_buffer_t *in = c->sock->input;
    int rc = HTTP1_BODY_DONE;
    if (has_body(&r->p.head)) {
        if (in->size == 0)
            return;
        size_t used = 0;
        rc = http1_feed_body(&r->p, in->bytes, in->size, &used, on_data, r);
        if (used > 0)
            h2o_buffer_consume(&c->sock->input, used);
    }
    if (r->failed) { /* malformed at this byte, or over --max-body */
        answer(c, true);
    } else if (rc == HTTP1_ERROR) {
        verdict_t v = {.status = r->p.err.status, .reason = r->p.err.reason, .close = true};
        upload_fail(r->up, "the camera's upload had broken framing");
        write_refuse(c, &v);
    } else if (rc == HTTP1_BODY_DONE) {
        r->body_done = true;
        upload_finish(r->up);
        answer(c, false);
    }
}

const char *stats_camera(const cam_conn_t *c)
{
    return c->req != NULL && c->req->camera[0] != '\0' ? c->req->camera : NULL;
}

void stats_abort(cam_conn_t *c)
{
    if (c->req != NULL && c->req->up != NULL)
        upload_abort(c->req->up);
}
