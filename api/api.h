/* What the whole api program shares: its configuration (the flags, read by
 * flags.c and the credentials files, reload.c), the one event loop, and
 * whether it is stopping. One process, one loop: everything runs on the h2o
 * evloop thread. Each room has its own header beside this one:
 *   tmr.h net.h reply.h routes.h metrics.h   leaves any room uses
 *   checks.h       the checks both transports run
 *   front.h        h2o's side (front, respond, held, endpoints, status)
 *   process.h      the process's plumbing (budget, reload, announce, node, ...)
 *   relay/relay.h  the relay core      campath/campath.h  the camera path
 * docs/ARCHITECTURE.md draws them. */
#ifndef API_API_H
#define API_API_H

#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>

#include "auth.h"
#include "idset.h"

typedef struct api_config {
    char host[256];
    uint16_t port;
    uint64_t poll_timeout_ms; /* 0 = hold until the camera leaves */
    uint64_t grace_ms;
    uint64_t max_body;
    uint64_t cache_bytes;     /* 1.2: --cache-bytes, all cameras' cached events; 0 = none */
    uint64_t follow_hold_s;   /* 1.2: --follow-hold, the `follow` of a follow fetch (1..60) */
    uint64_t max_cameras;     /* distinct camera ids kept at once */
    uint64_t max_polls;       /* held /control-channel requests at once */
    uint64_t max_waiters;     /* held /logs requests at once */
    uint64_t forget_ms;       /* an idle camera is forgotten after this long */
    uint64_t req_timeout_ms;  /* time to receive a request's head and body */
    uint64_t head_timeout_ms; /* ... its head, or a TLS handshake */
    uint64_t max_pending;     /* connections before their request head (0: from the budget) */
    bool quiet;
    bool http2;                         /* --http2: offer HTTP/2 (ALPN h2, h2c) to operators */
    unsigned ka_idle, ka_intvl, ka_cnt; /* TCP keep-alive (s, s, probes); 0 = off */
    uint64_t user_timeout_ms;           /* TCP_USER_TIMEOUT when user_timeout_set */
    bool user_timeout_set;
    char *camera_secret; /* NULL = cameras unauthenticated */
    size_t camera_secret_len;
    auth_tokens_t operators; /* n == 0 = operators unauthenticated */
    idset_t revoked;         /* camera ids refused even with a valid token */
    bool revoked_absent;     /* --camera-revoked-file names no file (yet) */
    const char *tls_cert, *tls_key;
    const char *node;      /* --node: this process's name in a deployment, or NULL */
    uint64_t rebalance_ms; /* --rebalance-spread (default: rebalance_setup) */
    bool rebalance_set;    /* ... given */
} api_config_t;

/** The configuration (main.c holds the defaults; flags.c and reload.c fill it). */
extern api_config_t api_conf;
/** The one event loop. */
extern h2o_evloop_t *api_loop;
/** Set by SIGINT/SIGTERM: new work is refused 503 while the last replies go out. */
extern bool api_stopping;

#endif
