/* The join rule (PROTOCOL.md "GET /logs", the paragraph after the replies):
 * does the fetch in flight's filter give every record of a joiner's reply,
 * and how an undelivered fetch widens so that it does. A whole fetch of a
 * numbering camera (1.2: no since or limit asked, handshake.c) covers every
 * joiner and never comes here. And the way back: waiters of a fetch whose
 * replies the cache could not make wait for the next one. */
#include <string.h>

#include "relay_int.h"
#include "rfc3339.h"

/* Orders two filters by `since`; no `since` is the earliest. */
static int since_cmp(const record_filter_t *a, const record_filter_t *b)
{
    if (!a->has_since || !b->has_since)
        return (int)a->has_since - (int)b->has_since;
    return rfc3339_cmp(a->since_str, &a->since, b->since_str, &b->since);
}

/* Does the fetch's filter give every record this one selects? A limit is a
 * count from the end of what passes `since`, so it covers another limit only
 * under the same `since`. */
bool join_covers(const fetch_t *f, const record_filter_t *w)
{
    const record_filter_t *ff = &f->filter;
    int order = since_cmp(w, ff);
    if (order < 0)
        return false;
    if (ff->limit == 0)
        return true;
    return order == 0 && w->limit != 0 && w->limit <= ff->limit;
}

/* Widens the (undelivered) fetch so that it also covers `w`. */
void join_widen(fetch_t *f, const record_filter_t *w)
{
    record_filter_t *ff = &f->filter;
    int order = since_cmp(w, ff);
    if (order != 0 || ff->limit == 0 || w->limit == 0)
        ff->limit = 0;
    else if (w->limit > ff->limit)
        ff->limit = w->limit;
    if (order < 0) { /* w reaches further back */
        ff->has_since = w->has_since;
        ff->since = w->since;
        memcpy(f->since, w->since_str, sizeof(f->since));
    }
}

/* The cache could not make the replies after all: the waiters wait for the
 * next fetch (a whole one: the cache is gone), first in line. */
void join_requeue(camera_t *cam)
{
    while (!h2o_linklist_is_empty(&cam->fetch.waiters)) {
        waiter_t *w = H2O_STRUCT_FROM_MEMBER(waiter_t, link, cam->fetch.waiters.prev);
        h2o_linklist_unlink(&w->link);
        w->joined = false;
        h2o_linklist_insert(cam->queued.next, &w->link);
    }
}
