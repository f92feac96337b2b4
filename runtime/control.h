/* The control message: the body of a 200 on /control-channel,
 * {"request_id":"<rid>","camera":"<id>"[,"limit":N][,"since":"<RFC 3339>"]}.
 * The api encodes it; the camera decodes it with spec/control.rl. */
#ifndef CONTROL_H
#define CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "query.h"
#include "rfc3339.h"

typedef struct control_msg {
    bool has_request_id, has_camera, has_limit, has_since;
    char request_id[ID_MAX + 1];
    char camera[ID_MAX + 1];
    uint32_t limit;
    char since[SINCE_MAX + 1];
    rfc3339_t since_t;
} control_msg_t;

/** Appends the JSON control message. */
void control_encode(buf_t *b, const control_msg_t *m);

/** Decodes a control message body. Unknown members are ignored; known members
 * with a wrong type or value make it malformed. Returns 0, or -1 with a static
 * reason in *why. An empty body is valid and yields a message with nothing
 * set (an old-style server). */
int control_decode(const char *body, size_t len, control_msg_t *m, const char **why);

#endif
