/* The control message: the body of a 200 on /control-channel,
 * {"request_id":"<rid>","camera":"<id>"[,"limit":N][,"since":"<RFC 3339>"]
 * [,"after":"EPOCH:SEQ"][,"follow":S]} (the last two: 1.2).
 * The api encodes it; the camera decodes it with spec/control.rl, which
 * also reads the reason of the api's error replies. */
#ifndef CONTROL_H
#define CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "query.h"
#include "rfc3339.h"

#define CONTROL_SEQ_MAX 9007199254740991ULL /* 2^53-1: the largest event number */

typedef struct control_msg {
    bool has_request_id, has_camera, has_limit, has_since;
    char request_id[ID_MAX + 1];
    char camera[ID_MAX + 1];
    uint32_t limit;
    char since[SINCE_MAX + 1];
    rfc3339_t since_t;
    /* 1.2: "after":"EPOCH:SEQ" (send only the events after it) and
     * "follow":S (a follow upload). A malformed one is not an error of the
     * message: it is left unset and its _bad flag says it was there. */
    bool has_after, after_bad, has_follow, follow_bad;
    char after_epoch[ID_MAX + 1];
    uint64_t after_seq;
    uint32_t follow; /* seconds, 1..60 */
} control_msg_t;

/** Appends the JSON control message. */
void control_encode(buf_t *b, const control_msg_t *m);

/** Decodes a control message body. Unknown members are ignored; known members
 * with a wrong type or value make it malformed. Returns 0, or -1 with a static
 * reason in *why. An empty body is valid and yields a message with nothing
 * set (an old-style server). */
int control_decode(const char *body, size_t len, control_msg_t *m, const char **why);

/** The "error" string of an error reply ({"error":"<reason>",...}, as the
 * api sends with every refusal), decoded and cut to at most n - 1 bytes,
 * into out (NUL-terminated; \u escapes outside ASCII become 0xFF, raw UTF-8
 * is kept; the first SINCE_MAX bytes at most). Returns 0, or -1 with out
 * empty when the body is not a JSON object with a string "error". */
int control_decode_error(const char *body, size_t len, char *out, size_t n);

#endif
