/* The api's cache of numbering cameras' events (PROTOCOL.md 1.2, "The api's
 * cache"; docs/API.md "The cache"). Per camera, one epoch's history: when
 * `known`, every event the camera held at its latest whole upload, from its
 * `first` to its newest (`hi`), none missing. A fetch then asks the camera
 * only for what came after `hi` (the wake-up's `after`), and the replies,
 * computed from the cache plus that upload, are exactly what a full fetch
 * returns. Another epoch, or a request without one, forgets it; events
 * below the camera's `first` are dropped as each upload tells it.
 * Bound: all cameras' caches together stay within --cache-bytes. When new
 * events would pass it, whole cameras are dropped, least recently used
 * first (never one a fetch in flight relies on); a camera whose history
 * alone passes it is marked too_big and fetched as in 1.1 until its epoch
 * changes.
 * Counting is what malloc gave: each record's chunk (malloc_usable_size
 * plus glibc's 8-byte chunk header) and each camera's pointer array (its
 * chunk too, kept at exactly n slots). */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay_int.h"

static struct {
    h2o_linklist_t lru; /* caches holding bytes, least recently used first */
    size_t bytes, events;
} K;

#define CHUNK_HDR sizeof(size_t) /* glibc's header before each chunk */

size_t cache_bytes(void)
{
    return K.bytes;
}

size_t cache_events(void)
{
    return K.events;
}

void cache_setup(void)
{
    h2o_linklist_init_anchor(&K.lru);
}

static size_t chunk(const void *p)
{
    return p != NULL ? malloc_usable_size((void *)p) + CHUNK_HDR : 0;
}

/* Counts `delta` bytes for c (and all). */
static void count(cam_cache_t *c, ssize_t delta)
{
    c->bytes = (size_t)((ssize_t)c->bytes + delta);
    K.bytes = (size_t)((ssize_t)K.bytes + delta);
}

logs_snap_t *cache_snap(cam_cache_t *c)
{
    if (c->snap == NULL)
        c->snap = snap_new(c->recs, c->n);
    return c->snap;
}

/* Replaces c's array by recs[0..n) (owned; NULL when n is 0). The replies
 * going out keep their snapshot of the old one. */
static void set_array(cam_cache_t *c, record_t **recs, size_t n)
{
    snap_put(c->snap);
    c->snap = NULL;
    count(c, -(ssize_t)chunk(c->recs));
    free(c->recs);
    c->recs = recs;
    K.events = K.events - c->n + n;
    c->n = n;
    count(c, (ssize_t)chunk(recs));
}

/* A record leaves the cache (a reply showing it may keep it). */
static void free_rec(cam_cache_t *c, record_t *r)
{
    count(c, -(ssize_t)chunk(r));
    record_unref(r);
}

/* The camera was used: most recently used from now. */
void cache_touch(cam_cache_t *c)
{
    if (h2o_linklist_is_linked(&c->lru))
        h2o_linklist_unlink(&c->lru);
    h2o_linklist_insert(&K.lru, &c->lru);
}

void cache_drop(camera_t *cam)
{
    cam_cache_t *c = &cam->cache;
    for (size_t i = 0; i < c->n; i++)
        free_rec(c, c->recs[i]);
    set_array(c, NULL, 0);
    c->known = false;
    c->pinned = false;
    if (h2o_linklist_is_linked(&c->lru))
        h2o_linklist_unlink(&c->lru);
}

void cache_shows(camera_t *cam, const char *epoch)
{
    cam_cache_t *c = &cam->cache;
    if (epoch == NULL) {
        cache_drop(cam);
        c->epoch[0] = '\0';
    } else if (strcmp(c->epoch, epoch) != 0) {
        cache_drop(cam);
        c->too_big = false;
        snprintf(c->epoch, sizeof(c->epoch), "%s", epoch);
    }
}

void cache_plan(camera_t *cam, fetch_t *f)
{
    cam_cache_t *c = &cam->cache;
    f->whole = f->has_after = false;
    if (api_conf.cache_bytes == 0 || cam->numbers != 1 || c->too_big)
        return;
    f->whole = true;
    if (c->known && strcmp(c->epoch, cam->epoch) == 0) {
        f->has_after = true;
        f->after = c->hi;
        snprintf(f->epoch, sizeof(f->epoch), "%s", c->epoch);
        c->pinned = true;
    }
}

/* Keeps recs[k..n) of c's array followed by add[0..m) (taken from st). */
static void splice(cam_cache_t *c, size_t k, stats_t *st, size_t from)
{
    size_t keep = c->n - k, m = st->n - from, n = keep + m;
    record_t **recs = n > 0 ? xmalloc(n * sizeof(*recs)) : NULL;
    for (size_t i = 0; i < k; i++)
        free_rec(c, c->recs[i]);
    if (keep > 0)
        memcpy(recs, c->recs + k, keep * sizeof(*recs));
    for (size_t i = 0; i < m; i++) {
        recs[keep + i] = st->recs[from + i];
        st->recs[from + i] = NULL; /* the cache's now */
        count(c, (ssize_t)chunk(recs[keep + i]));
    }
    set_array(c, recs, n);
    if (n > 0)
        c->hi = recs[n - 1]->seq;
}

/* How many of c's events are below `first`. */
static size_t below(const cam_cache_t *c, uint64_t first)
{
    size_t k = 0;
    while (k < c->n && c->recs[k]->seq < first)
        k++;
    return k;
}

/* An upload after c->hi: adds what came after, drops what the camera no
 * longer holds. False when the cache turns out not to hold what the camera
 * does (it shows older events than the cache has): the replies cannot be
 * made from it. */
static bool extend(cam_cache_t *c, stats_t *st)
{
    if (st->first < c->first)
        return false;
    size_t from = 0; /* a camera that breaks the after rule: skip what we have */
    while (from < st->n && st->recs[from]->seq <= c->hi)
        from++;
    splice(c, below(c, st->first), st, from);
    c->first = st->first;
    return true;
}

/* A whole upload without after: the cache becomes it. */
static void replace(cam_cache_t *c, stats_t *st)
{
    splice(c, c->n, st, 0);
    c->first = st->first;
    c->hi = st->n > 0 ? c->recs[c->n - 1]->seq : st->first - 1;
    c->known = true;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool cache_take(camera_t *cam, const fetch_t *f, stats_t *st, bool *redo)
{
    cam_cache_t *c = &cam->cache;
    *redo = false;
    c->pinned = false;
    cache_shows(cam, st->epoch);    /* another epoch: forgotten */
    if (st->streamed && c->known) { /* its records are in already */
        cache_touch(c);
        return true;
    }
    if (!f->whole) { /* not all it holds: only drop what it lost */
        if (c->known && st->first > c->first) {
            splice(c, below(c, st->first), st, st->n);
            c->first = st->first;
        }
        return false;
    }
    bool after = f->has_after && strcmp(f->epoch, st->epoch) == 0;
    if (after && !(c->known && c->hi == f->after && extend(c, st))) {
        cache_drop(cam);
        *redo = true;
        return false;
    }
    if (!after)
        replace(c, st);
    c->cached_at = wall_ms();
    cache_touch(c);
    follow_notify(cam);
    return true;
}

void cache_bound(camera_t *cam)
{
    if (cam->cache.bytes > api_conf.cache_bytes) { /* alone over the bound */
        cache_drop(cam);
        cam->cache.too_big = true;
        follow_end(cam, "too-big");
    }
    h2o_linklist_t *l = K.lru.next;
    while (K.bytes > api_conf.cache_bytes && l != &K.lru) {
        cam_cache_t *c = H2O_STRUCT_FROM_MEMBER(cam_cache_t, lru, l);
        l = l->next;
        if (c->pinned || c->streaming ||
            !h2o_linklist_is_empty(&H2O_STRUCT_FROM_MEMBER(camera_t, cache, c)->followers))
            continue; /* a fetch relies on it, or followers do */
        cache_drop(H2O_STRUCT_FROM_MEMBER(camera_t, cache, c));
    }
}

/* Streaming (follow uploads) ---------------------------------------------------------- */

bool cache_stream_begin(camera_t *cam, const fetch_t *f, stats_t *st)
{
    cam_cache_t *c = &cam->cache;
    cache_shows(cam, st->epoch); /* another epoch: forgotten */
    if (!f->has_after || strcmp(f->epoch, st->epoch) != 0) {
        cache_drop(cam); /* it sends all it holds: the cache becomes that */
        c->known = true;
        c->first = st->first;
        c->hi = st->first - 1;
    } else if (!c->known || c->hi < f->after || st->first < c->first) {
        cache_drop(cam); /* it cannot vouch for what the camera holds */
        return false;
    } else { /* drops what the camera no longer holds */
        splice(c, below(c, st->first), st, st->n);
        c->first = st->first;
        if (c->hi + 1 < st->first)
            c->hi = st->first - 1;
    }
    c->streaming = c->pinned = true;
    c->cached_at = wall_ms();
    cache_touch(c);
    return true;
}

bool cache_stream_add(camera_t *cam, record_t *rec)
{
    cam_cache_t *c = &cam->cache;
    if (!c->known || !c->streaming || rec->seq <= c->hi) { /* resent, or the cache is gone */
        record_unref(rec);
        return false;
    }
    snap_put(c->snap); /* the replies going out keep theirs; the next is made anew */
    c->snap = NULL;
    count(c, -(ssize_t)chunk(c->recs));
    c->recs = xrealloc(c->recs, (c->n + 1) * sizeof(*c->recs));
    count(c, (ssize_t)chunk(c->recs));
    c->recs[c->n++] = rec;
    K.events++;
    count(c, (ssize_t)chunk(rec));
    c->hi = rec->seq;
    c->cached_at = wall_ms();
    return true;
}

void cache_stream_end(camera_t *cam)
{
    cam->cache.streaming = false;
    cam->cache.pinned = false;
}
