/* Connect role: long-poll /control-channel, driven by the machine of
 * spec/uplink.rl. 200 -> hand the control message to the request role and
 * poll again at once; 204, or our own client timeout after the request went
 * out -> poll again at once ("at once": not sooner than 200-250 ms after the
 * previous poll started, backoff_floor; after a 200 that started an upload,
 * one poll may take its slot early, backoff_after_wake); 409, 5xx, any other
 * status, a connection error, a timeout before the request went out (connect
 * or TLS handshake) or a malformed control message -> back off exponentially
 * with jitter. A healthy outcome resets the backoff. Failures are logged
 * through report.c (the api's reason, a hint, a bounded rate). The
 * connection's changes are logged once each: "connected to the api" (the
 * first healthy poll, or one held HELD_MS), "connection lost: <why>" (the
 * first failure after that), "connected again after ..." (report.c). */
#include "camera.h"

#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define CONTROL_BODY_MAX 16384 /* a control message is ~200 bytes */
/* A poll the server still holds this long after it went out was accepted
 * (a refusal comes at once): the camera is connected again. */
#define HELD_MS 1000

/* Base 0.5 s doubling to 30 s, each delay drawn from [base/2, base]. */
static void back_off(camera_t *cam, uint64_t now, const failure_t *f)
{
    poller_t *p = &cam->poll;
    uint64_t delay = backoff_next(&p->backoff_ms, BACKOFF_MIN_MS, BACKOFF_MAX_MS);

    p->due_ms = now + delay;
    if (p->shown == LINK_UP) { /* the change, once; then the failures at report.c's rate */
        p->shown = LINK_LOST;
        report_clear(&p->report);
        report_failure(&p->report, now, f, "connection lost: %s; retry in %.2fs", f->why,
                       (double)delay / 1000);
        return;
    }
    report_failure(&p->report, now, f, "poll: %s; retry in %.2fs", f->why, (double)delay / 1000);
}

/* Keeps a control message whole (too big: the transfer fails) and the
 * first HINTS_REPLY_KEEP bytes of anything else (a refusal's reason), then
 * stops reading it (hints_keep). */
static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    poller_t *p = ctx;
    size_t len = size * n; /* size is always 1, but the contract is size * n */
    long status = 0;

    curl_easy_getinfo(p->super.easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return hints_keep(&p->super, &p->body, data, len);
    if (p->body.len + len > CONTROL_BODY_MAX) {
        p->body_too_big = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    buf_append(&p->body, data, len);
    return len;
}

/* A 200: the body (maybe empty, from an old-style server) goes through the
 * generated decoder, the only reader of what the network sent us. */
static int on_control(poller_t *p, control_msg_t *m, failure_t *f)
{
    const char *err;
    if (control_decode(p->body.data ? p->body.data : "", p->body.len, m, &err) != 0) {
        snprintf(f->why, sizeof(f->why), "200 with a malformed control message (%s)", err);
        f->key = -1000; /* a kind of its own */
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

/* The outcome of a poll as an event of the connect role's machine; f says
 * what went wrong for a failure. */
static int outcome(camera_t *cam, CURLcode res, long status, control_msg_t *m, failure_t *f)
{
    poller_t *p = &cam->poll;

    /* Held until our own timeout: no answer (status 0), not one read slowly. */
    if (res == CURLE_OPERATION_TIMEDOUT && status == 0 && request_sent(p->super.easy))
        return UE_TIMEOUT;
    if (res == CURLE_OK && status == 200)
        return on_control(p, m, f);
    if (res == CURLE_OK && status == 204)
        return UE_EMPTY;
    hints_describe(cam, &p->super, res, status, &p->body, f);
    if (p->body_too_big)
        snprintf(f->why, sizeof(f->why), "control message too large");
    else if (res == CURLE_OPERATION_TIMEDOUT && status != 0)
        snprintf(f->why, sizeof(f->why), "status %ld, then a timeout reading it", status);
    else if (res == CURLE_OPERATION_TIMEDOUT)
        snprintf(f->why, sizeof(f->why), "timeout before the request was sent (%s)",
                 p->super.errbuf[0] ? p->super.errbuf : curl_easy_strerror(res));
    else if (status == 409)
        snprintf(f->why, sizeof(f->why), "status 409 (another poll for this id)");
    return res == CURLE_OK && status == 409 ? UE_REFUSED : UE_FAILED;
}

/* The link is healthy: no back-off, and the line of the change if it was
 * not (the first connection, or "connected again"). */
static void healthy(camera_t *cam, uint64_t now)
{
    poller_t *p = &cam->poll;
    p->backoff_ms = 0;
    if (p->shown == LINK_NEVER) {
        log_field_t f = LOG_STR("server", cam->cfg.server);
        if (p->report.fails > 0)
            log_with(LOGL_INFO, &f, 1, "connected to the api after %.1f s (%u failed polls)",
                     (double)(now - p->report.first_ms) / 1000, p->report.fails);
        else
            log_with(LOGL_INFO, &f, 1, "connected to the api");
        report_clear(&p->report);
    } else {
        report_success(&p->report, now);
    }
    p->shown = LINK_UP;
}

/* Performs what the connect role's machine says for the event. */
static void step(camera_t *cam, int ev, const control_msg_t *m, const failure_t *f)
{
    poller_t *p = &cam->poll;
    uint64_t now = clock_ms();

    switch (uplink_feed(&p->link, ev)) {
    case UA_POLL:
        break;
    case UA_UPLOAD:
        log_msg(LOGL_INFO, "poll: 200 request_id=%s%s%s",
                m->has_request_id ? m->request_id : "(none)", m->has_limit ? " limit" : "",
                m->has_since ? " since" : "");
        healthy(cam, now);
        p->due_ms =
            backoff_after_wake(p->started_ms, p->slot_ms, upload_start(cam, m) && m->has_request_id,
                               now, &p->next_slot);
        if (p->next_slot != 0)
            log_msg(LOGL_DEBUG, "poll: polling again at once (the floor's next slot taken early)");
        break;
    case UA_REPOLL:
        if (ev == UE_TIMEOUT)
            log_msg(LOGL_DEBUG, "poll: client timeout; polling again");
        healthy(cam, now);
        p->due_ms = backoff_floor(p->slot_ms, now);
        p->next_slot = 0;
        break;
    case UA_BACK_OFF:
        back_off(cam, now, f);
        p->next_slot = 0;
        break;
    default: /* the callers feed only events legal where they stand */
        log_msg(LOGL_ERROR, "bug: connect role refused event %d", ev);
        abort();
    }
}

static void on_done(camera_t *cam, xfer_t *x, CURLcode res, long status)
{
    poller_t *p = &cam->poll;
    failure_t f = {.key = 0};
    control_msg_t m;

    p->active = false;
    res = hints_result(x, res);
    step(cam, outcome(cam, res, status, &m, &f), &m, &f);
    buf_reset(&p->body);
    p->body_too_big = false;
}

void poll_init(camera_t *cam)
{
    poller_t *p = &cam->poll;
    memset(p, 0, sizeof(*p));
    p->super.on_done = on_done;
    p->due_ms = clock_ms();
    uplink_init(&p->link);
    report_init(&p->report, "polls");
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
    p->super.errbuf[0] = '\0';
    p->super.reply_cut = false;
    if (loop_add(cam, &p->super) != 0)
        return -1;
    p->active = true;
    p->started_ms = clock_ms();
    p->slot_ms = p->next_slot > p->started_ms ? p->next_slot : p->started_ms;
    p->next_slot = 0;
    return 0;
}

/* A poll in flight after failures, or the first: once the server has held
 * it for HELD_MS without answering, the camera is connected. Returns ms
 * until that check is due. `now` may be older than started_ms (the loop
 * read the clock before this poll started), and until curl first runs the
 * transfer its request size is still the previous one's: neither may count
 * as held. */
static uint64_t check_held(camera_t *cam, uint64_t now)
{
    poller_t *p = &cam->poll;
    long status = 0;

    if (p->report.fails == 0 && p->shown == LINK_UP)
        return UINT64_MAX;
    if (now < p->started_ms + HELD_MS)
        return p->started_ms + HELD_MS - now;
    curl_easy_getinfo(p->super.easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 0 && request_sent(p->super.easy))
        healthy(cam, now);
    return UINT64_MAX; /* not sent yet: connect/TLS still running, curl's timer wakes us */
}

uint64_t poll_tick(camera_t *cam, uint64_t now)
{
    poller_t *p = &cam->poll;
    failure_t f = {.key = -1001};

    if (p->active)
        return check_held(cam, now);
    if (p->due_ms > now)
        return p->due_ms - now;
    step(cam, UE_DUE, NULL, NULL);
    if (start(cam) != 0) {
        snprintf(f.why, sizeof(f.why), "could not start a transfer");
        f.error[0] = '\0';
        f.hint = NULL;
        step(cam, UE_FAILED, NULL, &f);
    }
    return p->active ? check_held(cam, now) : p->due_ms - now;
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
