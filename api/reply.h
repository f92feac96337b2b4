/* Replies, whatever carries them (reply.c): a refusal (verdict_t) and a
 * complete reply (api_reply_t), their reason phrases, headers and JSON
 * errors, and the request log line. Both transports render these (h2o's:
 * respond.c; the camera path's: campath/write.c); the relay core builds
 * them. A leaf: it calls nothing in api/. */
#ifndef API_REPLY_H
#define API_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/** The outcome of a check that refused a request: what to answer. Checks
 * return one instead of replying, so that both transports (h2o and the
 * camera path) share them. */
typedef struct verdict {
    int status;         /* 0 = the checks passed */
    const char *reason; /* {"error":reason} */
    const char *camera; /* the camera it was about (log line), or NULL */
    const char *allow;  /* 405: the Allow header */
    bool bad_token;     /* 401: a token came, and was wrong (error="invalid_token") */
    bool close;         /* give the connection up after the reply */
} verdict_t;

/** A body produced as the client reads it (a /logs 200: relay/body.c),
 * instead of one in memory: r->len bytes in all, a slice at a time. The
 * transport an api_reply_t carrying one is sent to owns it: it calls next
 * for each slice as the client takes the one before, and free once the
 * last is out or the client left. Only h2o's respond.c takes one (every
 * /logs waiter is an h2o request). */
typedef struct reply_stream reply_stream_t;
struct reply_stream {
    /** Appends the next slice (at least one byte while any remain). */
    void (*next)(reply_stream_t *s, buf_t *out);
    void (*free)(reply_stream_t *s);
};

/** A complete reply, transport-neutral. */
typedef struct api_reply {
    int status;
    const char *ctype; /* NULL: no Content-Type */
    const char *body;
    size_t len;
    reply_stream_t *stream; /* the body, when not in `body` (len: its length) */
    const char *camera;     /* for the log line, or NULL */
    const char *why;        /* a refusal's reason, for the log line, or NULL */
    const char *allow;      /* 405: the Allow header, or NULL */
    bool bad_token;         /* 401: as in verdict_t */
    bool close;             /* the connection closes after it */
    /* 1.2, a /logs 200 about a numbering camera: Camlogs-Cursor, Camlogs-Gap: 1,
     * Camlogs-Cached (NULL / false: absent). */
    const char *cursor;
    bool gap;
    const char *cached;
} api_reply_t;

/** Sets *v (the checks' refusal) and returns -1. */
int reply_refuse(verdict_t *v, int status, const char *reason, const char *camera);
/** The standard reason phrase of `status`. */
const char *reply_reason(int status);
/** Fills *r with v's JSON error reply; its body is written into b. */
void reply_of_verdict(api_reply_t *r, const verdict_t *v, buf_t *b);
/** Renders v's reply and hands it to send(ctx, r): the one way a
 * transport sends a refusal (r's body lives until send returns). */
void reply_verdict_to(const verdict_t *v, void (*send)(void *ctx, const api_reply_t *r), void *ctx);
/** Calls add(ctx, name, value) for each header the reply carries besides
 * Content-Type, Content-Length and Connection (Allow, WWW-Authenticate,
 * Camlogs-Cursor, Camlogs-Gap, Camlogs-Cached). */
void reply_each_header(const api_reply_t *r, void (*add)(void *ctx, const char *, const char *),
                       void *ctx);
/** Whether reply_log would write a line (skip building its fields). */
bool reply_log_wanted(const char *path, size_t plen, int status);
/** The request log line (unless --quiet): `client` is the peer's address,
 * `us` the time since the head arrived, `why` a refusal's reason (NULL:
 * none; shown as error=). */
void reply_log(const char *method, size_t mlen, const char *path, size_t plen, const char *client,
               int status, const char *camera, long long us, const char *why);

#endif
