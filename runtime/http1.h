/* HTTP/1.1 request framing (RFC 9112) for the api's camera path: a push
 * parser generated from spec/http1.rl. It reads request heads (request line,
 * header fields) and request bodies (Content-Length or chunked), refuses
 * what is malformed or ambiguous (the request-smuggling classics) with a
 * status, a reason and the offset of the offending byte, and gives the same
 * result whatever the chunking of its input. It never allocates and never
 * copies: spans point into the caller's bytes. */
#ifndef HTTP1_H
#define HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_HEAD_MAX 8192       /* bytes of a request head, blank line included: else 431 */
#define HTTP1_FIELDS_MAX 32       /* header fields in one head: else 431 */
#define HTTP1_CHUNK_LINE_MAX 4096 /* bytes of a chunk-size line, CRLF included: else 400 */
#define HTTP1_TRAILERS_MAX HTTP1_HEAD_MAX /* bytes of the trailer section: else 431 */

/** A span of the head, as offsets from its first byte. */
typedef struct http1_span {
    uint32_t off, len;
} http1_span_t;

/** What a complete head says. Field values exclude leading and trailing
 * SP/HTAB (RFC 9110 5.5). */
typedef struct http1_head {
    http1_span_t method;
    http1_span_t path;  /* origin-form path, up to '?' */
    http1_span_t query; /* after '?', without it; len 0 when absent */
    bool has_query;
    unsigned minor; /* HTTP/1.<minor>: 0 or 1 */
    unsigned nfields;
    struct {
        http1_span_t name, value;
    } fields[HTTP1_FIELDS_MAX];
    bool has_length; /* Content-Length present (then `length` holds it) */
    uint64_t length;
    bool chunked;         /* Transfer-Encoding: chunked */
    bool keep_alive;      /* 1.1 without "Connection: close", or 1.0 with "keep-alive" */
    bool expect_continue; /* Expect: 100-continue */
} http1_head_t;

/** Why a request was refused: reply `status` with `reason`, then close the
 * connection (framing is lost). `offset` counts from the head's first byte
 * (body bytes included, for errors in chunked framing). */
typedef struct http1_error {
    int status;         /* 400, 417 (an expectation other than 100-continue), 431, 501 (a transfer
                         * coding other than chunked), 505 */
    const char *reason; /* static, human readable */
    uint64_t offset;
} http1_error_t;

/** Parser state, owned by the caller (a few hundred bytes). */
typedef struct http1_parser {
    int cs;       /* the machine's state */
    uint64_t pos; /* bytes consumed since the head's first byte */
    http1_head_t head;
    http1_error_t err;
    /* private: field/span marks, chunk-size accumulator, bytes left */
    uint32_t mark, name_mark, name_len;
    unsigned field_kind;
    uint64_t left, acc;
    unsigned flags;
    uint32_t vend;       /* end of the field value read so far */
    uint64_t limit;      /* offset the current section must end before */
    unsigned char stage; /* head, body framing, done, error */
    unsigned char where; /* the part being read: names a refusal */
} http1_parser_t;

enum http1_rc {
    HTTP1_ERROR = -1,    /* p->err says why; every later call returns it again */
    HTTP1_MORE = 0,      /* all of the input was consumed; feed more */
    HTTP1_HEAD_DONE = 1, /* the head is complete: read p->head */
    HTTP1_BODY_DONE = 2  /* the body is complete (also at once for a request without one) */
};

/** Starts a new request (also between keep-alive requests). */
void http1_init(http1_parser_t *p);

/** Feeds bytes of the head. The caller keeps the head's bytes contiguous
 * (p->head spans index them) until it has used them. *used is how many
 * bytes of `buf` were consumed: all of them for HTTP1_MORE; up to and
 * including the blank line for HTTP1_HEAD_DONE (what follows is the body or
 * a pipelined request); for HTTP1_ERROR the bytes before the refused one.
 * After HTTP1_HEAD_DONE it returns HTTP1_HEAD_DONE again, consuming nothing.
 * Refusals and their statuses: docs/HTTP1.md. */
int http1_feed_head(http1_parser_t *p, const char *buf, size_t len, size_t *used);

/** Called with the body's data, framing removed, in order; `data` points
 * into the buffer given to http1_feed_body. */
typedef void (*http1_on_data)(void *ctx, const char *data, size_t len);

/** Feeds bytes of the body (after HTTP1_HEAD_DONE). Returns HTTP1_MORE
 * (*used == len), HTTP1_BODY_DONE (*used = the bytes that ended the body,
 * chunk trailers included; the rest belongs to the next request) or
 * HTTP1_ERROR. A request with neither Content-Length nor chunked has an
 * empty body: the first call returns HTTP1_BODY_DONE with *used == 0. */
int http1_feed_body(http1_parser_t *p, const char *buf, size_t len, size_t *used,
                    http1_on_data on_data, void *ctx);

/** Body bytes still expected under Content-Length (UINT64_MAX when chunked). */
uint64_t http1_body_left(const http1_parser_t *p);

/** The value of the first field called `name` (ASCII case-insensitive) in
 * head bytes `base`, or NULL. *len gets its length. */
const char *http1_field(const http1_head_t *h, const char *base, const char *name, size_t *len);

#endif
