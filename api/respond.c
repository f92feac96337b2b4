/* A reply rendered onto an h2o request: status, headers, body (in memory,
 * or produced as the client reads it), and the request's log line and
 * counter. What a reply says is shared with the camera
 * path (reply.c); this file only renders it for h2o. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "api.h"
#include "log.h"
#include "front.h"
#include "metrics.h"
#include "net.h"
#include "reply.h"
#include "routes.h"

size_t respond_path_len(const h2o_req_t *req)
{
    return req->query_at != SIZE_MAX ? req->query_at : req->path.len;
}

static void log_line(h2o_req_t *req, const api_reply_t *r)
{
    if (!reply_log_wanted(req->path.base, respond_path_len(req), r->status))
        return;
    struct timeval now;
    gettimeofday(&now, NULL);
    long long us = (now.tv_sec - req->processed_at.at.tv_sec) * 1000000ll +
                   (now.tv_usec - req->processed_at.at.tv_usec);
    char client[INET6_ADDRSTRLEN + 8];
    net_peer(req, client, sizeof(client));
    reply_log(req->method.base, req->method.len, req->path.base, respond_path_len(req), client,
              r->status, r->camera, us, r->why);
}

static void add_header(void *ctx, const char *name, const char *value)
{
    h2o_req_t *req = ctx;
    /* The value may live on the caller's stack (a cursor): the pool keeps a copy. */
    h2o_iovec_t v = h2o_strdup(&req->pool, value, strlen(value));
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, v.base,
                          v.len);
}

/* A body produced as the client reads it (api_reply_t.stream): one slice
 * at a time, the next when h2o asks (proceed: the one before was written,
 * HTTP/2's window allowing). The generator lives in the request's pool; the
 * stream is freed after its last slice, or when the request is (the client
 * left). */
typedef struct gen {
    h2o_generator_t super;
    reply_stream_t *s;
    size_t left; /* bytes still to send */
    buf_t slice; /* the one h2o has; valid until proceed or dispose */
} gen_t;

static void gen_release(gen_t *g)
{
    if (g->s != NULL)
        g->s->free(g->s);
    g->s = NULL;
}

static void gen_dispose(void *p)
{
    gen_t *g = p;
    gen_release(g);
    buf_free(&g->slice);
}

static void gen_proceed(h2o_generator_t *self, h2o_req_t *req)
{
    gen_t *g = (gen_t *)self;
    h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
    g->slice.len = 0;
    if (g->s != NULL)
        g->s->next(g->s, &g->slice);
    if (g->slice.len == 0 || g->slice.len > g->left) { /* its length was wrong: a bug */
        log_msg(LOGL_ERROR, "bug: a reply's body ran %s its Content-Length (%zu bytes left)",
                g->slice.len == 0 ? "short of" : "past", g->left);
        g->slice.len = 0;
        state = H2O_SEND_STATE_ERROR;
    } else if ((g->left -= g->slice.len) == 0) {
        state = H2O_SEND_STATE_FINAL;
    }
    if (state != H2O_SEND_STATE_IN_PROGRESS)
        gen_release(g); /* the records it showed can go */
    h2o_iovec_t v = h2o_iovec_init(g->slice.data, g->slice.len);
    h2o_send(req, &v, 1, state);
}

static void gen_stop(h2o_generator_t *self, h2o_req_t *req)
{
    gen_release((gen_t *)self);
}

static void send_stream(h2o_req_t *req, const api_reply_t *r)
{
    gen_t *g = h2o_mem_alloc_shared(&req->pool, sizeof(*g), gen_dispose);
    *g = (gen_t){.super = {.proceed = gen_proceed, .stop = gen_stop},
                 .s = r->stream,
                 .left = r->len,
                 .slice = BUF_INIT};
    h2o_start_response(req, &g->super);
    gen_proceed(&g->super, req);
}

void respond_send(h2o_req_t *req, const api_reply_t *r)
{
    log_line(req, r);
    const route_t *rt = routes_find(req->path.base, respond_path_len(req));
    metrics_reply(rt != NULL ? rt->metric : M_OTHER, r->status);
    req->res.status = r->status;
    req->res.reason = reply_reason(r->status);
    bool empty = r->status == 204 || r->status == 304;
    if (!empty) {
        req->res.content_length = r->len;
        if (r->ctype != NULL)
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, r->ctype,
                           strlen(r->ctype));
    }
    reply_each_header(r, add_header, req);
    if (api_stopping || r->close)
        req->http1_is_persistent = 0;
    if (r->stream != NULL && !empty && r->len > 0) {
        send_stream(req, r);
        return;
    }
    if (r->stream != NULL) /* nothing of it to send */
        r->stream->free(r->stream);
    h2o_send_inline(req, empty ? "" : r->body, empty ? 0 : r->len);
}

void respond_stream(h2o_req_t *req, h2o_generator_t *gen, const char *ctype)
{
    api_reply_t r = {.status = 200, .ctype = ctype};
    log_line(req, &r);
    const route_t *rt = routes_find(req->path.base, respond_path_len(req));
    metrics_reply(rt != NULL ? rt->metric : M_OTHER, 200);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
                   strlen(ctype));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    /* nginx passes it on at once (docs/DEPLOY.md) */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0, NULL,
                          H2O_STRLIT("no"));
    h2o_start_response(req, gen);
}

void respond(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len,
             const char *camera)
{
    api_reply_t r = {.status = status, .ctype = ctype, .body = body, .len = len, .camera = camera};
    respond_send(req, &r);
}

void respond_json(h2o_req_t *req, int status, const buf_t *body, const char *camera)
{
    respond(req, status, "application/json", body->data, body->len, camera);
}

static void send_to_req(void *req, const api_reply_t *r)
{
    respond_send(req, r);
}

void respond_verdict(h2o_req_t *req, const verdict_t *v)
{
    reply_verdict_to(v, send_to_req, req);
}

void respond_error(h2o_req_t *req, int status, const char *reason, const char *camera)
{
    verdict_t v;
    reply_refuse(&v, status, reason, camera);
    respond_verdict(req, &v);
}

void respond_unauthorized(h2o_req_t *req, const char *reason, const char *camera, bool presented)
{
    verdict_t v;
    reply_refuse(&v, 401, reason, camera);
    v.bad_token = presented;
    respond_verdict(req, &v);
}
