/* The operator status endpoints: /healthz (open), /metrics and /cameras
 * (operator token). /metrics is metrics.c's text with the relay core's
 * gauges handed in. */
#include <string.h>

#include "api.h"
#include "front.h"
#include "metrics.h"
#include "query.h"
#include "relay/relay.h"

int status_serve(h2o_req_t *req, const char *path, const query_t *q)
{
    buf_t b = BUF_INIT;
    bool open = strcmp(path, "/healthz") == 0, list = strcmp(path, "/cameras") == 0;
    unsigned params = QP_BIT(QP_OTHER) |
                      (list ? QP_BIT(QP_CONNECTED) | QP_BIT(QP_PREFIX) | QP_BIT(QP_FOLLOW) : 0);
    if (!open && endpoints_operator(req, NULL) != 0) {
        /* replied 401 */
    } else if (query_error(q, params) != NULL) {
        respond_error(req, 400, query_error(q, params), NULL);
    } else if (open) {
        buf_puts(&b, "{\"status\":\"ok\"}");
        respond_json(req, 200, &b, NULL);
    } else if (strcmp(path, "/metrics") == 0) {
        metrics_gauges_t g = {cameras_connected(), cameras_known(), handshake_polls(),
                              cache_bytes(), cache_events()};
        metrics_text(&b, &g);
        respond(req, 200, "text/plain; version=0.0.4", b.data, b.len, NULL);
    } else if (q->follow && api_stopping) {
        respond_error(req, 503, "the api is shutting down", NULL);
    } else if (q->follow) {
        camstream_serve(req, q);
    } else {
        cameras_filter_t f = {q->has_connected ? q->connected : -1, q->prefix};
        cameras_json(&b, &f);
        respond_json(req, 200, &b, NULL);
    }
    buf_free(&b);
    return 0;
}
