/* h2o's side of the api: the one handler every h2o request goes through
 * (front.c: route, 405 + Allow), replies rendered onto an h2o_req_t
 * (respond.c), requests h2o holds for us and their hang-ups (held.c), and
 * the handlers of the endpoints (endpoints.c, status.c, rebalance.c, and
 * web.h's page). Requests arrive here over HTTP/2 or on an HTTP/1
 * connection the camera path handed to h2o. */
#ifndef API_FRONT_H
#define API_FRONT_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

#include "buf.h"
#include "query.h"
#include "reply.h"

/* The handler (front.c) */
/** Installs the one handler that routes every path. */
void front_register(h2o_pathconf_t *pathconf);
/** h2o's requests from arrival to dispose, so shutdown can let the last
 * replies go out. */
size_t front_live(void);

/* Replies onto an h2o request (respond.c); each logs and counts it */
/** The length of the request's path without its query. */
size_t respond_path_len(const h2o_req_t *req);
/** Sends `r` (its body is copied). */
void respond_send(h2o_req_t *req, const api_reply_t *r);
/** Starts a 200 whose body `gen` streams (Server-Sent Events: `ctype`,
 * Cache-Control: no-cache, X-Accel-Buffering: no); logged and counted now. */
void respond_stream(h2o_req_t *req, h2o_generator_t *gen, const char *ctype);
/** Sends a complete reply with `body` (copied). */
void respond(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len,
             const char *camera);
/** {"error":reason,"camera":camera} with status; no "camera" when NULL. */
void respond_error(h2o_req_t *req, int status, const char *reason, const char *camera);
void respond_json(h2o_req_t *req, int status, const buf_t *body, const char *camera);
/** Sends the reply of a refusal. */
void respond_verdict(h2o_req_t *req, const verdict_t *v);
/** 401 with `WWW-Authenticate: Bearer` (error="invalid_token" when a token
 * was presented) and {"error":reason,"camera":camera}. */
void respond_unauthorized(h2o_req_t *req, const char *reason, const char *camera, bool presented);

/* Held requests (held.c) */
/** A request the api answers later: a poll or a /logs waiter. Allocated in the
 * request's pool with held_new(); `on_gone` runs once if the client leaves
 * before it is answered (then the request must not be answered: for HTTP/1 a
 * reply has already been queued to close the connection). */
typedef struct held held_t;
struct held {
    h2o_req_t *req; /* NULL once answered or gone */
    int fd;         /* watched for hang-up, or -1 */
    int pass;       /* hang-ups in one batch: pass 0 (polls) before pass 1 */
    void (*on_gone)(held_t *h);
};
/** Allocates a zeroed object of `size` (held_t first) in req's pool. */
void *held_new(h2o_req_t *req, size_t size, void (*on_gone)(held_t *h));
/** Detaches `h` from its request and returns the request, to answer it now. */
h2o_req_t *held_take(held_t *h);
/** The epoll set of hang-ups, in `loop`. Returns 0, or -1 with one line in err. */
int held_setup(h2o_evloop_t *loop, char *err, size_t n);
void held_close(void);

/* The endpoints' handlers (endpoints.c, status.c, rebalance.c) */
int endpoints_control(h2o_req_t *req, const query_t *q);
int endpoints_logs(h2o_req_t *req, const query_t *q);
int endpoints_stats(h2o_req_t *req, const query_t *q);
/** The request's Authorization value, or NULL. */
const char *endpoints_authorization(h2o_req_t *req, size_t *len);
/** 0 if the request carries an operator token (or none are configured),
 * else replies 401 (naming `camera`, which may be NULL) and returns -1. */
int endpoints_operator(h2o_req_t *req, const char *camera);
/** /healthz /metrics /cameras */
int status_serve(h2o_req_t *req, const char *path, const query_t *q);
/** GET /cameras?follow=1 (camstream.c), after the checks of /cameras */
int camstream_serve(h2o_req_t *req, const query_t *q);
/** Shutdown: ends every /cameras?follow=1 stream with `event: end`. */
void camstream_shutdown(void);
/** POST /rebalance */
int rebalance_serve(h2o_req_t *req, const query_t *q);

#endif
