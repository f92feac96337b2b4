/* Inside the relay core: a camera's entry in the table (cameras.c), its
 * handshake state (handshake.c, join.c), its connect grace (grace.c), what
 * an upload tells its fetch (upload.c), and 1.2's cache (cache.c) and
 * replies (logs.c). Private to api/relay/. */
#ifndef API_RELAY_RELAY_INT_H
#define API_RELAY_RELAY_INT_H

#include <time.h>

#include "api.h"
#include "clock.h"
#include "metrics.h"
#include "record.h"
#include "relay.h"
#include "session.h"

/* A view's records kept alive for the /logs replies made from it (body.c):
 * one reference on each, the snapshot itself shared by the replies. */
typedef struct logs_snap {
    size_t refs, n;
    record_t *recs[];
} logs_snap_t;

/* 1.2: what the api holds of a numbering camera's history (cache.c). When
 * `known`, recs[0..n) are every event the camera held at its latest upload
 * from its `first` on, up to `hi` (seq-ascending, none missing). */
typedef struct cam_cache {
    bool known;
    bool too_big; /* its history alone passed --cache-bytes: fetched as in 1.1 */
    char epoch[ID_MAX + 1];
    uint64_t first, hi;
    record_t **recs;
    size_t n;
    size_t bytes;       /* counted (cache.c says how) */
    uint64_t cached_at; /* wall ms of the latest upload it took */
    h2o_linklist_t lru; /* linked while it holds bytes; least recently used first */
    bool pinned;        /* a fetch in flight relies on it: not evicted */
    bool streaming;     /* a follow upload's records come into it as they arrive */
    logs_snap_t *snap;  /* recs[0..n) for replies, made at the first since they changed */
} cam_cache_t;

typedef struct fetch {
    bool active, delivered;
    char rid[ID_MAX + 1];
    record_filter_t filter; /* what the camera is asked for */
    char since[SINCE_MAX + 1];
    uint64_t delivered_at;
    h2o_linklist_t waiters;
    const char *why; /* the reason of the 502 an upload's failure gives */
    /* 1.2, decided at delivery: `whole` asks a numbering camera for its whole
     * history (no since/limit), after `after` when has_after (the cache's
     * newest). */
    bool whole, has_after;
    uint64_t after;
    char epoch[ID_MAX + 1]; /* of `after` */
    bool follow;            /* 1.2: a follow fetch (for followers, no waiters) */
} fetch_t;

struct camera {
    char id[ID_MAX + 1];
    camera_t *next;      /* hash chain */
    h2o_linklist_t idle; /* linked while forgettable, oldest first */
    uint64_t idle_since;
    session_t s;
    poll_t *poll;
    fetch_t fetch;
    h2o_linklist_t queued;
    tmr_t grace;
    bool connected;         /* holds a poll, uploads, or was answered < grace ago */
    bool seen;              /* made a request as this camera: listed in /cameras */
    unsigned uploads;       /* uploads not freed, each holding this pointer */
    unsigned receiving;     /* of those, the undecided: stats are coming in */
    h2o_linklist_t ups;     /* the uploads (upload.c) */
    uint64_t changed;       /* when `connected` last changed (wall clock, ms) */
    uint64_t last_seen;     /* its latest request (wall clock, ms) */
    uint64_t answered_at;   /* the latest reply to one of its requests (monotonic ms) */
    tmr_t linger;           /* --connect-grace after that reply: connected ends */
    char addr[56];          /* where its latest poll came from (cameras_from) */
    int numbers;            /* 1.2: its latest request had an epoch (1), none (0), unknown (-1) */
    char epoch[ID_MAX + 1]; /* ... that epoch */
    cam_cache_t cache;
    h2o_linklist_t followers; /* 1.2: its follower_t (follow.c) */
    bool moving;              /* a rebalance came, no poll since (cameras_may_move) */
};

/* The records of one /send-stats, for the waiters' replies; `numbered`
 * (1.2) when its query had an epoch. */
typedef struct stats {
    record_t **recs;
    size_t n, cap;
    bool numbered;
    bool streamed; /* 1.2: a follow upload whose records went into the cache as they came */
    char epoch[ID_MAX + 1];
    uint64_t first;
} stats_t;

/* cameras.c */
/** Marks the camera forgettable when nothing is going on, or not. */
void cameras_settle(camera_t *cam);
/** Works out "connected" again (/cameras, the metrics gauge). */
void cameras_refresh(camera_t *cam);
/** A reply to one of the camera's requests goes out now: it stays connected
 * for --connect-grace, so the gap before its next request is no disconnection. */
void cameras_answered(camera_t *cam);
/** True while an upload of the camera is being received: stats are coming
 * in, so the connect grace does not count it as gone. */
bool cameras_uploading(const camera_t *cam);
/** The camera made a request (past its checks): listed in /cameras from now. */
void cameras_seen(camera_t *cam);
/** An upload starts or ends (upload.c). End also settles the camera. Done:
 * its outcome is decided (stats no longer come in), though it is not freed. */
void cameras_upload_begin(camera_t *cam);
void cameras_upload_done(camera_t *cam);
void cameras_upload_end(camera_t *cam);
/** A fresh request id. */
void cameras_new_rid(char rid[ID_MAX + 1]);

/* handshake.c */
/** Answers everything the camera holds 503 (the api shuts down). */
void handshake_shutdown(camera_t *cam);
/** Feeds one event with no poll or stats of its own (EV_GRACE, EV_REVOKE)
 * to the camera's machine and performs the action. */
void handshake_feed(camera_t *cam, int ev);
/** One camera's: its held poll, if any, is answered 401 and its uploads in
 * progress are refused 401 through the machine; a fetch delivered to it
 * fails 502 after the connect grace, as for a camera that vanished. Returns
 * whether it held a poll. */
bool handshake_revoke(camera_t *cam);
/** Is there a fetch an upload with q's request_id answers? */
bool handshake_fetch_pending(const camera_t *cam, const query_t *q);
/** The fetch `rid`'s upload brought these records: its waiters get them.
 * Returns 0, or -1 when that fetch is over (the upload is then a 409). */
int handshake_fetch_stats(camera_t *cam, const char *rid, stats_t *st);
/** The fetch `rid`'s upload failed: its waiters get 502 `why` (if it is
 * still the fetch in flight). */
void handshake_fetch_failed(camera_t *cam, const char *rid, const char *why);
/** The fetch `rid`'s upload broke off: the camera counts as vanished
 * (EV_UPLOAD_GONE), if that is still the fetch in flight. */
void handshake_fetch_broke(camera_t *cam, const char *rid);
/* grace.c */
/** How old a delivery with no stats must be before its message is resent:
 * --connect-grace, at least 1 s. */
uint64_t grace_resend_ms(void);
/** The 503's reason when no poll came within `waited_ms`. */
const char *grace_not_connected(uint64_t waited_ms);
/** After action `act`: arms, keeps or cancels the camera's grace timer for
 * the state the machine reached. */
void grace_track(camera_t *cam, int act);

/* cache.c (1.2) */
/** The camera showed `epoch` (NULL: none, a 1.1 request): another epoch
 * than the cache's forgets it. */
void cache_shows(camera_t *cam, const char *epoch);
/** Plans the fetch about to be delivered: whole and after (see fetch_t). */
void cache_plan(camera_t *cam, fetch_t *f);
/** A numbered upload answered fetch `f`: the cache takes its records (st is
 * emptied of those it took) when f was whole. Returns true when the cache
 * now holds the reply's view (every event the camera holds), false when
 * the replies come from st itself. Sets *redo when the cache turned out
 * not to hold what f's replies need (the waiters must be fetched again). */
bool cache_take(camera_t *cam, const fetch_t *f, stats_t *st, bool *redo);
/** After the replies: keeps all caches within --cache-bytes (LRU). */
void cache_bound(camera_t *cam);
/** The cache was used (a stale answer): most recently used from now. */
void cache_touch(cam_cache_t *c);
/** Frees the camera's cache (the camera is forgotten, or its epoch ended). */
void cache_drop(camera_t *cam);
/** The snapshot of the cache's events, for replies (the cache holds it
 * until its events change; a reply holds it while it goes out). */
logs_snap_t *cache_snap(cam_cache_t *c);

/** A follow upload starts for fetch f (its head: st's epoch and first):
 * its records go into the cache as they come (cache_stream_add) when the
 * cache holds everything up to f's `after`; false when it does not (the
 * records then go the usual way, and the cache is dropped). */
bool cache_stream_begin(camera_t *cam, const fetch_t *f, stats_t *st);
/** One record of a streaming upload: taken (true), or freed (not newer than
 * what the cache holds: a resent one). */
bool cache_stream_add(camera_t *cam, record_t *rec);
/** The streaming upload is decided (ended, failed, broke off). */
void cache_stream_end(camera_t *cam);

/* follow.c, followfetch.c (1.2) */
/** The cache grew (or its epoch or first changed): each follower is sent
 * what lies after its cursor. */
void follow_notify(camera_t *cam);
/** The camera's `connected` changed: offline / online to its followers. */
void follow_presence(camera_t *cam);
/** Starts the camera's shared follow fetch when it has followers, no fetch
 * in flight and a poll (or is connected); a priming fetch when the cache
 * does not hold its history yet. */
void follow_kick(camera_t *cam);

/* join.c */
/** Does fetch f's filter give every record a waiter with filter w selects? */
bool join_covers(const fetch_t *f, const record_filter_t *w);
/** Widens the (undelivered) fetch so that it also covers w. */
void join_widen(fetch_t *f, const record_filter_t *w);
/** The cache could not make the fetch's replies: its waiters go back to the
 * front of the queue, for the next fetch. */
void join_requeue(camera_t *cam);

/* logs.c (1.2 replies) */
/** What a 200 is made from: snap's records (seq-ascending when numbered), the
 * camera's epoch and first, and the newest event number the api knows
 * (`exact`: the camera's newest; else a lower bound, a since-filtered
 * fetch). `cached`: a stale answer's Camlogs-Cached, NULL when fresh. */
typedef struct view {
    logs_snap_t *snap;
    bool numbered, exact;
    const char *epoch;
    uint64_t first, newest;
    const char *cached;
} view_t;
#define LOGS_CURSOR_MAX (ID_MAX + 24) /* EPOCH:SEQ and its NUL */
/** The 200 for w from v: its body a stream the transport owns (body.c),
 * headers' values into cursor. */
void logs_reply(const waiter_t *w, const view_t *v, api_reply_t *r, char *cursor);
/** The cache's view of the camera (stamp: 25 bytes for Camlogs-Cached),
 * when it holds its history; the cache counts as used. */
bool logs_cached_view(camera_t *cam, view_t *v, char *stamp);
/** The waiter's 1.2 parameters from its query (after, stale). */
void logs_numbers(waiter_t *w, const query_t *q);
/** stale=1 answers at once: no poll, no upload, no delivered fetch to join. */
bool logs_away(const camera_t *cam);
/** A /logs during a follow upload (followfetch.c): the cache's view, when
 * it holds the reply (a follow upload streams into it). */
bool follow_view(camera_t *cam, view_t *v);
/** The first index of recs[0..n) (seq-ascending) whose seq is above s. */
size_t logs_index_after(record_t *const *recs, size_t n, uint64_t s);
/** The newest event number a numbered upload shows. */
uint64_t logs_newest(const stats_t *st);

/* body.c: a /logs 200's body, made as the client reads it */
/** A snapshot of recs[0..n) (a reference on each), held once. */
logs_snap_t *snap_new(record_t *const *recs, size_t n);
/** One more holder of s. */
logs_snap_t *snap_hold(logs_snap_t *s);
/** One holder fewer (NULL: nothing): the last releases the records. */
void snap_put(logs_snap_t *s);
/** The body of a 200: the records of snap from `from` on that f selects, as
 * a JSON array; *len is its length. It holds the snapshot until freed. */
reply_stream_t *body_new(logs_snap_t *snap, size_t from, const record_filter_t *f, size_t *len);

/* upload.c */
/** Revoked: every undecided upload of the camera is refused 401 and counts
 * as broken off (upload.c). */
void upload_revoke_all(camera_t *cam);

#endif
