/* h2o's handlers for the three relay endpoints (over HTTP/2, or on an
 * HTTP/1 connection the camera path handed to h2o), and the operator-token
 * check of h2o's requests. The checks themselves are checks.c's, shared
 * with the camera path (campath/channel.c, campath/stats.c). */
#include "api.h"
#include "checks.h"
#include "front.h"
#include "net.h"
#include "metrics.h"
#include "relay/relay.h"

const char *endpoints_authorization(h2o_req_t *req, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return NULL;
    *len = req->headers.entries[i].value.len;
    return req->headers.entries[i].value.base;
}

int endpoints_operator(h2o_req_t *req, const char *camera)
{
    size_t len = 0;
    bool presented;
    const char *authz = endpoints_authorization(req, &len);
    const char *why = checks_operator_token(authz, len, &presented);
    if (why == NULL)
        return 0;
    respond_unauthorized(req, why, camera, presented);
    return -1;
}

/* The camera for a request, or NULL after replying 503 (table full). */
static camera_t *lookup(h2o_req_t *req, const char *id)
{
    verdict_t v;
    camera_t *cam = checks_admit(id, &v);
    if (cam == NULL)
        respond_verdict(req, &v);
    return cam;
}

/* What h2o holds for the relay core: a poll or a /logs waiter in an h2o
 * request (HTTP/2, or a connection handed to h2o). */
typedef struct h2o_hold {
    held_t held; /* first: allocated by held_new */
    union {
        poll_t poll;
        waiter_t waiter;
    } u;
} h2o_hold_t;

static void h2o_hold_answer(void *u, const api_reply_t *r)
{
    h2o_hold_t *h = H2O_STRUCT_FROM_MEMBER(h2o_hold_t, u, u);
    respond_send(held_take(&h->held), r);
}

static const relay_ops_t h2o_hold_ops = {h2o_hold_answer};

static void h2o_poll_gone(held_t *h)
{
    handshake_poll_gone(&((h2o_hold_t *)h)->u.poll);
}

static void h2o_waiter_gone(held_t *h)
{
    handshake_waiter_gone(&((h2o_hold_t *)h)->u.waiter);
}

static const char *checks(h2o_req_t *req, const query_t *q, unsigned params)
{
    size_t len = 0;
    const char *authz = endpoints_authorization(req, &len), *id;
    verdict_t v;
    if (checks_camera(q, authz, len, params, &id, &v) == 0)
        return id;
    respond_verdict(req, &v);
    return NULL;
}

int endpoints_control(h2o_req_t *req, const query_t *q)
{
    const char *id = checks(req, q, CONTROL_PARAMS);
    verdict_t v;
    if (id == NULL)
        return 0;
    if (checks_control(id, &v) != 0) {
        respond_verdict(req, &v);
        return 0;
    }
    camera_t *cam = lookup(req, id);
    if (cam != NULL) {
        char addr[56];
        net_peer(req, addr, sizeof(addr));
        cameras_from(cam, addr);
        h2o_hold_t *h = held_new(req, sizeof(*h), h2o_poll_gone);
        h->u.poll.ops = &h2o_hold_ops;
        cameras_epoch(cam, q->has_epoch ? q->epoch : NULL);
        handshake_poll(cam, &h->u.poll);
    }
    return 0;
}

/* Operators' /logs ---------------------------------------------------------------- */

/* follow=1 (1.2) reaching h2o: HTTP/2 (every HTTP/1 request is read by the
 * camera path, which holds its followers itself, campath/follow.c). A
 * camera known not to number its events is 409 (the contract); else 505: a
 * follower is served over HTTP/1.1 only (docs/API.md "Follow"). */
static void follow_refuse(h2o_req_t *req, camera_t *cam, const char *id)
{
    if (cameras_numbers(cam) == 0)
        respond_error(req, 409, "follow=1: this camera does not number its events", id);
    else
        respond_error(req, 505, "follow=1 is served over HTTP/1.1 only", id);
}

int endpoints_logs(h2o_req_t *req, const query_t *q)
{
    const char *id = checks_logs_camera(q);
    if (endpoints_operator(req, id) != 0)
        return 0;
    const char *err = query_error(q, LOGS_PARAMS);
    if (err != NULL) {
        respond_error(req, 400, err, id);
        return 0;
    }
    if (api_stopping) {
        respond_error(req, 503, "the api is shutting down", id);
        return 0;
    }
    if (metrics_waiting_now() + follow_count() >= api_conf.max_waiters) { /* followers too */
        req->http1_is_persistent = 0; /* give the descriptor back */
        respond_error(req, 503, "too many /logs waiters", id);
        return 0;
    }
    camera_t *cam = lookup(req, id);
    if (cam != NULL && q->follow) {
        follow_refuse(req, cam, id);
        return 0;
    }
    if (cam != NULL) {
        h2o_hold_t *h = held_new(req, sizeof(*h), h2o_waiter_gone);
        h->held.pass = 1; /* its hang-up after the polls' in a batch (held.c) */
        h->u.waiter.ops = &h2o_hold_ops;
        handshake_logs(cam, &h->u.waiter, q);
    }
    return 0;
}

/* h2o's uploads: h2o has read the whole body before the handler runs. */
int endpoints_stats(h2o_req_t *req, const query_t *q)
{
    const char *id = checks(req, q, STATS_PARAMS);
    verdict_t v;
    if (id == NULL)
        return 0;
    upload_t *up = upload_admit(id, q, true, req->entity.len, &v);
    if (up == NULL) {
        respond_verdict(req, &v);
        return 0;
    }
    if (upload_feed(up, req->entity.base, req->entity.len) == 0)
        upload_finish(up);
    buf_t b = BUF_INIT;
    api_reply_t r;
    upload_reply(up, &r, &b);
    respond_send(req, &r);
    buf_free(&b);
    upload_free(up);
    return 0;
}
