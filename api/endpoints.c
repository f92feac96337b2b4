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
 * poll already (the new one replaces it) or has a fetch waiting (answered at
 * once) adds none, so a reconnecting camera is never locked out. */
static bool too_many_polls(const char *id)
{
    bool full = false;
    camera_t *cam = camera_get(id, false, &full);
    if (cam != NULL && (cam->poll != NULL || cam->fetch.active))
        return false;
    return cameras_connected() >= api_conf.max_polls;
}

int on_control(h2o_req_t *req, const query_t *q)
{
    const char *id = camera_id(q);
    if (q->camera_err != NULL) {
        reply_error(req, 400, q->camera_err, NULL);
        return 0;
    }
    if (check_camera_auth(req, id) != 0)
        return 0;
    if (q->other_err != NULL) {
        reply_error(req, 400, q->other_err, id);
        return 0;
    }
    if (api_stopping) {
        reply_error(req, 503, "the api is shutting down", id);
        return 0;
    }
    if (too_many_polls(id)) {
        reply_error(req, 503, "too many held polls", id);
        return 0;
    }
    camera_t *cam = lookup(req, id, true);
    if (cam != NULL)
        camera_poll(cam, req);
    return 0;
}

int on_logs(h2o_req_t *req, const query_t *q)
{
    if (check_operator_auth(req) != 0)
        return 0;
    const char *err = q->camera_err ? q->camera_err : q->other_err;
    if (err != NULL) {
        reply_error(req, 400, err, NULL);
        return 0;
    }
    const char *id = camera_id(q);
    if (api_stopping) {
        reply_error(req, 503, "the api is shutting down", id);
        return 0;
    }
    camera_t *cam = lookup(req, id, true);
    if (cam != NULL)
        camera_logs(cam, req, q);
    return 0;
}

int on_send_stats(h2o_req_t *req, const query_t *q)
{
    const char *id = camera_id(q);
    if (q->camera_err != NULL) {
        reply_error(req, 400, q->camera_err, NULL);
        return 0;
    }
    if (check_camera_auth(req, id) != 0)
        return 0;
    if (q->other_err != NULL) {
        reply_error(req, 400, q->other_err, id);
        return 0;
    }
    /* Size, state and stream are checked against the camera's fetch. */
    camera_t *cam = lookup(req, id, false);
    camera_stats(cam, req, q);
    return 0;
}
