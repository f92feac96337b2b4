/* Inside the request role: one upload (a wake-up's answer and its
 * retries), shared by upload.c (the retry machine, ordinary bodies) and
 * upload_live.c (the follow uploads' streams in the loop). */
#ifndef UPLOAD_INT_H
#define UPLOAD_INT_H

#include "camera.h"
#include "retry.h"

struct upload {
    xfer_t super;
    struct upload *next;
    buf_t body;               /* POSTFIELDS does not copy: the body lives here */
    uint64_t count, selected; /* sent; selected by the filter (more if cut) */
    uint64_t first;           /* the query's first: the oldest event held then */
    char rid[ID_MAX + 1];
    retry_t m;           /* spec/retry.rl */
    bool active;         /* an attempt is in the multi handle */
    unsigned attempts;   /* started so far */
    uint64_t woken_ms;   /* the wake-up (monotonic): the deadline counts from here */
    uint64_t due_ms;     /* the next attempt, while backing off */
    uint64_t backoff_ms; /* the current back-off base */
    buf_t reply;         /* the first HINTS_REPLY_KEEP bytes of the answer */
    const char *expired; /* why it expired (set with RTE_EXPIRED) */
    stream_t *live;      /* a follow upload's stream, or NULL */
};

#endif
