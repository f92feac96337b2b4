/* GET /control-channel on the camera path: the same checks as over h2o
 * (endpoints.c), then the connection itself becomes the held poll. While it
 * is held the connection keeps its cam_conn_t record only; the camera's
 * hang-up is read from the connection (cam_conn.c calls cam_control_gone). */
#include "cam.h"

static void answer(poll_t *p, const api_reply_t *r)
{
    cam_answer(H2O_STRUCT_FROM_MEMBER(cam_conn_t, poll, p), r);
}

static const poll_ops_t cam_poll_ops = {answer};

void cam_control(cam_conn_t *c, const query_t *q)
{
    const http1_head_t *h = &c->req->p.head;
    size_t alen = 0;
    const char *authz = http1_field(h, cam_head_base(c), "authorization", &alen), *id;
    verdict_t v;
    if (camera_checks(q, authz, alen, CONTROL_PARAMS, &id, &v) != 0 || control_admit(id, &v) != 0) {
        cam_refuse(c, &v);
        return;
    }
    if (h->chunked || (h->has_length && h->length > 0)) {
        verdict_set(&v, 400, "a /control-channel request has no body", id);
        cam_refuse(c, &v);
        return;
    }
    camera_t *cam = camera_admit(id, &v);
    if (cam == NULL) {
        cam_refuse(c, &v);
        return;
    }
    cam_hold(c); /* the head goes: `id` pointed into q, not into it */
    c->poll.ops = &cam_poll_ops;
    camera_poll(cam, &c->poll); /* held, or answered at once */
}

void cam_control_gone(cam_conn_t *c)
{
    cam_log_gone(c, camera_name(c->poll.cam));
    camera_poll_gone(&c->poll);
}
