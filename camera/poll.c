/* Connect role: long-poll /control-channel, driven by the machine of
 * spec/uplink.rl. 200 -> hand the control message to the request role and
 * poll again at once; 204, or our own client timeout after the request went
 * out -> poll again at once; 409, 5xx, any other
 * status, a connection error, a timeout before the request went out (connect
 * or TLS handshake) or a malformed control message -> back off exponentially
 * with jitter. A healthy outcome resets the backoff. */
#include "camera.h"

#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define CONTROL_BODY_MAX 16384 /* a control message is ~200 bytes */

/* Equal jitter: a delay drawn from [base/2, base], base doubling from 0.5 s to
 * 30 s. Cameras that lost the api at the same time do not return in step,
 * and no delay exceeds the cap. */
static void back_off(camera_t *cam, uint64_t now, const char *why)
{
    poller_t *p = &cam->poll;

    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (p->backoff_ms > BACKOFF_MAX_MS)
        p->backoff_ms = BACKOFF_MAX_MS;
    uint64_t half = p->backoff_ms / 2;
    uint64_t delay = half + (uint64_t)random() % (half + 1);
    p->due_ms = now + delay;
    log_msg(LOGL_WARN, "poll: %s; retry in %.2fs", why, (double)delay / 1000);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    poller_t *p = ctx;
    size_t len = size * n; /* size is always 1, but the contract is size * n */
    if (p->body.len + len > CONTROL_BODY_MAX) {
        p->body_too_big = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    buf_append(&p->body, data, len);
    return len;
}

/* A 200: the body (maybe empty, from an old-style server) goes through the
 * generated decoder, the only reader of what the network sent us. */
static int on_control(poller_t *p, control_msg_t *m, char *why, size_t n)
{
    const char *err;
    if (control_decode(p->body.data ? p->body.data : "", p->body.len, m, &err) != 0) {
        snprintf(why, n, "200 with a malformed control message (%s)", err);
        return UE_FAILED;
    }
    return UE_WOKEN;
}

/* True when the request went out: a timeout then is our own client timeout
 * on a held poll (healthy), not a server we cannot reach. */
static bool request_sent(CURL *e)
{
    long sent = 0;
    return curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0;
}

/* The outcome of a poll as an event of the connect role's machine; `why`
 * says what went wrong for a failure. */
static int outcome(poller_t *p, CURLcode res, long status, control_msg_t *m, char *why, size_t n)
{
    if (res == CURLE_OPERATION_TIMEDOUT && request_sent(p->super.easy))
        return UE_TIMEOUT;
    if (res != CURLE_OK) {
        /* The error buffer says more than the code (which TLS check failed). */
        const char *msg = p->super.errbuf[0] ? p->super.errbuf : curl_easy_strerror(res);
        if (p->body_too_big)
            snprintf(why, n, "control message too large");
        else if (res == CURLE_OPERATION_TIMEDOUT)
            snprintf(why, n, "timeout before the request was sent (%s)", msg);
        else
            snprintf(why, n, "%s", msg);
        return UE_FAILED;
    }
    if (status == 200)
        return on_control(p, m, why, n);
    if (status == 204)
        return UE_EMPTY;
    snprintf(why, n, "status %ld%s", status, status == 409 ? " (another poll for this id)" : "");
    return status == 409 ? UE_REFUSED : UE_FAILED;
}

/* Performs what the connect role's machine says for the event. */
static void step(camera_t *cam, int ev, const control_msg_t *m, const char *why)
{
    poller_t *p = &cam->poll;
    uint64_t now = loop_now_ms();

    switch (uplink_feed(&p->link, ev)) {
    case UA_POLL:
        break;
    case UA_UPLOAD:
        log_msg(LOGL_INFO, "poll: 200 request_id=%s%s%s",
                m->has_request_id ? m->request_id : "(none)", m->has_limit ? " limit" : "",
                m->has_since ? " since" : "");
        p->backoff_ms = 0;
        p->due_ms = now;
        upload_start(cam, m);
        break;
    case UA_REPOLL:
        if (ev == UE_TIMEOUT)
            log_msg(LOGL_DEBUG, "poll: client timeout; polling again");
        p->backoff_ms = 0;
        p->due_ms = now;
        break;
    case UA_BACK_OFF:
        back_off(cam, now, why);
        break;
    default: /* the callers feed only events legal where they stand */
        log_msg(LOGL_ERROR, "bug: connect role refused event %d", ev);
        abort();
    }
}

static void on_done(camera_t *cam, xfer_t *x, CURLcode res, long status)
{
    poller_t *p = &cam->poll;
    char why[CURL_ERROR_SIZE + 64] = "";
    control_msg_t m;

    p->active = false;
    step(cam, outcome(p, res, status, &m, why, sizeof(why)), &m, why);
    buf_reset(&p->body);
    p->body_too_big = false;
}

void poll_init(camera_t *cam)
{
    poller_t *p = &cam->poll;
    memset(p, 0, sizeof(*p));
    p->super.on_done = on_done;
    p->due_ms = loop_now_ms();
    uplink_init(&p->link);
}

static int start(camera_t *cam)
{
    poller_t *p = &cam->poll;
    CURL *e = p->super.easy;

    if (e == NULL) {
        /* One handle for the camera's life: options stay, connections are reused. */
        e = loop_easy(cam, &p->super);
        if (e == NULL)
            return -1;
        curl_easy_setopt(e, CURLOPT_URL, cam->poll_url);
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cam->cfg.poll_timeout_ms);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
        if (cam->auth)
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, cam->auth);
    }
    if (loop_add(cam, &p->super) != 0)
        return -1;
    p->active = true;
    return 0;
}

uint64_t poll_tick(camera_t *cam, uint64_t now)
{
    poller_t *p = &cam->poll;

    if (p->active)
        return UINT64_MAX; /* curl's own timeout covers it */
    if (p->due_ms > now)
        return p->due_ms - now;
    step(cam, UE_DUE, NULL, NULL);
    if (start(cam) != 0)
        step(cam, UE_FAILED, NULL, "could not start a transfer");
    return p->active ? UINT64_MAX : p->due_ms - now;
}

void poll_fini(camera_t *cam)
{
    poller_t *p = &cam->poll;
    if (p->super.easy) {
        if (p->active)
            loop_remove(cam, p->super.easy);
        curl_easy_cleanup(p->super.easy);
        p->super.easy = NULL;
    }
    buf_free(&p->body);
}
