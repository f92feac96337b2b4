/* Followers: GET /logs?follow=1 (PROTOCOL.md 1.2; docs/API.md "Follow").
 * A follower is a cursor (epoch:seq) into its camera's cached history
 * (cache.c). Whenever the cache grows, each follower is sent what lies
 * after its cursor, as SSE `message` events whose id is the event's cursor;
 * when the cache no longer holds the events right after a cursor (another
 * epoch, or the camera dropped them), `event: gap` names what was lost and
 * the cursor jumps. The first part (the events a /logs with the same
 * after/since/limit returns) is sent once the cache holds the camera's
 * history. A follower is transport-neutral (follower_t, follow_ops_t): the
 * camera path holds it on its connection; the relay never touches a socket.
 * One 1 s sweep over all followers sends the keep-alive comments and cuts
 * the followers that do not read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "jsonw.h"
#include "log.h"
#include "sse.h"

#define RETRY_MS 2000
#define SLOW_BYTES (1u << 20) /* unsent, with nothing taken for SLOW_MS: cut */
#define SLOW_MS 1000
#define CUT_BYTES (64u << 20) /* unsent: cut at once */
#define KEEPALIVE_MS 15000
#define SWEEP_MS 1000

static struct {
    h2o_linklist_t all; /* every follower */
    size_t n;
    tmr_t sweep;
    uint64_t keepalive_ms;
} F = {.all = {&F.all, &F.all}};

size_t follow_count(void)
{
    return F.n;
}

/* The keep-alive period: 15 s; CAMLOGS_FOLLOW_KEEPALIVE_MS (tests) shortens it. */
static uint64_t keepalive_ms(void)
{
    if (F.keepalive_ms == 0) {
        const char *e = getenv("CAMLOGS_FOLLOW_KEEPALIVE_MS");
        long v = e != NULL ? strtol(e, NULL, 10) : 0;
        F.keepalive_ms = v >= 100 && v <= KEEPALIVE_MS ? (uint64_t)v : KEEPALIVE_MS;
    }
    return F.keepalive_ms;
}

static uint64_t sweep_ms(void)
{
    uint64_t k = keepalive_ms() / 2;
    return k < SWEEP_MS ? k : SWEEP_MS;
}

/* Writing ----------------------------------------------------------------------- */

/* Detaches f from the relay (its transport owns it again). */
static void detach(follower_t *f)
{
    h2o_linklist_unlink(&f->link);
    h2o_linklist_unlink(&f->all);
    F.n--;
    metrics_followers(-1);
    if (F.n == 0)
        tmr_cancel(&F.sweep);
    cameras_settle(f->cam);
}

/* Does not read: more than 64 MiB unsent, or more than 1 MiB with nothing
 * taken for a second. */
static bool too_slow(const follower_t *f, uint64_t now)
{
    return f->unsent > CUT_BYTES || (f->unsent > SLOW_BYTES && now - f->took_ms >= SLOW_MS);
}

/* Cuts a follower that does not read: one line at info, then its
 * connection closes. */
static void cut(follower_t *f)
{
    log_msg(LOGL_INFO, "follower of camera %s cut: %zu bytes unsent, nothing taken for %llu ms",
            f->cam->id, f->unsent, (unsigned long long)(clock_ms() - f->took_ms));
    detach(f);
    f->ops->close(f, false);
}

/* Sends b (emptied) to f; false when f was cut for not reading (gone). */
static bool put(follower_t *f, buf_t *b)
{
    if (b->len == 0)
        return true;
    f->wrote_ms = clock_ms();
    f->ops->send(f, b);
    *b = (buf_t)BUF_INIT;
    if (!too_slow(f, f->wrote_ms))
        return true;
    cut(f);
    return false;
}

static void cursor_str(char *s, const char *epoch, uint64_t seq)
{
    snprintf(s, LOGS_CURSOR_MAX, "%s:%llu", epoch, (unsigned long long)seq);
}

/* `event: NAME`, data {"camera":..} plus `extra` (a JSON tail, or ""). */
static void about(buf_t *b, const camera_t *cam, const char *name, const char *extra)
{
    buf_t d = BUF_INIT;
    buf_puts(&d, "{\"camera\":");
    jsonw_string(&d, cam->id, strlen(cam->id));
    buf_puts(&d, extra);
    buf_putc(&d, '}');
    sse_event(b, name, NULL, d.data, d.len);
    buf_free(&d);
}

/* One event as a `message` with its cursor as id. */
static void event(buf_t *b, const char *epoch, const record_t *r)
{
    char id[LOGS_CURSOR_MAX];
    buf_t d = BUF_INIT;
    cursor_str(id, epoch, r->seq);
    jsonw_record(&d, r); /* the object a /logs reply has for it */
    sse_event(b, NULL, id, d.data, d.len);
    buf_free(&d);
}

/* `event: gap` from f's cursor to the cache's oldest held event less one;
 * the cursor moves there. */
static void gap(follower_t *f, buf_t *b, const cam_cache_t *c)
{
    char after[LOGS_CURSOR_MAX], next[LOGS_CURSOR_MAX];
    buf_t x = BUF_INIT;
    uint64_t to = c->first > 0 ? c->first - 1 : 0;
    cursor_str(after, f->epoch, f->seq);
    cursor_str(next, c->epoch, to);
    buf_puts(&x, ",\"after\":\"");
    buf_puts(&x, after);
    buf_puts(&x, "\",\"next\":\"");
    buf_puts(&x, next);
    buf_putc(&x, '"');
    about(b, f->cam, "gap", x.data);
    buf_free(&x);
    snprintf(f->epoch, sizeof(f->epoch), "%s", c->epoch);
    f->seq = to;
}

/* Pushing ------------------------------------------------------------------------- */

/* Does the cache hold the events right after f's cursor? */
static bool holds_next(const follower_t *f, const cam_cache_t *c)
{
    return strcmp(f->epoch, c->epoch) == 0 && f->seq + 1 >= c->first;
}

struct sel {
    buf_t *b;
    const char *epoch;
    size_t n;
};

static void sel_one(void *ctx, const record_t *r)
{
    struct sel *s = ctx;
    event(s->b, s->epoch, r);
    s->n++;
}

/* The first part: what /logs with the follower's after/since/limit returns
 * from the cache (a gap first for an `after` it cannot honour). */
static size_t first_part(follower_t *f, buf_t *b, const cam_cache_t *c)
{
    size_t from = 0;
    if (f->has_cursor && !holds_next(f, c))
        gap(f, b, c);
    else if (f->has_cursor)
        from = logs_index_after(c->recs, c->n, f->seq);
    struct sel s = {b, c->epoch, 0};
    if (c->n > from)
        record_select(c->recs + from, c->n - from, &f->filter, sel_one, &s);
    f->started = true;
    return s.n;
}

/* The events after `seq` as SSE, made once for every follower at the same
 * cursor: the latest such block is kept, keyed by the cache's epoch, `seq`
 * and its newest (a number names one event within an epoch). */
static struct {
    char epoch[ID_MAX + 1];
    uint64_t from, hi;
    size_t n;
    buf_t b;
} memo;

#define MEMO_KEEP (64u << 10) /* a larger block is not kept */

static size_t events_after(buf_t *b, const cam_cache_t *c, uint64_t seq)
{
    if (memo.b.len > 0 && memo.from == seq && memo.hi == c->hi && !strcmp(memo.epoch, c->epoch)) {
        buf_append(b, memo.b.data, memo.b.len);
        return memo.n;
    }
    size_t from = b->len, n = 0;
    for (size_t i = logs_index_after(c->recs, c->n, seq); i < c->n; i++, n++)
        event(b, c->epoch, c->recs[i]);
    memo.b.len = 0;
    if (b->len - from <= MEMO_KEEP) {
        buf_append(&memo.b, b->data + from, b->len - from);
        memcpy(memo.epoch, c->epoch, sizeof(memo.epoch));
        memo.from = seq, memo.hi = c->hi, memo.n = n;
    }
    return n;
}

/* Sends f what the cache holds after its cursor; false when f was cut. */
static bool push(follower_t *f)
{
    const cam_cache_t *c = &f->cam->cache;
    if (!c->known)
        return true;
    buf_t b = BUF_INIT;
    size_t n = 0;
    if (!f->started) {
        n = first_part(f, &b, c);
    } else {
        if (!holds_next(f, c))
            gap(f, &b, c);
        n = events_after(&b, c, f->seq);
    }
    snprintf(f->epoch, sizeof(f->epoch), "%s", c->epoch);
    if (!f->has_cursor || c->hi > f->seq)
        f->seq = c->hi;
    f->has_cursor = true;
    metrics_follow_events(n);
    return put(f, &b);
}

void follow_notify(camera_t *cam)
{
    for (h2o_linklist_t *l = cam->followers.next, *next; l != &cam->followers; l = next) {
        next = l->next;
        push(H2O_STRUCT_FROM_MEMBER(follower_t, link, l));
    }
}

void follow_presence(camera_t *cam)
{
    for (h2o_linklist_t *l = cam->followers.next, *next; l != &cam->followers; l = next) {
        next = l->next;
        follower_t *f = H2O_STRUCT_FROM_MEMBER(follower_t, link, l);
        if (f->online == cam->connected)
            continue;
        f->online = cam->connected;
        buf_t b = BUF_INIT;
        about(&b, cam, f->online ? "online" : "offline", "");
        put(f, &b);
    }
}

/* The sweep ---------------------------------------------------------------------- */

static void on_sweep(tmr_t *t)
{
    uint64_t now = clock_ms(), k = keepalive_ms();
    for (h2o_linklist_t *l = F.all.next, *next; l != &F.all; l = next) {
        next = l->next;
        follower_t *f = H2O_STRUCT_FROM_MEMBER(follower_t, all, l);
        if (too_slow(f, now)) {
            cut(f);
        } else if (now - f->wrote_ms + sweep_ms() >= k) {
            buf_t b = BUF_INIT;
            sse_comment(&b, "keep-alive");
            put(f, &b);
        }
    }
    if (F.n > 0)
        tmr_arm(t, sweep_ms());
}

/* Lifetime ----------------------------------------------------------------------- */

void follow_start(camera_t *cam, follower_t *f, const query_t *q)
{
    *f = (follower_t){.ops = f->ops, .unsent = f->unsent, .took_ms = clock_ms(), .cam = cam};
    f->online = true;
    f->filter.limit = q->has_limit ? q->limit : 0;
    if (q->has_since) {
        f->filter.has_since = true;
        f->filter.since = q->since_t;
        memcpy(f->since, q->since, sizeof(f->since));
    }
    f->filter.since_str = f->since;
    if (q->has_after) {
        f->has_cursor = true;
        memcpy(f->epoch, q->after_epoch, sizeof(f->epoch));
        f->seq = q->after_seq;
    }
    h2o_linklist_insert(&cam->followers, &f->link);
    h2o_linklist_insert(&F.all, &f->all);
    if (F.n++ == 0) {
        F.sweep.cb = on_sweep;
        tmr_arm(&F.sweep, sweep_ms());
    }
    metrics_followers(1);
    cameras_settle(cam);
    buf_t b = BUF_INIT;
    sse_retry(&b, RETRY_MS);
    if (!put(f, &b) || !push(f))
        return;
    if (!cam->connected) {
        f->online = false;
        about(&b, cam, "offline", "");
        if (!put(f, &b))
            return;
    }
    follow_kick(cam);
}

void follow_gone(follower_t *f)
{
    detach(f);
}

void follow_end(camera_t *cam, const char *reason)
{
    buf_t x = BUF_INIT;
    buf_puts(&x, ",\"reason\":");
    jsonw_string(&x, reason, strlen(reason));
    while (!h2o_linklist_is_empty(&cam->followers)) {
        follower_t *f = H2O_STRUCT_FROM_MEMBER(follower_t, link, cam->followers.next);
        buf_t b = BUF_INIT;
        about(&b, cam, "end", x.data);
        if (!put(f, &b))
            continue;
        detach(f);
        f->ops->close(f, true);
    }
    buf_free(&x);
}

static void end_one(camera_t *cam, void *reason)
{
    follow_end(cam, reason);
}

void follow_end_all(const char *reason)
{
    if (F.n > 0)
        cameras_each(end_one, (void *)reason);
}
