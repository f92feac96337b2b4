/* h2o's one handler: every request h2o reads (HTTP/2, or an HTTP/1
 * connection the camera path handed over) is counted, routed, its method
 * checked (405 + Allow) and its query parsed once, through the generated
 * query parser, before its endpoint's handler runs. */
#include <string.h>

#include "checks.h"
#include "front.h"
#include "query.h"
#include "reply.h"
#include "routes.h"
#include "web.h"

static size_t nlive;

static void on_live_dispose(void *p)
{
    nlive--;
}

/* Counts the request from arrival to dispose (front_live). */
static void track(h2o_req_t *req)
{
    h2o_mem_alloc_shared(&req->pool, 1, on_live_dispose);
    nlive++;
}

size_t front_live(void)
{
    return nlive;
}

static int method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    track(req);
    const route_t *r = routes_find(req->path.base, respond_path_len(req));
    if (r == NULL) {
        if (web_serve(req) == 0)
            return 0;
        respond_error(req, 404, "no such endpoint", NULL);
        return 0;
    }
    query_t q;
    if (req->query_at != SIZE_MAX)
        query_parse(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &q);
    else
        query_parse("", 0, &q);
    if (!method_is(req, r->method)) {
        const char *id = r->kind == R_LOGS ? checks_logs_camera(&q) : NULL;
        verdict_t v = {
            .status = 405, .reason = "method not allowed", .allow = r->method, .camera = id};
        respond_verdict(req, &v);
        return 0;
    }
    switch (r->kind) {
    case R_STATUS:
        return status_serve(req, r->path, &q);
    case R_CONTROL:
        return endpoints_control(req, &q);
    case R_LOGS:
        return endpoints_logs(req, &q);
    case R_REBALANCE:
        return rebalance_serve(req, &q);
    default:
        return endpoints_stats(req, &q);
    }
}

void front_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof(*h));
    h->on_req = on_req;
}
