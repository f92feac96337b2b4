/* Server-Sent Events framing (W3C HTML, "Server-sent events"): what the
 * api's streams write, /logs?follow=1 and /cameras?follow=1. Each call
 * appends one whole block, ended by its blank line, so a block is never
 * split between two writes' worth of framing. */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

#include "buf.h"

/** `retry: MS`: how long a client waits before it reconnects. */
void sse_retry(buf_t *b, unsigned ms);
/** One event. `event` NULL is a plain `message`; `id` NULL sends no id.
 * `data` is one line: a CR or LF in it would end the field, so each one is
 * written as the JSON escape it stands for (the api's data is JSON, whose
 * strings never hold a raw one). */
void sse_event(buf_t *b, const char *event, const char *id, const char *data, size_t len);
/** A comment (`: text`): a keep-alive that no client sees as an event. */
void sse_comment(buf_t *b, const char *text);

#endif
