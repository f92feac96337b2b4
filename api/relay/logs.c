/* A /logs waiter's 200 (PROTOCOL.md "GET /logs", 1.2): from a view of the
 * camera's events (a fetch's upload, or the cache), the waiter's `after`
 * first, then its `since` and `limit`; for a numbering camera the headers
 * Camlogs-Cursor (always), Camlogs-Gap (an `after` of another epoch, or one
 * whose next events the camera no longer holds: the reply is then as if
 * there were no `after`) and Camlogs-Cached (a stale answer). A 1.1
 * camera's reply is the 1.1 one, no headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay_int.h"
#include "jsonw.h"
#include "rfc3339.h"

/* The first index of recs[0..n) (seq-ascending) whose seq is above s. */
static size_t after_index(record_t *const *recs, size_t n, uint64_t s)
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

/* Room for the whole reply at once (a cached camera's reply is often all of
 * its history): its strings plus their JSON, and the writer's worst case for
 * the longest string (it reserves that much before each), so the buffer is
 * not copied as it grows. At most `limit` records are written: an estimate
 * from the last ones. */
static void reserve(buf_t *b, record_t *const *recs, size_t n, uint32_t limit)
{
    size_t est = 2, longest = 0;
    for (size_t i = limit && limit < n ? n - limit : 0; i < n; i++) {
        const record_t *r = recs[i];
        size_t len = r->description_len > r->timestamp_len ? r->description_len : r->timestamp_len;
        est += r->description_len + r->timestamp_len + 33;
        if (len > longest)
            longest = len;
    }
    buf_reserve(b, est + 6 * longest + 2);
}

void logs_reply(const waiter_t *w, const view_t *v, buf_t *b, api_reply_t *r, char *cursor)
{
    size_t from = 0;
    bool gap = false;
    uint64_t newest = v->newest;
    if (v->numbered && w->has_after) {
        gap = strcmp(w->after_epoch, v->epoch) != 0 || w->after_seq + 1 < v->first;
        if (!gap) {
            from = after_index(v->recs, v->n, w->after_seq);
            /* A position the api gave out: the camera reached it, though
             * this fetch (filtered by since) may not show it. */
            if (!v->exact && w->after_seq > newest)
                newest = w->after_seq;
        }
    }
    record_t *const *recs = v->n > 0 ? v->recs + from : v->recs;
    reserve(b, recs, v->n - from, w->filter.limit);
    jsonw_records(b, recs, v->n - from, &w->filter);
    *r = (api_reply_t){.status = 200,
                       .ctype = "application/json",
                       .body = b->data,
                       .len = b->len,
                       .camera = w->cam->id};
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
    *v = (view_t){.recs = c->recs,
                  .n = c->n,
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

/* The replies' buffer, kept from one reply to the next: a cached camera's
 * reply is often its whole history (a megabyte for 10,000 events), and a
 * fresh one each time costs the page faults of fresh memory. A reply made
 * while another is being sent (an answer that leads to another) gets its
 * own. */
static buf_t reply_buf = BUF_INIT;
static bool reply_busy;

#define REPLY_KEEP (8u << 20) /* larger is given back after use */

buf_t *logs_buf_take(void)
{
    if (reply_busy) {
        buf_t *b = xmalloc(sizeof(*b));
        *b = (buf_t)BUF_INIT;
        return b;
    }
    reply_busy = true;
    reply_buf.len = 0;
    return &reply_buf;
}

void logs_buf_give(buf_t *b)
{
    if (b != &reply_buf) {
        buf_free(b);
        free(b);
        return;
    }
    reply_busy = false;
    if (b->cap > REPLY_KEEP)
        buf_free(b);
}
