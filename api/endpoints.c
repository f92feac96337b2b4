/* The relay endpoints' checks, in the contract's order: method (routes),
 * credentials (camera id first on the camera endpoints), other parameters,
 * body size, state, the stream itself. The checks of the camera endpoints
 * take a query and an Authorization value, not a request, so the camera
 * path (cam_control.c, cam_stats.c) runs the same ones; this file also
 * holds h2o's handlers for the three endpoints (over HTTP/2, or on an
 * HTTP/1 connection the camera path handed to h2o). */
#include "camera.h"

#define LOGS_PARAMS                                                                                \
    (QP_BIT(QP_OTHER) | QP_BIT(QP_CAMERA) | QP_BIT(QP_TIMEOUT) | QP_BIT(QP_LIMIT) |                \
     QP_BIT(QP_SINCE))

static const char *camera_id(const query_t *q)
{
    return q->has_camera ? q->camera : "default";
}

int camera_checks(const query_t *q, const char *authz, size_t authz_len, unsigned params,
                  const char **id, verdict_t *v)
{
    const char *err;
    bool presented;
    *id = camera_id(q);
    if (q->err[QP_CAMERA] != NULL)
        return verdict_set(v, 400, q->err[QP_CAMERA], NULL);
    if ((err = access_camera(authz, authz_len, *id, &presented)) != NULL) {
        verdict_set(v, 401, err, *id);
        v->bad_token = presented;
        return -1;
    }
    if ((err = query_error(q, params)) != NULL)
        return verdict_set(v, 400, err, *id);
    return 0;
}

/* True when one more held poll would pass --max-polls. A camera that holds a
 * poll already (the new one replaces it) or has a fetch waiting for it
 * (answered at once) adds none, so a reconnecting camera is never locked out. */
static bool too_many_polls(const char *id)
{
    bool full = false;
    camera_t *cam = camera_get(id, false, &full);
    /* Exempt: a poll that replaces a held one (409 to the old) or is answered
     * at once does not add to the held polls. */
    if (cam != NULL && (cam->poll != NULL || camera_poll_answered_now(cam)))
        return false;
    return cameras_polls() >= api_conf.max_polls;
}

int control_admit(const char *id, verdict_t *v)
{
    if (api_stopping)
        return verdict_set(v, 503, "the api is shutting down", id);
    if (too_many_polls(id)) {
        verdict_set(v, 503, "too many held polls", id);
        v->close = true; /* give the descriptor back */
        return -1;
    }
    return 0;
}

camera_t *camera_admit(const char *id, verdict_t *v)
{
    bool full = false;
    camera_t *cam = camera_get(id, true, &full);
    if (cam == NULL)
        verdict_set(v, 503, "too many cameras: the api's camera table is full", id);
    return cam;
}

/* The camera for a request, or NULL after replying 503 (table full). */
static camera_t *lookup(h2o_req_t *req, const char *id)
{
    verdict_t v;
    camera_t *cam = camera_admit(id, &v);
    if (cam == NULL)
        reply_verdict(req, &v);
    return cam;
}

/* h2o's polls ------------------------------------------------------------------- */

/* A poll held in an h2o request (HTTP/2, or a connection handed to h2o). */
typedef struct h2o_poll {
    held_t held; /* first: allocated by held_new */
    poll_t poll;
} h2o_poll_t;

static void h2o_poll_answer(poll_t *p, const api_reply_t *r)
{
    h2o_poll_t *hp = H2O_STRUCT_FROM_MEMBER(h2o_poll_t, poll, p);
    reply_send(held_take(&hp->held), r);
}

static void h2o_poll_gone(held_t *h)
{
    camera_poll_gone(&((h2o_poll_t *)h)->poll);
}

static const poll_ops_t h2o_poll_ops = {h2o_poll_answer};

static const char *checks(h2o_req_t *req, const query_t *q, unsigned params)
{
    size_t len = 0;
    const char *authz = req_authorization(req, &len), *id;
    verdict_t v;
    if (camera_checks(q, authz, len, params, &id, &v) == 0)
        return id;
    reply_verdict(req, &v);
    return NULL;
}

int on_control(h2o_req_t *req, const query_t *q)
{
    const char *id = checks(req, q, CONTROL_PARAMS);
    verdict_t v;
    if (id == NULL)
        return 0;
    if (control_admit(id, &v) != 0) {
        reply_verdict(req, &v);
        return 0;
    }
    camera_t *cam = lookup(req, id);
    if (cam != NULL) {
        h2o_poll_t *hp = held_new(req, sizeof(*hp), h2o_poll_gone);
        hp->poll.ops = &h2o_poll_ops;
        camera_poll(cam, &hp->poll);
    }
    return 0;
}

/* Operators' /logs ---------------------------------------------------------------- */

const char *logs_camera(const query_t *q)
{
    return q->err[QP_CAMERA] == NULL ? camera_id(q) : NULL;
}

int on_logs(h2o_req_t *req, const query_t *q)
{
    const char *id = logs_camera(q);
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
    camera_t *cam = lookup(req, id);
    if (cam != NULL)
        camera_logs(cam, req, q);
    return 0;
}

/* h2o's uploads: h2o has read the whole body before the handler runs. */
int on_send_stats(h2o_req_t *req, const query_t *q)
{
    const char *id = checks(req, q, STATS_PARAMS);
    verdict_t v;
    if (id == NULL)
        return 0;
    upload_t *up = upload_admit(id, q, true, req->entity.len, &v);
    if (up == NULL) {
        reply_verdict(req, &v);
        return 0;
    }
    if (upload_feed(up, req->entity.base, req->entity.len) == 0)
        upload_finish(up);
    buf_t b = BUF_INIT;
    api_reply_t r;
    upload_reply(up, &r, &b);
    reply_send(req, &r);
    buf_free(&b);
    upload_free(up);
    return 0;
}
