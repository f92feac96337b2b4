/* The relay core, as the transports and the process see it: the camera
 * table (cameras.c), each camera's handshake with its polls and /logs
 * waiters (handshake.c; the join rule in join.c), the uploads that answer a
 * fetch (upload.c), and 1.2's cache of numbering cameras' events (cache.c)
 * with the /logs replies made from it or from an upload (logs.c).
 * A poll and a /logs waiter are transport-neutral (relay_ops_t): the
 * transport that holds one answers it. The core never reads a socket; what it answers goes
 * out as an api_reply_t through the transport. Its private header is
 * relay_int.h. */
#ifndef API_RELAY_RELAY_H
#define API_RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "buf.h"
#include "idset.h"
#include "query.h"
#include "record.h"
#include "reply.h"
#include "tmr.h"

typedef struct camera camera_t;

/* Polls and /logs waiters --------------------------------------------------------- */
/** How a held poll or /logs waiter is answered: by the transport holding it
 * (an h2o request, endpoints.c; a connection of the camera path,
 * campath/channel.c). `held` is the poll_t or waiter_t; after the call it is
 * over, and its memory the transport's again. */
typedef struct relay_ops {
    void (*answer)(void *held, const api_reply_t *r);
} relay_ops_t;

/** A poll, whatever carries it; owned by its transport. */
typedef struct poll {
    const relay_ops_t *ops;
    camera_t *cam;
    tmr_t timeout;
} poll_t;

/** A /logs waiter, whatever carries it; owned by its transport. The fields
 * after `ops` are the handshake's. */
typedef struct waiter {
    const relay_ops_t *ops;
    camera_t *cam;
    h2o_linklist_t link; /* in cam->fetch.waiters or cam->queued */
    bool joined;         /* in the fetch, not queued */
    record_filter_t filter;
    char since[SINCE_MAX + 1];
    tmr_t deadline;
    uint64_t started_us; /* monotonic */
    uint32_t timeout_ms;
    bool stale, has_after; /* 1.2 */
    char after_epoch[ID_MAX + 1];
    uint64_t after_seq;
} waiter_t;

/* The camera table (cameras.c) --------------------------------------------------- */
/** The camera for `id`, created if `create`; NULL if unknown (or the table is
 * full: then *full is set). */
camera_t *cameras_get(const char *id, bool create, bool *full);
/** The camera's id. */
const char *cameras_name(const camera_t *cam);
/** The address its requests come from ("1.2.3.4:5678"), for the log lines
 * of its arrival and departure: a transport calls it before handing over a
 * poll. */
void cameras_from(camera_t *cam, const char *addr);
/** A rebalance may send the camera to another process (rebalance.c): if it
 * is connected and goes away before it polls here again (cameras_from), its
 * followers get `event: end` ("rebalance") rather than `offline`, so that
 * they resume on the process it went to. */
void cameras_may_move(camera_t *cam);
/** Calls fn for every camera in the table (fn must not add or forget any). */
void cameras_each(void (*fn)(camera_t *cam, void *arg), void *arg);
/** Which cameras /cameras lists: all, or only those connected (1) or not
 * (0); `prefix` (may be empty) narrows by id. */
typedef struct cameras_filter {
    int connected; /* -1: either */
    const char *prefix;
} cameras_filter_t;
/** /cameras: the cameras seen that pass `f`, sorted by id. */
void cameras_json(buf_t *b, const cameras_filter_t *f);
/** Its /cameras `connected`. */
bool cameras_is_connected(const camera_t *cam);
/** One /cameras entry ({"camera":..,"connected":..,"since":..,..}). */
void cameras_entry_json(buf_t *b, const camera_t *cam);
/** Calls fn(cam, arg) after each change of a camera's `connected` (an
 * arrival or a departure, as logged), at most CAMERAS_WATCHERS of them:
 * /cameras?follow=1 (camstream.c). fn must not add or forget a camera. */
#define CAMERAS_WATCHERS 4
void cameras_watch(void (*fn)(const camera_t *cam, void *arg), void *arg);
size_t cameras_connected(void);
/** 1.2: the camera showed an epoch on a request (`epoch`), or none (NULL). */
void cameras_epoch(camera_t *cam, const char *epoch);
/** 1.2: its latest request had an epoch (1), had none (0), unknown (-1). */
int cameras_numbers(const camera_t *cam);
/** 1.2, /metrics: the cache's bytes and events, all cameras. */
size_t cache_bytes(void);
size_t cache_events(void);
void cache_setup(void);
/** Entries in the camera table (seen or only asked for). */
size_t cameras_known(void);
/** Reload: ends the held poll of every camera in `revoked` (401); returns
 * how many. */
size_t cameras_revoke(const idset_t *revoked);
/** Shutdown: answers every held request 503. */
void cameras_shutdown(void);
void cameras_setup(void);

/* The handshake (handshake.c) ---------------------------------------------------- */
/** Held polls, all cameras (--max-polls). */
size_t handshake_polls(void);
/** The camera's held poll, or NULL. */
poll_t *handshake_held(const camera_t *cam);
/** Would a new poll be answered at once (a fetch waits for it, its camera
 * vanished, or its delivery is lost) rather than held? */
bool handshake_poll_answered_now(const camera_t *cam);
/** A new poll `p` (p->ops set by its transport): held or answered. */
void handshake_poll(camera_t *cam, poll_t *p);
/** The client of a poll not yet answered left: the poll is dropped. */
void handshake_poll_gone(poll_t *p);
/** A new /logs waiter `w` (w->ops set by its transport) for q's records:
 * joins the fetch in flight, or waits for the next one, until answered. */
void handshake_logs(camera_t *cam, waiter_t *w, const query_t *q);
/** The client of a waiter not yet answered left: the waiter is dropped. */
void handshake_waiter_gone(waiter_t *w);

/* Uploads: a /send-stats body fed to its fetch as it arrives (upload.c) ------------ */
typedef struct upload upload_t;
/** The last checks of an upload for camera `id`, from its head: a body over
 * --max-body (413; has_length false = not known yet), no pending fetch
 * (409). Returns the upload, or NULL with the refusal in *v. */
upload_t *upload_admit(const char *id, const query_t *q, bool has_length, uint64_t length,
                       verdict_t *v);
/** Feeds body bytes (framing removed). Returns 0, or -1 once the upload has
 * failed (malformed stream, over --max-body): its waiters already know;
 * upload_reply() says what to answer. */
int upload_feed(upload_t *up, const char *data, size_t len);
/** The body is complete: the fetch's waiters get the records (or 502). */
void upload_finish(upload_t *up);
/** The reply to the uploader, once finished or failed; the body goes in b. */
void upload_reply(const upload_t *up, api_reply_t *r, buf_t *b);
/** The body's framing is broken: the fetch's waiters get 502 with `why` at
 * once, as for a malformed stream. */
void upload_fail(upload_t *up, const char *why);
/** The body stopped before its end (connection closed, --request-timeout,
 * shutdown): the camera counts as vanished (EV_UPLOAD_GONE); the fetch waits
 * the connect grace for a retried upload or a new poll. */
void upload_abort(upload_t *up);
/** 1.2: a follow upload (its records stream to followers): the api cuts it
 * for no --request-timeout before --follow-hold plus --connect-grace. */
bool upload_follow(const upload_t *up);
/** Frees it (an upload neither finished nor failed is aborted first). */
void upload_free(upload_t *up);

/* Followers: GET /logs?follow=1 (follow.c, 1.2) -------------------------------------- */
typedef struct follower follower_t;
/** How a follower's stream is written: by the transport holding it
 * (campath/follow.c). */
typedef struct follow_ops {
    /** Writes (takes) b's bytes, after what is still unsent. */
    void (*send)(follower_t *f, buf_t *b);
    /** The stream is over: flush what is unsent then close (`flush`), or
     * close at once (a follower cut for not reading). The follower is no
     * longer the relay's when this is called. */
    void (*close)(follower_t *f, bool flush);
} follow_ops_t;

/** A follower, whatever carries it; owned by its transport. The transport
 * keeps `unsent` and `took_ms` up to date; the rest is the relay's. */
struct follower {
    const follow_ops_t *ops;
    size_t unsent;    /* bytes sent to it and not yet taken by its client */
    uint64_t took_ms; /* monotonic: its client last took bytes (or unsent became > 0) */
    camera_t *cam;
    h2o_linklist_t link, all; /* in its camera's followers; in every follower */
    record_filter_t filter;   /* since and limit: the first part only */
    char since[SINCE_MAX + 1];
    bool started;    /* its first part was sent */
    bool has_cursor; /* epoch:seq is where it is */
    bool online;     /* what it was last told (offline/online) */
    char epoch[ID_MAX + 1];
    uint64_t seq;
    uint64_t wrote_ms; /* its latest write (the keep-alive comment) */
};

/** The checks of a follow=1 /logs past the query's own (its 400s): the
 * `Last-Event-ID` value (NULL: none) replaces `after` in q (400 if it is not
 * a cursor); 409 for a camera known not to number its events, or a cache
 * that cannot hold it. Returns 0, or -1 with the refusal in *v. */
int follow_check(camera_t *cam, query_t *q, const char *last_id, size_t len, verdict_t *v);
/** A new follower of cam for q (f->ops set; the transport has written the
 * 200's head): its stream starts. */
void follow_start(camera_t *cam, follower_t *f, const query_t *q);
/** Its client left (or its transport gave up on it): dropped. */
void follow_gone(follower_t *f);
/** Ends every follower of the camera: `event: end` with `reason`, then its
 * stream closes. For a rebalance ("rebalance": the camera moved to another
 * process), a revocation, the camera turning out not to number its events. */
void follow_end(camera_t *cam, const char *reason);
/** Ends every follower of every camera ("shutdown"). */
void follow_end_all(const char *reason);
/** Followers now, all cameras. */
size_t follow_count(void);

#endif
