/* GET /control-channel on the camera path: the same checks as over h2o
 * (checks.c), then the connection itself becomes the held poll. While it
 * is held the connection keeps its cam_conn_t record only; the camera's
 * hang-up is read from the connection (conn.c calls channel_gone). */
#include "campath_int.h"

static void answer(void *p, const api_reply_t *r)
{
    write_answer(H2O_STRUCT_FROM_MEMBER(cam_conn_t, poll, p), r);
}

static const relay_ops_t cam_poll_ops = {answer};

void channel_request(cam_conn_t *c, const query_t *q)
{
    const http1_head_t *h = &c->req->p.head;
    size_t alen = 0;
    const char *authz = http1_field(h, conn_head_base(c), "authorization", &alen), *id;
    verdict_t v;
    if (checks_camera(q, authz, alen, CONTROL_PARAMS, &id, &v) != 0 ||
        checks_control(id, &v) != 0) {
        write_refuse(c, &v);
        return;
    }
    if (h->chunked || (h->has_length && h->length > 0)) {
        reply_refuse(&v, 400, "a /control-channel request has no body", id);
        write_refuse(c, &v);
        return;
    }
    camera_t *cam = checks_admit(id, &v);
    if (cam == NULL) {
        write_refuse(c, &v);
        return;
    }
    conn_hold(c); /* the head goes: `id` pointed into q, not into it */
    c->poll.ops = &cam_poll_ops;
    cameras_epoch(cam, q->has_epoch ? q->epoch : NULL);
    handshake_poll(cam, &c->poll); /* held, or answered at once */
}

void channel_gone(cam_conn_t *c)
{
    write_log_gone(c, cameras_name(c->poll.cam));
    handshake_poll_gone(&c->poll);
}
