/* The route table (path -> handler, method, metric), and h2o's side of the
 * api: its requests routed and answered (the method check, 405 + Allow).
 * Paths match exactly; the query string goes through the generated query
 * parser once, here. What a reply says, and its log line, are shared with
 * the camera path (reply.c); this file only renders them for h2o. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "web.h"

static const route_t routes[] = {
    {"/control-channel", "GET", R_CONTROL, M_CONTROL},
    {"/logs", "GET", R_LOGS, M_LOGS},
    {"/send-stats", "POST", R_STATS, M_STATS},
    {"/healthz", "GET", R_STATUS, M_OTHER},
    {"/metrics", "GET", R_STATUS, M_OTHER},
    {"/cameras", "GET", R_STATUS, M_OTHER},
    {"/rebalance", "POST", R_REBALANCE, M_OTHER},
};

const route_t *route_find(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (h2o_memis(path, len, routes[i].path, strlen(routes[i].path)))
            return &routes[i];
    return NULL;
}

static size_t path_len(h2o_req_t *req)
{
    return req->query_at != SIZE_MAX ? req->query_at : req->path.len;
}

static void log_line(h2o_req_t *req, int status, const char *camera)
{
    if (!reply_log_wanted(req->path.base, path_len(req), status))
        return;
    struct timeval now;
    gettimeofday(&now, NULL);
    long long us = (now.tv_sec - req->processed_at.at.tv_sec) * 1000000ll +
                   (now.tv_usec - req->processed_at.at.tv_usec);
    char client[INET6_ADDRSTRLEN + 8];
    net_peer(req, client, sizeof(client));
    reply_log(req->method.base, req->method.len, req->path.base, path_len(req), client, status,
              camera, us);
}

static void add_header(void *ctx, const char *name, const char *value)
{
    h2o_req_t *req = ctx;
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, value,
                          strlen(value));
}

void reply_send(h2o_req_t *req, const api_reply_t *r)
{
    log_line(req, r->status, r->camera);
    const route_t *rt = route_find(req->path.base, path_len(req));
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
    h2o_send_inline(req, empty ? "" : r->body, empty ? 0 : r->len);
}

void reply(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len,
           const char *camera)
{
    api_reply_t r = {.status = status, .ctype = ctype, .body = body, .len = len, .camera = camera};
    reply_send(req, &r);
}

void reply_json(h2o_req_t *req, int status, const buf_t *body, const char *camera)
{
    reply(req, status, "application/json", body->data, body->len, camera);
}

void reply_verdict(h2o_req_t *req, const verdict_t *v)
{
    buf_t b = BUF_INIT;
    api_reply_t r;
    reply_of_verdict(&r, v, &b);
    reply_send(req, &r);
    buf_free(&b);
}

void reply_error(h2o_req_t *req, int status, const char *reason, const char *camera)
{
    verdict_t v;
    verdict_set(&v, status, reason, camera);
    reply_verdict(req, &v);
}

void reply_unauthorized(h2o_req_t *req, const char *reason, const char *camera, bool presented)
{
    verdict_t v;
    verdict_set(&v, 401, reason, camera);
    v.bad_token = presented;
    reply_verdict(req, &v);
}

static int method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    live_track(req);
    const route_t *r = route_find(req->path.base, path_len(req));
    if (r == NULL) {
        if (web_serve(req) == 0)
            return 0;
        reply_error(req, 404, "no such endpoint", NULL);
        return 0;
    }
    query_t q;
    if (req->query_at != SIZE_MAX)
        query_parse(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &q);
    else
        query_parse("", 0, &q);
    if (!method_is(req, r->method)) {
        const char *id = r->kind == R_LOGS ? logs_camera(&q) : NULL;
        verdict_t v = {
            .status = 405, .reason = "method not allowed", .allow = r->method, .camera = id};
        reply_verdict(req, &v);
        return 0;
    }
    switch (r->kind) {
    case R_STATUS:
        return on_status(req, r->path, &q);
    case R_CONTROL:
        return on_control(req, &q);
    case R_LOGS:
        return on_logs(req, &q);
    case R_REBALANCE:
        return on_rebalance(req, &q);
    default:
        return on_send_stats(req, &q);
    }
}

void routes_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof(*h));
    h->on_req = on_req;
}
