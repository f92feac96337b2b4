/* The fake around the relay core (api/relay/) for its C tests (test_relay.c,
 * test_cache.c): polls and /logs waiters held by a fake transport
 * (relay_ops_t) that records what it is answered, a fake
 * monotonic clock, and timers that fire when a test moves that clock
 * (clock_ms and the tmr_* functions are this file's, in place of
 * runtime/clock.c and api/tmr.c). Uploads go through the real upload path. */
#include "relay_fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

api_config_t api_conf;
h2o_evloop_t *api_loop;
bool api_stopping;

/* The fake clock and timers ---------------------------------------------------- */

static uint64_t now = 1000000;

uint64_t clock_ms(void)
{
    return now;
}

uint64_t clock_us(void)
{
    return now * 1000;
}

#define TIMERS_MAX 256
static tmr_t *timers[TIMERS_MAX];
static size_t ntimers;

int tmr_setup(h2o_evloop_t *loop, char *err, size_t n)
{
    return 0;
}

void tmr_close(void)
{
}

void tmr_cancel(tmr_t *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    timers[i] = timers[--ntimers];
    if (i < ntimers)
        timers[i]->slot = i + 1;
}

void tmr_arm(tmr_t *t, uint64_t after_ms)
{
    tmr_cancel(t);
    if (ntimers == TIMERS_MAX)
        abort();
    t->at = now + after_ms + 1; /* as api/tmr.c: never early */
    timers[ntimers++] = t;
    t->slot = ntimers;
}

/* Moves the clock `ms` on, firing every timer due on the way, earliest first. */
void fake_setup(void)
{
    api_conf.grace_ms = 3000;
    api_conf.poll_timeout_ms = 0; /* held until answered */
    api_conf.max_body = 1 << 20;
    api_conf.max_cameras = 100;
    api_conf.max_polls = 100;
    api_conf.max_waiters = 100;
    api_conf.forget_ms = 3600000;
    api_conf.cache_bytes = 1 << 20;
    api_conf.follow_hold_s = 25;
    api_conf.quiet = true;
    cameras_setup();
}

void advance(uint64_t ms)
{
    uint64_t end = now + ms;
    for (;;) {
        tmr_t *first = NULL;
        for (size_t i = 0; i < ntimers; i++)
            if (first == NULL || timers[i]->at < first->at)
                first = timers[i];
        if (first == NULL || first->at > end)
            break;
        if (first->at > now)
            now = first->at;
        tmr_cancel(first);
        first->cb(first);
    }
    now = end;
}

/* The fake transport ------------------------------------------------------------- */

/* The transport's answer: recorded in the fake (held is its first member). */
static void answer(void *held, const api_reply_t *r)
{
    fake_t *f = held;
    f->answers++;
    f->status = r->status;
    f->bad_token = r->bad_token;
    buf_t b = BUF_INIT;
    if (r->stream != NULL) { /* drained as a transport would, then freed */
        while (b.len < r->len) {
            size_t before = b.len;
            r->stream->next(r->stream, &b);
            if (b.len == before)
                break;
        }
        if (b.len != r->len) { /* every test checks the announced length */
            fprintf(stderr, "a reply's body is %zu bytes, announced %zu\n", b.len, r->len);
            abort();
        }
        r->stream->free(r->stream);
    } else {
        buf_append(&b, r->body ? r->body : "", r->len);
    }
    snprintf(f->body, sizeof(f->body), "%.*s", (int)b.len, b.len ? b.data : "");
    buf_free(&b);
    snprintf(f->cursor, sizeof(f->cursor), "%s", r->cursor ? r->cursor : "");
    f->gap = r->gap;
    f->cached = r->cached != NULL;
}

static const relay_ops_t ops = {answer};

camera_t *camera(const char *id)
{
    bool full = false;
    return cameras_get(id, true, &full);
}

void poll(camera_t *cam, fake_t *f)
{
    memset(f, 0, sizeof(*f));
    f->u.poll.ops = &ops;
    handshake_poll(cam, &f->u.poll);
}

/* A /logs waiter with the query string `qs`. */
void logs(camera_t *cam, fake_t *f, const char *qs)
{
    query_t q;
    memset(f, 0, sizeof(*f));
    f->u.waiter.ops = &ops;
    query_parse(qs, strlen(qs), &q);
    handshake_logs(cam, &f->u.waiter, &q);
}

/* How many times `needle` occurs in f's reply (records: "description"). */
int count(const fake_t *f, const char *needle)
{
    int n = 0;
    for (const char *p = f->body; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The request id a delivered control message names (a static buffer). */
const char *rid_of(const fake_t *f)
{
    static char rid[80];
    const char *p = strstr(f->body, "\"request_id\":\"");
    rid[0] = '\0';
    if (p != NULL)
        sscanf(p + 14, "%79[^\"]", rid);
    return rid;
}

/* Uploads `body` for camera `id`'s fetch `rid`, with `more` added to the
 * query (1.2: "epoch=..&first=.."; "" for none); returns the reply's status. */
int upload_with(const char *id, const char *rid, const char *more, const char *body)
{
    char qs[256];
    query_t q;
    verdict_t v;
    snprintf(qs, sizeof(qs), "request_id=%s%s%s", rid, *more ? "&" : "", more);
    query_parse(qs, strlen(qs), &q);
    upload_t *up = upload_admit(id, &q, true, strlen(body), &v);
    if (up == NULL)
        return v.status;
    if (upload_feed(up, body, strlen(body)) == 0)
        upload_finish(up);
    buf_t b = BUF_INIT;
    api_reply_t r;
    upload_reply(up, &r, &b);
    buf_free(&b);
    upload_free(up);
    return r.status;
}

int upload(const char *id, const char *rid, const char *body)
{
    return upload_with(id, rid, "", body);
}
