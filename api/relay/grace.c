/* The connect grace of a camera's handshake: one timer per camera, armed
 * by the actions that start a wait (for a poll, for a camera that vanished:
 * its poll or upload closed, or it was revoked; for the stats of a delivery) and fed to the machine
 * as EV_GRACE when it passes (spec/session.rl says what it means in each state). */
#include <stdio.h>

#include "relay_int.h"

/* How old a delivery with no stats must be before its message is resent:
 * the connect grace, but at least a second, so that a camera that re-polls
 * at once is never driven into a loop (--connect-grace 0). */
uint64_t grace_resend_ms(void)
{
    return api_conf.grace_ms > 1000 ? api_conf.grace_ms : 1000;
}

/* "camera not connected: no poll within 3 s" (a static buffer). */
const char *grace_not_connected(uint64_t waited_ms)
{
    static char why[80];
    snprintf(why, sizeof(why), "camera not connected: no poll within %g s", waited_ms / 1e3);
    return why;
}

/* The connect grace passed. While the camera is uploading, stats are coming
 * in: look again one grace later. In delivered (no poll held) there is
 * nothing to resend on; the next poll's arrival time decides (handshake_poll). */
static void on_grace(tmr_t *t)
{
    camera_t *cam = H2O_STRUCT_FROM_MEMBER(camera_t, grace, t);
    if (cam->s.state == SESSION_DELIVERED)
        return;
    if (cameras_uploading(cam)) {
        tmr_arm(&cam->grace,
                cam->s.state == SESSION_DELIVERED_POLLING ? grace_resend_ms() : api_conf.grace_ms);
        return;
    }
    handshake_feed(cam, EV_GRACE);
}

/* How long the grace to arm after `act` is, or 0 for none: waiting for a
 * poll or for a camera whose poll closed (--connect-grace), or for the
 * stats of a delivery (grace_resend_ms). */
static uint64_t grace_after(int act)
{
    switch (act) {
    case ACT_WAIT_CAMERA:
    case ACT_FORGET_WAIT:
    case ACT_AWAIT:
    case ACT_REFUSE_WAIT:
        return api_conf.grace_ms + 1; /* +1: 0 still arms */
    case ACT_REARM:
    case ACT_DELIVER_NEW:
    case ACT_DELIVER_HELD:
    case ACT_RESEND:
    case ACT_RESEND_HELD:
        return grace_resend_ms() + 1;
    default:
        return 0;
    }
}

/* Keeps the grace timer in step with the state the machine reached. */
void grace_track(camera_t *cam, int act)
{
    enum session_state s = cam->s.state;
    uint64_t after = grace_after(act);
    if (s == SESSION_IDLE || s == SESSION_POLLING) {
        tmr_cancel(&cam->grace);
    } else if (after) {
        cam->grace.cb = on_grace;
        tmr_arm(&cam->grace, after - 1);
    }
}
