/* The camera's upload of one wake-up as a state machine over the outcomes
 * of its attempts (spec/retry.rl): an upload that fails on the network or
 * with a 5xx is sent again, with the same request_id, until the api answers
 * it (2xx) or refuses it (409, 400, 401, 413, any other 4xx), or until it is
 * no longer worth sending (a newer wake-up superseded it, or its deadline
 * passed). A wake-up for the request_id being answered changes nothing.
 * The camera feeds each outcome and does what the machine answers; the
 * delays and the transfers stay with the caller (camera/upload.c). */
#ifndef RETRY_H
#define RETRY_H

/* Events. Ragel imports these names (spec/retry.rl): keep `NAME = value`. */
enum retry_event {
    RTE_START = 1,    /* the wake-up: first attempt */
    RTE_ANSWERED = 2, /* 2xx: the api took the stats */
    RTE_REFUSED = 3,  /* 409, 400, 401, 413 or another 4xx: sending again cannot help */
    RTE_FAILED = 4,   /* connection error or timeout, 5xx, 408, 429: may work next time */
    RTE_DUE = 5,      /* the back-off has passed */
    RTE_AGAIN = 6,    /* a wake-up with this upload's request_id */
    RTE_EXPIRED = 7,  /* a newer wake-up superseded it, or its deadline passed */
    RTE__COUNT = 8
};

/* What the camera does. */
enum retry_action {
    RTA_SEND = 1,     /* start an attempt (the same body, the same request_id) */
    RTA_DONE = 2,     /* answered: the upload is over */
    RTA_DROP = 3,     /* refused: the upload is over (the events stay in the ring) */
    RTA_BACK_OFF = 4, /* wait (exponential with jitter), then feed RTE_DUE */
    RTA_IGNORE = 5,   /* nothing changes */
    RTA_LAST = 6,     /* the attempt in flight may finish; none after it */
    RTA_GIVE_UP = 7,  /* no more attempts: the upload is over (the events stay) */
    RTA__COUNT = 8
};

enum retry_state {
    RETRY_NEW,     /* not sent yet */
    RETRY_SENDING, /* an attempt in flight */
    RETRY_WAITING, /* backing off after a failed attempt */
    RETRY_LAST,    /* the last attempt in flight: expired while sending */
    RETRY_OVER,    /* answered, refused or given up: accepts no event */
    RETRY__COUNT
};

typedef struct retry {
    int cs;
    enum retry_state state;
} retry_t;

/** Starts in RETRY_NEW. */
void retry_init(retry_t *r);
/** Feeds one event. Returns the action (> 0), or -1 when the event is not
 * legal in the current state (state unchanged). */
int retry_feed(retry_t *r, int ev);

#endif
