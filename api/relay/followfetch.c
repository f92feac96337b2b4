/* Following, the fetch side (PROTOCOL.md "GET /logs?follow=1", "POST
 * /send-stats"; docs/API.md "Follow"): a follower's own checks, the one
 * shared follow fetch per followed camera, and /logs answered from the
 * cache while a follow upload streams into it.
 * While a camera has followers and no fetch is in flight, a fetch with no
 * waiters starts: a follow fetch (the wake-up's "follow" is --follow-hold,
 * its "after" the newest cursor the cache holds) when the cache holds the
 * camera's history, else a plain whole fetch that fills the cache first.
 * When one ends the next starts at once (end_fetch calls follow_kick), after
 * the fetch of any /logs that queued meanwhile. An away camera gets none:
 * its next poll starts it. */
#include <string.h>

#include "relay_int.h"

/* A Last-Event-ID: a cursor, read by the query grammar as `after=VALUE`
 * (only cursor characters reach it, so no %-escape or `&` can change its
 * meaning); it replaces `after`, and `since` and `limit` no longer apply. */
static int last_event_id(query_t *q, const char *s, size_t len, verdict_t *v)
{
    static const char bad[] = "Last-Event-ID is not a cursor EPOCH:SEQ";
    char text[6 + 2 * ID_MAX + 2];
    if (len == 0 || len > sizeof(text) - 7)
        return reply_refuse(v, 400, bad, q->camera);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == ':';
        if (!ok)
            return reply_refuse(v, 400, bad, q->camera);
    }
    memcpy(text, "after=", 6);
    memcpy(text + 6, s, len);
    query_t c;
    query_parse(text, len + 6, &c);
    if (!c.has_after || query_error(&c, QP_BIT(QP_AFTER) | QP_BIT(QP_OTHER)) != NULL)
        return reply_refuse(v, 400, bad, q->camera);
    q->has_after = true;
    memcpy(q->after_epoch, c.after_epoch, sizeof(q->after_epoch));
    q->after_seq = c.after_seq;
    /* A resumed stream goes on exactly after the cursor: the URL's since and
     * limit (a browser sends the same URL again) shaped the first stream's
     * first part only (docs/API.md "Follow", decision). */
    q->has_since = false;
    q->has_limit = false;
    return 0;
}

int follow_check(camera_t *cam, query_t *q, const char *last_id, size_t len, verdict_t *v)
{
    v->status = 0;
    if (last_id != NULL && last_event_id(q, last_id, len, v) != 0)
        return -1;
    if (cameras_numbers(cam) == 0)
        return reply_refuse(v, 409, "follow=1: this camera does not number its events", cam->id);
    if (api_conf.cache_bytes == 0)
        return reply_refuse(v, 409, "follow=1 needs the api's cache (--cache-bytes is 0)", cam->id);
    if (cam->cache.too_big)
        return reply_refuse(v, 409, "follow=1: this camera's history is larger than --cache-bytes",
                            cam->id);
    return 0;
}

void follow_kick(camera_t *cam)
{
    fetch_t *f = &cam->fetch;
    if (h2o_linklist_is_empty(&cam->followers) || f->active || api_stopping ||
        !h2o_linklist_is_empty(&cam->queued) || cam->numbers != 1 || cam->cache.too_big ||
        api_conf.cache_bytes == 0 || (cam->poll == NULL && !cam->connected))
        return;
    const cam_cache_t *c = &cam->cache;
    f->active = true;
    f->delivered = false;
    cameras_new_rid(f->rid);
    f->filter = (record_filter_t){0};
    f->since[0] = '\0';
    f->filter.since_str = f->since;
    f->follow = c->known && strcmp(c->epoch, cam->epoch) == 0;
    handshake_feed(cam, EV_LOGS);
}

bool follow_view(camera_t *cam, view_t *v)
{
    const cam_cache_t *c = &cam->cache;
    const fetch_t *f = &cam->fetch;
    if (!f->active || !f->follow || !c->streaming || !c->known)
        return false;
    *v = (view_t){.snap = cache_snap(&cam->cache),
                  .numbered = true,
                  .epoch = c->epoch,
                  .first = c->first,
                  .newest = c->hi,
                  .exact = true};
    return true;
}
