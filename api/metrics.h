/* Counters for /metrics (metrics.c): replies by endpoint and status, records
 * relayed, /logs waiting and their latency, 401s by reason; the build, the
 * limits and the process (procstat.c). A leaf: the gauges it does not
 * count itself are handed in when the text is written (status.c). */
#ifndef API_METRICS_H
#define API_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum metric_endpoint { M_LOGS, M_STATS, M_CONTROL, M_OTHER };
/** Why a 401: no token (or not "Bearer ..."), a wrong one, a revoked id. */
enum metric_auth { MA_MISSING, MA_WRONG, MA_REVOKED, MA__COUNT };

/** What /metrics shows that other rooms count. */
typedef struct metrics_gauges {
    size_t connected;                 /* cameras connected */
    size_t known;                     /* entries in the camera table */
    size_t polls;                     /* held polls */
    size_t cache_bytes, cache_events; /* 1.2: the api's cache */
} metrics_gauges_t;

/** Counts a reply; called by both transports for every request. */
void metrics_reply(enum metric_endpoint ep, int status);
/** A /logs reply with `status` went out `seconds` after its request came. */
void metrics_logs_latency(double seconds, int status);
/** A 401 for a camera (operator false) or operator token, and why. */
void metrics_unauthorized(bool operator, enum metric_auth why);
void metrics_records(uint64_t n);
/** /send-stats body bytes received (the cameras' uplink, framing removed). */
void metrics_stats_bytes(uint64_t n);
void metrics_waiting(int delta);
/** Held /logs requests now (the gauge, and --max-waiters). */
size_t metrics_waiting_now(void);
/** 1.2: a follower starts (+1) or ends (-1); events written to followers. */
void metrics_followers(int delta);
void metrics_follow_events(uint64_t n);
/** The exposition text, with the gauges `g`. */
void metrics_text(buf_t *b, const metrics_gauges_t *g);
/** The process metrics (procstat.c): process_resident_memory_bytes, ... */
void procstat_text(buf_t *b);

#endif
