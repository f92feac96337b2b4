/* Path -> handler, the method check (405 + Allow), replies and the request
 * log line. Paths match exactly; the query string goes through the
 * generated query parser once, here. */
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include "api.h"
#include "jsonw.h"
#include "log.h"

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 499:
        return "Client Closed Request";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

static const struct route {
    const char *path, *method;
    enum { R_CONTROL, R_LOGS, R_STATS, R_STATUS } kind;
    enum metric_endpoint metric;
} routes[] = {
    {"/control-channel", "GET", R_CONTROL, M_CONTROL},
    {"/logs", "GET", R_LOGS, M_LOGS},
    {"/send-stats", "POST", R_STATS, M_STATS},
    {"/healthz", "GET", R_STATUS, M_OTHER},
    {"/metrics", "GET", R_STATUS, M_OTHER},
    {"/cameras", "GET", R_STATUS, M_OTHER},
};

/* The route of the request's path (without its query), or NULL. */
static const struct route *route_of(h2o_req_t *req)
{
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (h2o_memis(req->path.base, plen, routes[i].path, strlen(routes[i].path)))
            return &routes[i];
    return NULL;
}

/* Routine for a camera fleet, so debug: a poll released at its timeout
 * (204) or replaced by the camera's newer one (409). */
static bool routine(h2o_req_t *req, int status)
{
    const struct route *r = route_of(req);
    return r != NULL && r->kind == R_CONTROL && (status == 204 || status == 409);
}

static void log_line(h2o_req_t *req, int status, const char *camera)
{
    enum log_level level = routine(req, status) ? LOGL_DEBUG : LOGL_INFO;
    if (api_conf.quiet || !log_enabled(level))
        return;
    struct timeval now;
    gettimeofday(&now, NULL);
    long long us = (now.tv_sec - req->processed_at.at.tv_sec) * 1000000ll +
                   (now.tv_usec - req->processed_at.at.tv_usec);
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    char client[INET6_ADDRSTRLEN + 8];
    net_peer(req, client, sizeof(client));
    log_field_t f[] = {LOG_STR("client", client), LOG_STR("camera", camera ? camera : "-"),
                       LOG_NUM("status", status), LOG_FIX("ms", us, 3)};
    log_with(level, f, 4, "%.*s %.*s", (int)req->method.len, req->method.base, (int)plen,
             req->path.base);
}

void reply(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len,
           const char *camera)
{
    log_line(req, status, camera);
    const struct route *r = route_of(req);
    metrics_reply(r != NULL ? r->metric : M_OTHER, status);
    req->res.status = status;
    req->res.reason = reason_of(status);
    if (status != 204) {
        req->res.content_length = len;
        if (ctype != NULL)
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
                           strlen(ctype));
    }
    if (api_stopping)
        req->http1_is_persistent = 0;
    h2o_send_inline(req, status == 204 ? "" : body, status == 204 ? 0 : len);
}

void reply_json(h2o_req_t *req, int status, const buf_t *body, const char *camera)
{
    reply(req, status, "application/json", body->data, body->len, camera);
}

void reply_error(h2o_req_t *req, int status, const char *reason, const char *camera)
{
    buf_t b = BUF_INIT;
    jsonw_error_about(&b, reason, camera); /* every /logs error names its camera */
    reply_json(req, status, &b, camera);
    buf_free(&b);
}

static int method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    live_track(req);
    const struct route *r = route_of(req);
    if (r == NULL) {
        reply_error(req, 404, "no such endpoint", NULL);
        return 0;
    }
    if (!method_is(req, r->method)) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, r->method,
                       strlen(r->method));
        reply_error(req, 405, "method not allowed", NULL);
        return 0;
    }
    query_t q;
    if (req->query_at != SIZE_MAX)
        query_parse(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &q);
    else
        query_parse("", 0, &q);
    switch (r->kind) {
    case R_STATUS:
        return on_status(req, r->path, &q);
    case R_CONTROL:
        return on_control(req, &q);
    case R_LOGS:
        return on_logs(req, &q);
    default:
        return on_send_stats(req, &q);
    }
}

void routes_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof(*h));
    h->on_req = on_req;
}
