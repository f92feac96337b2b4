/* The camera path: the api's own HTTP/1.1 connections (conn.c), read
 * with the generated request machine (runtime/http1.h), and the two
 * endpoints served on them (channel.c, stats.c). Any other request is
 * served by h2o's handler on the same connection (oper.c). Private to
 * api/campath/ (main sees campath.h). */
#ifndef API_CAMPATH_CAMPATH_INT_H
#define API_CAMPATH_CAMPATH_INT_H

#include <sys/time.h>

#include "api.h"
#include "buf.h"
#include "campath.h"
#include "checks.h"
#include "clock.h"
#include "http1.h"
#include "metrics.h"
#include "net.h"
#include "query.h"
#include "relay/relay.h"
#include "reply.h"
#include "routes.h"
#include "tmr.h"

enum cam_state {
    CS_HANDSHAKE, /* TLS handshake (accept.c) */
    CS_HEAD,      /* reading a request head (also: idle between requests) */
    CS_BODY,      /* reading a /send-stats body into its upload */
    CS_HELD,      /* a poll is held: nothing but this record */
    CS_OPER,      /* h2o's handler has an operator request (oper.c) */
    CS_REPLY,     /* a reply is going out */
    CS_LINGER,    /* the last reply went out: reading what is left, then close */
    CS_SKIP,      /* a refusal went out: dropping its request's body (stats.c) */
    CS_FOLLOW     /* a /logs?follow=1 stream (follow.c) */
};

/* The request being read; freed once it is held or answered. */
typedef struct cam_req {
    http1_parser_t p;
    size_t fed;              /* bytes of the input fed to the parser, head or body */
    bool head_done;          /* p.head is valid (and its bytes at the input's start) */
    bool body_done;          /* the body was read to its end */
    upload_t *up;            /* /send-stats: the upload its body feeds */
    bool failed;             /* the upload refused the stream (reply, close) */
    bool skip;               /* refused: its body is to be dropped (stats.c) */
    char camera[ID_MAX + 1]; /* /send-stats: its camera, for the replies */
    uint64_t skipped;        /* body bytes dropped so far */
} cam_req_t;

typedef struct oper oper_t;
typedef struct cfollow cfollow_t;

typedef struct cam_conn {
    h2o_socket_t *sock;
    h2o_linklist_t all;     /* every camera-path connection, for shutdown */
    h2o_linklist_t pend;    /* in pending.c's lists (CS_HANDSHAKE, CS_HEAD) */
    struct timeval pend_at; /* ... since */
    bool pend_tls;          /* ... as a TLS handshake */
    uint64_t start_us;      /* the request's first byte */
    struct timeval connected_at;
    tmr_t timer;          /* request, write, handshake or linger deadline */
    poll_t poll;          /* the held poll (CS_HELD) */
    cam_req_t *req;       /* NULL while held or idle */
    oper_t *oper;         /* the operator request h2o serves, or NULL */
    cfollow_t *follow;    /* the follower it holds (CS_FOLLOW), or NULL */
    cam_req_t *skipping;  /* a refused request whose body is being dropped */
    const route_t *route; /* of the request in hand, for the log line */
    char *wbuf;           /* the write in flight, or NULL */
    buf_t queued;         /* what waits for it */
    uint64_t head_us;     /* when the request's head was complete */
    uint8_t state;
    bool keep_alive; /* the request in hand allows another after it */
    bool http10;     /* ... and was HTTP/1.0 */
    bool closing;    /* close after the reply in flight */
    bool drain;      /* ... reading what the client still sends (linger) */
    bool paused;     /* reading stopped: too much read ahead */
    bool eof;        /* the client closed its side */
    bool ut_lifted;  /* TCP_USER_TIMEOUT lifted for a long reply (oper.c) */
} cam_conn_t;

/** h2o's accept context: hand-offs and HTTP/2 go there (accept.c). */
extern h2o_accept_ctx_t *accept_h2o_ctx;

/* conn.c: connections ---------------------------------------------------- */
/** A new connection on `sock` (state CS_HANDSHAKE or, for plain TCP, read at
 * once); sock->data becomes it. */
cam_conn_t *conn_new(h2o_socket_t *sock, struct timeval connected_at, bool handshake);
/** After the TLS handshake: starts reading requests. */
void conn_begin(cam_conn_t *c);
/** Frees the record, leaving the socket to its new owner (h2o's HTTP/2). */
void conn_detach(cam_conn_t *c);
/** Closes the socket and frees the record. */
void conn_close(cam_conn_t *c);
/** The request's head bytes (valid until the request is held or answered). */
const char *conn_head_base(const cam_conn_t *c);
/* Helpers shared by conn.c and write.c. */
void conn_arm(cam_conn_t *c, uint64_t ms);
void conn_consume(cam_conn_t *c, size_t n);
void conn_trim_input(cam_conn_t *c);
void conn_pause_reading(cam_conn_t *c, bool on);
void conn_drop_request(cam_conn_t *c);
/** Waits for the connection's next request (and reads what is there). */
void conn_next_request(cam_conn_t *c);
/** Acts on the input as far as the state allows; false once closed. */
bool conn_advance(cam_conn_t *c);
/** The request becomes a held poll: its head and parser are dropped. */
void conn_hold(cam_conn_t *c);
/** The head is read and the body follows: CS_BODY. */
void conn_expect_body(cam_conn_t *c);

/** Moves the connection to `state`, keeping pending.c's lists. */
void conn_set_state(cam_conn_t *c, uint8_t state);

/* pending.c: the pre-authentication budget ------------------------------ */
/** `c` starts waiting for a head (or a TLS handshake); at a cap the oldest
 * pending connection is closed first. */
void pending_enter(cam_conn_t *c, bool handshake);
/** `c` is no longer pending (if it was). */
void pending_leave(cam_conn_t *c);
/** Connections closed to admit newer ones, since start. */
uint64_t pending_evicted(void);

/* write.c: replies -------------------------------------------------------- */
/** The final reply to the request in hand; then the next one, or close. */
void write_answer(cam_conn_t *c, const api_reply_t *r);
/** Whether the connection closes after the reply to the request in hand
 * (`close`, or the request, the client or shutdown says so); sets it. */
bool write_closing(cam_conn_t *c, bool close);
/** The last bytes of the reply to the request in hand (rendered by the
 * caller, who also logged it); then the next request, or close. */
void write_final(cam_conn_t *c, buf_t *b);
/** A piece of a reply still being produced (oper.c); oper_proceed asks for
 * the next once it is written. */
void write_part(cam_conn_t *c, buf_t *b);
/** RFC 9110's IMF-fixdate of now. */
const char *write_date(void);
/** The refusal `v` as the final reply. */
void write_refuse(cam_conn_t *c, const verdict_t *v);
/** Writes an interim "100 Continue". */
void write_continue(cam_conn_t *c);
/** Frees what is being written or waits to be (the socket closes). */
void write_drop(cam_conn_t *c);
/** Logs and counts a reply that could not be written (the client left). */
void write_log_gone(cam_conn_t *c, const char *camera);

/* oper.c: operator requests, served by h2o's handler -------------------- */
/** The head in hand is not a camera endpoint's (and has no body): h2o's
 * handler serves it on this connection (state CS_OPER). */
void oper_request(cam_conn_t *c);
/** The last piece written: asks h2o for the next. */
void oper_proceed(cam_conn_t *c);
/** Disposes of the operator request (unanswered: its client is gone). */
void oper_free(cam_conn_t *c);

/* follow.c: /logs?follow=1 held on the connection ----------------------- */
/** The head in hand is a GET /logs with follow=1: checked and held here. */
void cfollow_request(cam_conn_t *c, query_t *q);
/** Frees the follower the connection holds (the relay's no more). */
void cfollow_free(cam_conn_t *c);

/* The endpoints (channel.c, stats.c) ------------------------------------ */
/** GET /control-channel, its head complete. */
void channel_request(cam_conn_t *c, const query_t *q);
/** The held poll's client closed its connection. */
void channel_gone(cam_conn_t *c);
/** POST /send-stats, its head complete. */
void stats_request(cam_conn_t *c, const query_t *q);
/** Body bytes are waiting in the input (CS_BODY). */
void stats_body(cam_conn_t *c);
/** The camera of the /send-stats body in hand (for a 408, 503, 499). */
const char *stats_camera(const cam_conn_t *c);
/** Drops the skipped body's bytes in the input: 1 at its end, 0 for more,
 * -1 when it broke its framing or ran over --max-body. */
int stats_skip(cam_conn_t *c, cam_req_t *r);
/** The body stopped before its end (client gone, timed out, shutdown). */
void stats_abort(cam_conn_t *c);

#endif
