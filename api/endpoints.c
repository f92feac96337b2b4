/* The three relay endpoints: the contract's order of checks, then the camera
 * table does the rest (cameras.c). Order: method (routes.c), credentials
 * (camera id first on the camera endpoints), other parameters, body size,
 * state, the stream itself. */
#include "camera.h"

static const char *camera_id(const query_t *q)
{
    return q->has_camera ? q->camera : "default";
}

/* The camera for a request, or NULL after replying 503 (table full). */
static camera_t *lookup(h2o_req_t *req, const char *id, bool create)
{
    bool full = false;
    camera_t *cam = camera_get(id, create, &full);
    if (full)
        reply_error(req, 503, "too many cameras: the api's camera table is full", id);
    return cam;
}

/* True when one more held poll would pass --max-polls. A camera that holds a
 * poll already (the new one replaces it) or has a fetch waiting for it
 * (answered at once) adds none, so a reconnecting camera is never locked out. */
static bool too_many_polls(const char *id)
{
    bool full = false;
    camera_t *cam = camera_get(id, false, &full);
    if (cam != NULL && (cam->poll != NULL || cam->s.state == SESSION_PENDING))
        return false;
    return cameras_polls() >= api_conf.max_polls;
}

/* The parameters each endpoint takes; the others are unknown to it. */
#define CONTROL_PARAMS QP_BIT(QP_OTHER)
#define STATS_PARAMS (QP_BIT(QP_OTHER) | QP_BIT(QP_REQUEST_ID))
#define LOGS_PARAMS                                                                                \
    (QP_BIT(QP_OTHER) | QP_BIT(QP_CAMERA) | QP_BIT(QP_TIMEOUT) | QP_BIT(QP_LIMIT) |                \
     QP_BIT(QP_SINCE))

/* The camera endpoints' checks: camera id (400), token (401), the other
 * parameters (400). Returns the camera id, or NULL after replying. */
static const char *camera_checks(h2o_req_t *req, const query_t *q, unsigned params)
{
    const char *id = camera_id(q), *err;
    if (q->err[QP_CAMERA] != NULL) {
        reply_error(req, 400, q->err[QP_CAMERA], NULL);
        return NULL;
    }
    if (check_camera_auth(req, id) != 0)
        return NULL;
    if ((err = query_error(q, params)) != NULL) {
        reply_error(req, 400, err, id);
        return NULL;
    }
    return id;
}

int on_control(h2o_req_t *req, const query_t *q)
{
    const char *id = camera_checks(req, q, CONTROL_PARAMS);
    if (id == NULL)
        return 0;
    if (api_stopping) {
        reply_error(req, 503, "the api is shutting down", id);
        return 0;
    }
    if (too_many_polls(id)) {
        req->http1_is_persistent = 0; /* give the descriptor back */
        reply_error(req, 503, "too many held polls", id);
        return 0;
    }
    camera_t *cam = lookup(req, id, true);
    if (cam != NULL) {
        camera_seen(cam);
        camera_poll(cam, req);
    }
    return 0;
}

int on_logs(h2o_req_t *req, const query_t *q)
{
    /* Every /logs error names its camera, when the id itself is valid. */
    const char *id = q->err[QP_CAMERA] == NULL ? camera_id(q) : NULL;
    if (check_operator_auth(req, id) != 0)
        return 0;
    const char *err = query_error(q, LOGS_PARAMS);
    if (err != NULL) {
        reply_error(req, 400, err, id);
        return 0;
    }
    if (api_stopping) {
        reply_error(req, 503, "the api is shutting down", id);
        return 0;
    }
    if (metrics_waiting_now() >= api_conf.max_waiters) {
        req->http1_is_persistent = 0; /* give the descriptor back */
        reply_error(req, 503, "too many /logs waiters", id);
        return 0;
    }
    camera_t *cam = lookup(req, id, true);
    if (cam != NULL)
        camera_logs(cam, req, q);
    return 0;
}

int on_send_stats(h2o_req_t *req, const query_t *q)
{
    const char *id = camera_checks(req, q, STATS_PARAMS);
    if (id == NULL)
        return 0;
    /* Size, state and stream are checked against the camera's fetch. */
    camera_t *cam = lookup(req, id, false);
    if (cam != NULL)
        camera_seen(cam);
    camera_stats(cam, req, id, q);
    if (cam != NULL)
        camera_answered(cam);
    return 0;
}
