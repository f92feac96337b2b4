/* POST /send-stats on the camera path. The head alone is checked, in the
 * contract's order (the method in conn.c; camera id, token, parameters,
 * Content-Length against --max-body, state here and in upload.c), before a
 * byte of the body is read; then "100 Continue" if asked for, and the body
 * goes to its upload (upload.c) as it arrives, framing removed by the http1
 * machine. A malformation or overflow is answered at once and the
 * connection closed; the fetch's waiters know already. */
#include "campath_int.h"

static bool has_body(const http1_head_t *h)
{
    return h->chunked || (h->has_length && h->length > 0);
}

void stats_request(cam_conn_t *c, const query_t *q)
{
    const http1_head_t *h = &c->req->p.head;
    size_t alen = 0;
    const char *authz = http1_field(h, conn_head_base(c), "authorization", &alen), *id;
    verdict_t v;
    upload_t *up = NULL;
    if (checks_camera(q, authz, alen, STATS_PARAMS, &id, &v) != 0 ||
        (up = upload_admit(id, q, h->has_length && !h->chunked, h->length, &v)) == NULL) {
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

void stats_abort(cam_conn_t *c)
{
    if (c->req != NULL && c->req->up != NULL)
        upload_abort(c->req->up);
}
