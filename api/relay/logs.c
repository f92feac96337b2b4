/* A /logs waiter's 200 (PROTOCOL.md "GET /logs", 1.2): from a view of the
 * camera's events (a fetch's upload, or the cache), the waiter's `after`
 * first, then its `since` and `limit`; for a numbering camera the headers
 * Camlogs-Cursor (always), Camlogs-Gap (an `after` of another epoch, or one
 * whose next events the camera no longer holds: the reply is then as if
 * there were no `after`) and Camlogs-Cached (a stale answer). A 1.1
 * camera's reply is the 1.1 one, no headers. Its body is made as the
 * client reads it (body.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "relay_int.h"
#include "rfc3339.h"

size_t logs_index_after(record_t *const *recs, size_t n, uint64_t s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (recs[mid]->seq <= s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void logs_reply(const waiter_t *w, const view_t *v, api_reply_t *r, char *cursor)
{
    size_t from = 0;
    bool gap = false;
    uint64_t newest = v->newest;
    if (v->numbered && w->has_after) {
        gap = strcmp(w->after_epoch, v->epoch) != 0 || w->after_seq + 1 < v->first;
        if (!gap) {
            from = logs_index_after(v->snap->recs, v->snap->n, w->after_seq);
            /* A position the api gave out: the camera reached it, though
             * this fetch (filtered by since) may not show it. */
            if (!v->exact && w->after_seq > newest)
                newest = w->after_seq;
        }
    }
    *r = (api_reply_t){.status = 200, .ctype = "application/json", .camera = w->cam->id};
    r->stream = body_new(v->snap, from, &w->filter, &r->len);
    if (v->numbered) {
        snprintf(cursor, LOGS_CURSOR_MAX, "%s:%llu", v->epoch, (unsigned long long)newest);
        r->cursor = cursor;
        r->gap = gap;
        r->cached = v->cached;
    }
}

bool logs_cached_view(camera_t *cam, view_t *v, char *stamp)
{
    cam_cache_t *c = &cam->cache;
    if (!c->known)
        return false;
    rfc3339_format_ms(stamp, (int64_t)(c->cached_at / 1000), (unsigned)(c->cached_at % 1000));
    *v = (view_t){.snap = cache_snap(c),
                  .numbered = true,
                  .epoch = c->epoch,
                  .first = c->first,
                  .newest = c->hi,
                  .exact = true,
                  .cached = stamp};
    cache_touch(c);
    return true;
}

/* The newest event number a fetch's own upload shows: its last record, else
 * the one before its `first` (the camera holds nothing after what it sent
 * when nothing filtered the upload). */
uint64_t logs_newest(const stats_t *st)
{
    uint64_t newest = st->first > 0 ? st->first - 1 : 0;
    if (st->n > 0 && st->recs[st->n - 1]->seq > newest)
        newest = st->recs[st->n - 1]->seq;
    return newest;
}

void logs_numbers(waiter_t *w, const query_t *q)
{
    w->stale = q->stale;
    w->has_after = q->has_after;
    if (q->has_after) {
        memcpy(w->after_epoch, q->after_epoch, sizeof(w->after_epoch));
        w->after_seq = q->after_seq;
    }
}

/* The camera is away: not connected (no poll, no upload, no reply to it
 * less than --connect-grace ago: a camera between its upload and its next
 * poll is not away) and no fetch delivered to join. A /logs then would wait
 * the grace for a poll and get 503; a stale one is answered at once. */
bool logs_away(const camera_t *cam)
{
    return !cam->connected && cam->poll == NULL && !cameras_uploading(cam) &&
           !(cam->fetch.active && cam->fetch.delivered);
}
