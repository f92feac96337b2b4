/* Query strings, ids and the Authorization header (PROTOCOL.md, "Names and
 * common rules"); the grammar is spec/query.rl. */
#ifndef QUERY_H
#define QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rfc3339.h"

#define ID_MAX 64                         /* camera and request ids: [A-Za-z0-9._-]{1,64} */
#define SINCE_MAX 256                     /* longest `since` accepted (bytes, decoded) */
#define QUERY_SEQ_MAX 9007199254740992ULL /* 2^53: the largest `first` (and cursor SEQ) */

/** Parameters, for query_t.err; QP_OTHER is anything outside the known ones. */
enum query_param {
    QP_OTHER,
    QP_CAMERA,
    QP_REQUEST_ID,
    QP_TIMEOUT,
    QP_LIMIT,
    QP_SINCE,
    QP_CONNECTED, /* /cameras */
    QP_PREFIX,    /* /cameras */
    QP_EPOCH,     /* 1.2: a numbering camera's history (id grammar) */
    QP_FIRST,     /* 1.2: /send-stats, the oldest event held (1 to 2^53) */
    QP_AFTER,     /* 1.2: /logs, a cursor EPOCH:SEQ (SEQ 0 to 2^53) */
    QP_STALE,     /* 1.2: /logs switch, 0 or 1 */
    QP_FOLLOW,    /* 1.2: /logs switch, 0 or 1 */
    QP__COUNT
};
#define QP_BIT(p) (1u << (p))

/** The parameters any endpoint understands, decoded and checked. A field is
 * set only when present and valid. Errors are split so that each endpoint
 * can apply the contract's order of checks: a bad or repeated `camera` sets
 * camera_err; anything wrong with the other known parameters (including a
 * bad %-escape anywhere outside `camera`) sets other_err. Unknown parameters
 * are ignored. */
typedef struct query {
    bool has_camera, has_request_id, has_timeout, has_limit, has_since;
    bool has_connected, has_prefix;
    bool connected;          /* connected=1 (true) or 0 */
    char prefix[ID_MAX + 1]; /* id characters, may be empty */
    char camera[ID_MAX + 1];
    char request_id[ID_MAX + 1];
    uint32_t timeout_ms; /* 100..300000, rounded up to a whole ms */
    uint32_t limit;      /* 1..1000000 */
    char since[SINCE_MAX + 1];
    rfc3339_t since_t; /* relative to `since` */
    /* 1.2 */
    bool has_epoch, has_first, has_after, stale, follow;
    char epoch[ID_MAX + 1];
    uint64_t first;                     /* 1..2^53 */
    char after_epoch[ID_MAX + 1];       /* the cursor `after`, split */
    uint64_t after_seq;                 /* 0..2^53 */
    const char *camera_err, *other_err; /* static reasons, or NULL */
    const char *err[QP__COUNT];         /* the first problem with each parameter */
} query_t;

/** The first problem (in enum order) among the parameters in `mask`
 * (QP_BIT(QP_x) | ...), or NULL: an endpoint looks only at what it takes,
 * since parameters it does not take are unknown to it and ignored. A bad
 * %-escape outside the known parameters is QP_OTHER, which every endpoint
 * checks. */
const char *query_error(const query_t *q, unsigned mask);

/** Parses the query string `s` (without the '?'; may be empty). Never fails
 * as a whole: problems land in camera_err / other_err. */
void query_parse(const char *s, size_t len, query_t *q);

/** True when s[0..len) is a valid camera or request id. */
bool query_valid_id(const char *s, size_t len);

/** Extracts the token from an Authorization value "Bearer <token>" (scheme
 * case-insensitive, one or more spaces), ignoring SP/HTAB before and after
 * the value (optional white space, not part of it). Returns 0 and points
 * *tok into v, or -1. */
int query_bearer(const char *v, size_t len, const char **tok, size_t *tok_len);

#endif
