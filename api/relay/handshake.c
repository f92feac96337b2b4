/* One camera's handshake: polls, the fetch in flight, its waiters, and what
 * an upload tells the fetch. Events go through the generated machine
 * (session_feed); run() performs the action it returns. Nothing here blocks:
 * every wait is a held request plus a timer. A poll is transport-neutral
 * (poll_t: an h2o request or a camera-path connection answers it), and so
 * is a /logs waiter (waiter_t). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "control.h"
#include "jsonw.h"
#include "log.h"
#include "rfc3339.h"

static void run(camera_t *cam, int ev, poll_t *p, stats_t *st);

static size_t npolls; /* held polls, all cameras */

#define SUPERSEDED "superseded by a newer poll for this camera"

size_t handshake_polls(void)
{
    return npolls;
}

poll_t *handshake_held(const camera_t *cam)
{
    return cam->poll;
}

/* The camera's held poll becomes `p` (or none). */
static void set_poll(camera_t *cam, poll_t *p)
{
    npolls += (p != NULL) - (cam->poll != NULL);
    cam->poll = p;
}

/* Polls ------------------------------------------------------------------------ */

/* Detaches the poll from its camera and sends `r` through its transport.
 * An answer keeps the camera connected for the grace; a refusal does not. */
static void poll_send(poll_t *p, const api_reply_t *r, bool answer)
{
    camera_t *cam = p->cam;
    tmr_cancel(&p->timeout);
    if (cam->poll == p)
        set_poll(cam, NULL);
    if (answer)
        cameras_answered(cam);
    p->ops->answer(p, r);
}

static void poll_answer(poll_t *p, int status, const char *body, size_t len)
{
    api_reply_t r = {.status = status,
                     .ctype = "application/json",
                     .body = body,
                     .len = len,
                     .camera = p->cam->id};
    poll_send(p, &r, true);
}

static void poll_verdict(poll_t *p, const verdict_t *v, bool answer)
{
    buf_t b = BUF_INIT;
    api_reply_t r;
    reply_of_verdict(&r, v, &b);
    poll_send(p, &r, answer);
    buf_free(&b);
}

static void poll_error(poll_t *p, int status, const char *why)
{
    verdict_t v;
    reply_refuse(&v, status, why, p->cam->id);
    poll_verdict(p, &v, true);
}

/* Its id was revoked: 401, as its next request would get. */
static void poll_refuse(poll_t *p)
{
    verdict_t v;
    reply_refuse(&v, 401, "camera revoked", p->cam->id);
    v.bad_token = true;
    poll_verdict(p, &v, false);
}

static void poll_deliver(poll_t *p)
{
    camera_t *cam = p->cam;
    control_msg_t m = {.has_request_id = true, .has_camera = true};
    snprintf(m.request_id, sizeof(m.request_id), "%s", cam->fetch.rid);
    snprintf(m.camera, sizeof(m.camera), "%s", cam->id);
    fetch_t *f = &cam->fetch;
    if (!f->delivered) /* a resend repeats the message */
        cache_plan(cam, f);
    if (f->filter.limit && !f->whole) {
        m.has_limit = true;
        m.limit = f->filter.limit;
    }
    if (f->filter.has_since && !f->whole) {
        m.has_since = true;
        snprintf(m.since, sizeof(m.since), "%s", f->since);
    }
    m.has_follow = f->follow, m.follow = (uint32_t)api_conf.follow_hold_s;
    if (f->has_after) {
        m.has_after = true;
        snprintf(m.after_epoch, sizeof(m.after_epoch), "%s", f->epoch);
        m.after_seq = f->after;
    }
    buf_t b = BUF_INIT;
    control_encode(&b, &m);
    cam->fetch.why = NULL; /* it is back: a revocation no longer explains a 502 */
    cam->fetch.delivered = true;
    cam->fetch.delivered_at = clock_ms();
    poll_answer(p, 200, b.data, b.len);
    buf_free(&b);
}

static void on_poll_timeout(tmr_t *t)
{
    poll_t *p = H2O_STRUCT_FROM_MEMBER(poll_t, timeout, t);
    run(p->cam, EV_POLL_TIMEOUT, NULL, NULL);
}

void handshake_poll_gone(poll_t *p)
{
    camera_t *cam = p->cam;
    tmr_cancel(&p->timeout);
    if (cam->poll != p)
        return;
    run(cam, EV_POLL_GONE, NULL, NULL);
}

static void hold(camera_t *cam, poll_t *p)
{
    set_poll(cam, p);
    if (api_conf.poll_timeout_ms)
        tmr_arm(&p->timeout, api_conf.poll_timeout_ms);
}

/* Lost: delivered more than the resend time ago, and no upload coming in. */
static bool lost(const camera_t *cam)
{
    return cam->fetch.active && cam->fetch.delivered && !cameras_uploading(cam) &&
           clock_ms() - cam->fetch.delivered_at > grace_resend_ms();
}

bool handshake_poll_answered_now(const camera_t *cam)
{
    enum session_state s = cam->s.state;
    return s == SESSION_PENDING || s == SESSION_GONE || lost(cam);
}

void handshake_poll(camera_t *cam, poll_t *p)
{
    p->cam = cam;
    p->timeout = (tmr_t){.cb = on_poll_timeout};
    cameras_seen(cam);
    run(cam, lost(cam) ? EV_POLL_RESEND : EV_POLL, p, NULL);
    follow_kick(cam); /* a followed camera's follow fetch, if none is in flight */
}

/* Waiters ----------------------------------------------------------------------- */

/* Detaches the waiter from its fetch and sends its reply through its
 * transport: v's records (200) or {"error":why}; a stale waiter gets the
 * cache's records instead of an error, when the cache holds them. */
static void waiter_answer(waiter_t *w, int status, const view_t *v, const char *why)
{
    tmr_cancel(&w->deadline);
    h2o_linklist_unlink(&w->link);
    metrics_waiting(-1);
    metrics_logs_latency((double)(clock_us() - w->started_us) / 1e6, status);
    buf_t b = BUF_INIT;
    api_reply_t r;
    view_t cached;
    char stamp[32], cursor[LOGS_CURSOR_MAX];
    if (status != 200 && w->stale && !api_stopping && logs_cached_view(w->cam, &cached, stamp)) {
        status = 200;
        v = &cached;
    }
    if (status != 200) {
        verdict_t vd;
        reply_refuse(&vd, status, why, w->cam->id);
        reply_of_verdict(&r, &vd, &b);
    } else {
        logs_reply(w, v, &r, cursor); /* its body is the transport's to produce */
    }
    w->ops->answer(w, &r);
    buf_free(&b);
}

/* Every waiter of the fetch gets the same status. */
static void answer_all(camera_t *cam, int status, const view_t *v, const char *why)
{
    while (!h2o_linklist_is_empty(&cam->fetch.waiters)) {
        waiter_t *w = H2O_STRUCT_FROM_MEMBER(waiter_t, link, cam->fetch.waiters.next);
        waiter_answer(w, status, v, why);
    }
}

/* The fetch's stats came: each waiter gets its reply. A numbered upload
 * goes through the cache first: the replies then come from it. Either way
 * the replies hold the records they show (a snapshot) until sent. */
static void complete(camera_t *cam, stats_t *st)
{
    view_t v = {0};
    bool redo = false, cached = st->numbered && cache_take(cam, &cam->fetch, st, &redo);
    if (redo) {
        join_requeue(cam);
        return;
    }
    if (cached) {
        cam_cache_t *c = &cam->cache;
        v = (view_t){.snap = cache_snap(c), .newest = c->hi, .exact = true};
    } else {
        v.snap = snap_new(st->recs, st->n);
        if (st->numbered) {
            v.newest = logs_newest(st);
            v.exact = !cam->fetch.filter.has_since || cam->fetch.whole;
        }
    }
    v.numbered = st->numbered;
    v.epoch = st->epoch;
    v.first = st->first;
    answer_all(cam, 200, &v, NULL);
    if (!cached)
        snap_put(v.snap);
    if (st->numbered)
        cache_bound(cam);
}

static void join(camera_t *cam, waiter_t *w)
{
    w->joined = true;
    h2o_linklist_insert(&cam->fetch.waiters, &w->link);
}

/* Starts a fetch for the queued waiters, if any. */
static void start_next(camera_t *cam)
{
    if (h2o_linklist_is_empty(&cam->queued))
        return;
    fetch_t *f = &cam->fetch;
    waiter_t *first = H2O_STRUCT_FROM_MEMBER(waiter_t, link, cam->queued.next);
    f->active = true;
    f->delivered = false;
    cameras_new_rid(f->rid);
    f->filter = first->filter;
    memcpy(f->since, first->since, sizeof(f->since));
    f->filter.since_str = f->since;
    while (!h2o_linklist_is_empty(&cam->queued)) {
        waiter_t *w = H2O_STRUCT_FROM_MEMBER(waiter_t, link, cam->queued.next);
        h2o_linklist_unlink(&w->link);
        join_widen(f, &w->filter);
        join(cam, w);
    }
    run(cam, EV_LOGS, NULL, NULL);
}

static void end_fetch(camera_t *cam)
{
    cam->cache.pinned = false;
    cam->fetch.whole = cam->fetch.has_after = cam->fetch.follow = false;
    cam->fetch.active = false;
    cam->fetch.delivered = false;
    cam->fetch.why = NULL;
    start_next(cam);
    follow_kick(cam);
}

static void on_deadline(tmr_t *t)
{
    waiter_t *w = H2O_STRUCT_FROM_MEMBER(waiter_t, deadline, t);
    camera_t *cam = w->cam;
    bool joined = w->joined;
    if (joined && !cam->fetch.delivered)
        waiter_answer(w, 503, NULL, grace_not_connected(w->timeout_ms));
    else
        waiter_answer(w, 504, NULL, "no stats from the camera within the timeout");
    if (joined && h2o_linklist_is_empty(&cam->fetch.waiters))
        run(cam, EV_ABANDON, NULL, NULL);
}

void handshake_waiter_gone(waiter_t *w)
{
    camera_t *cam = w->cam;
    tmr_cancel(&w->deadline);
    h2o_linklist_unlink(&w->link);
    metrics_waiting(-1);
    if (w->joined && h2o_linklist_is_empty(&cam->fetch.waiters))
        run(cam, EV_ABANDON, NULL, NULL);
    else
        cameras_settle(cam);
}

void handshake_logs(camera_t *cam, waiter_t *w, const query_t *q)
{
    *w = (waiter_t){.ops = w->ops, .cam = cam, .deadline = {.cb = on_deadline}};
    w->started_us = clock_us();
    metrics_waiting(1);
    w->filter.limit = q->has_limit ? q->limit : 0;
    if (q->has_since) {
        w->filter.has_since = true;
        w->filter.since = q->since_t;
        memcpy(w->since, q->since, sizeof(w->since));
    }
    w->filter.since_str = w->since;
    w->timeout_ms = q->has_timeout ? q->timeout_ms : 30000;
    logs_numbers(w, q);
    tmr_arm(&w->deadline, w->timeout_ms);

    fetch_t *f = &cam->fetch;
    view_t v;
    if (w->stale && logs_away(cam) && cam->cache.known) { /* what the cache has, at once */
        h2o_linklist_insert(&cam->queued, &w->link);
        waiter_answer(w, 503, NULL, NULL);
    } else if (follow_view(cam, &v)) { /* a follow upload streams into the cache */
        h2o_linklist_insert(&cam->queued, &w->link);
        waiter_answer(w, 200, &v, NULL);
    } else if (f->active && !f->delivered) {
        f->follow = false; /* a follow fetch not yet delivered serves it instead */
        join_widen(f, &w->filter);
        join(cam, w);
    } else if (f->active && !f->follow && (f->whole || join_covers(f, &w->filter))) {
        join(cam, w);
    } else {
        h2o_linklist_insert(&cam->queued, &w->link);
        if (!f->active)
            start_next(cam);
    }
    cameras_settle(cam);
}

/* Uploads --------------------------------------------------------------------- */

bool handshake_fetch_pending(const camera_t *cam, const query_t *q)
{
    return cam != NULL && cam->fetch.active &&
           (!q->has_request_id || strcmp(q->request_id, cam->fetch.rid) == 0);
}

static bool is_fetch(const camera_t *cam, const char *rid)
{
    return cam->fetch.active && strcmp(cam->fetch.rid, rid) == 0;
}

int handshake_fetch_stats(camera_t *cam, const char *rid, stats_t *st)
{
    if (!is_fetch(cam, rid))
        return -1;
    run(cam, EV_STATS, NULL, st);
    return 0;
}

void handshake_fetch_failed(camera_t *cam, const char *rid, const char *why)
{
    if (!is_fetch(cam, rid))
        return;
    cam->fetch.why = why;
    run(cam, EV_STATS_BAD, NULL, NULL);
}

void handshake_fetch_broke(camera_t *cam, const char *rid)
{
    if (is_fetch(cam, rid))
        run(cam, EV_UPLOAD_GONE, NULL, NULL);
}

/* The machine's actions ---------------------------------------------------------- */

/* Performs an action on the camera's polls. Returns false if `act` is not one. */
static bool poll_act(camera_t *cam, int act, poll_t *p)
{
    switch (act) {
    case ACT_HOLD:
        hold(cam, p);
        return true;
    case ACT_SUPERSEDE: {
        poll_t *old = cam->poll;
        hold(cam, p);
        poll_error(old, 409, SUPERSEDED);
        return true;
    }
    case ACT_DELIVER_NEW:
        poll_deliver(p);
        return true;
    case ACT_DELIVER_HELD:
    case ACT_RESEND_HELD:
        poll_deliver(cam->poll);
        return true;
    case ACT_RESEND:
        if (cam->poll != NULL)
            poll_error(cam->poll, 409, SUPERSEDED);
        poll_deliver(p);
        return true;
    case ACT_REFUSE:
    case ACT_REFUSE_WAIT:
        poll_refuse(cam->poll);
        return true;
    case ACT_RELEASE:
        poll_answer(cam->poll, 204, "", 0);
        return true;
    case ACT_FORGET:
    case ACT_FORGET_WAIT:
        tmr_cancel(&cam->poll->timeout);
        set_poll(cam, NULL);
        return true;
    default:
        return false;
    }
}

/* Performs an action on the fetch's waiters (or a wait with nothing to do
 * but the grace timer). Returns false if `act` is not one. */
static bool fetch_act(camera_t *cam, int act, int ev, stats_t *st)
{
    switch (act) {
    case ACT_WAIT_CAMERA:
    case ACT_AWAIT:
    case ACT_REARM:
    case ACT_DROP:
        return true;
    case ACT_COMPLETE:
        complete(cam, st);
        return true;
    case ACT_FAIL:
        answer_all(cam, 502, NULL,
                   cam->fetch.why   ? cam->fetch.why
                   : ev == EV_GRACE ? "the camera went away before sending its stats"
                                    : "the camera's stats were malformed or too large");
        return true;
    case ACT_UNAVAILABLE:
        answer_all(cam, 503, NULL, grace_not_connected(api_conf.grace_ms));
        return true;
    default:
        return false;
    }
}

/* Feeds `ev` to the camera's machine and performs the action. `p` is the new
 * poll for EV_POLL*, `st` the records for EV_STATS. */
static void run(camera_t *cam, int ev, poll_t *p, stats_t *st)
{
    int act = session_feed(&cam->s, ev);
    if (!poll_act(cam, act, p) && !fetch_act(cam, act, ev, st)) {
        /* Refused. The callers feed only events legal in the state they
         * see; reaching this is a bug, reported rather than hidden. */
        log_msg(LOGL_ERROR, "bug: camera %s: event %s refused in state %s", cam->id,
                session_event_name(ev), session_state_name(cam->s.state));
        abort();
    }
    grace_track(cam, act);
    if (act == ACT_COMPLETE || act == ACT_FAIL || act == ACT_UNAVAILABLE || act == ACT_DROP)
        end_fetch(cam);
    cameras_refresh(cam);
    cameras_settle(cam);
}

void handshake_feed(camera_t *cam, int ev)
{
    run(cam, ev, NULL, NULL);
}

/* A revoked camera cannot come back: its poll and uploads are refused, and a
 * fetch delivered to it fails after the grace like one whose camera vanished
 * (a reload that lifts the revocation within the grace lets it return). */
bool handshake_revoke(camera_t *cam)
{
    bool held = cam->poll != NULL;
    if (cam->fetch.active && cam->fetch.delivered)
        cam->fetch.why = "camera revoked before sending its stats";
    upload_revoke_all(cam);
    enum session_state s = cam->s.state;
    if (held || s == SESSION_DELIVERED || s == SESSION_GONE)
        run(cam, EV_REVOKE, NULL, NULL);
    return held;
}

void handshake_shutdown(camera_t *cam)
{
    if (cam->poll != NULL)
        poll_error(cam->poll, 503, "the api is shutting down");
    answer_all(cam, 503, NULL, "the api is shutting down");
    while (!h2o_linklist_is_empty(&cam->queued)) {
        waiter_t *w = H2O_STRUCT_FROM_MEMBER(waiter_t, link, cam->queued.next);
        waiter_answer(w, 503, NULL, "the api is shutting down");
    }
    tmr_cancel(&cam->grace);
}
