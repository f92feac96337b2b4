/* Inside the relay core: a camera's entry in the table (cameras.c), its
 * handshake state (handshake.c), its connect grace (grace.c) and what an
 * upload tells its fetch (upload.c). Private to api/relay/. */
#ifndef API_RELAY_RELAY_INT_H
#define API_RELAY_RELAY_INT_H

#include <time.h>

#include "api.h"
#include "clock.h"
#include "metrics.h"
#include "record.h"
#include "relay.h"
#include "session.h"

typedef struct fetch {
    bool active, delivered;
    char rid[ID_MAX + 1];
    record_filter_t filter; /* what the camera is asked for */
    char since[SINCE_MAX + 1];
    uint64_t delivered_at;
    h2o_linklist_t waiters;
    const char *why; /* the reason of the 502 an upload's failure gives */
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
    bool connected;       /* holds a poll, uploads, or was answered < grace ago */
    bool seen;            /* made a request as this camera: listed in /cameras */
    unsigned uploads;     /* uploads not freed, each holding this pointer */
    unsigned receiving;   /* of those, the undecided: stats are coming in */
    h2o_linklist_t ups;   /* the uploads (upload.c) */
    uint64_t changed;     /* when `connected` last changed (wall clock, ms) */
    uint64_t last_seen;   /* its latest request (wall clock, ms) */
    uint64_t answered_at; /* the latest reply to one of its requests (monotonic ms) */
    tmr_t linger;         /* --connect-grace after that reply: connected ends */
    char addr[56];        /* where its latest poll came from (cameras_from) */
};

/* The records of one /send-stats, for the waiters' replies. */
typedef struct stats {
    record_t **recs;
    size_t n, cap;
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
int handshake_fetch_stats(camera_t *cam, const char *rid, const stats_t *st);
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
/** After action `act`: arms, keeps or cancels the camera's grace timer for
 * the state the machine reached. */
void grace_track(camera_t *cam, int act);

/* upload.c */
/** Revoked: every undecided upload of the camera is refused 401 and counts
 * as broken off (upload.c). */
void upload_revoke_all(camera_t *cam);

#endif
