/* The camera's side of the handshake: its connect role as a state machine
 * over the outcomes of its polls (spec/uplink.rl). The camera feeds each
 * outcome and does what the machine answers; the delay of a back-off and
 * the upload itself stay with the caller. */
#ifndef UPUPLINK_H
#define UPUPLINK_H

/* Events. Ragel imports these names (spec/uplink.rl): keep `NAME = value`. */
enum uplink_event {
    UE_DUE = 1,     /* time to poll (at start, after a wake-up, after a back-off) */
    UE_WOKEN = 2,   /* 200 with a valid control message (or an empty body) */
    UE_EMPTY = 3,   /* 204: the api's poll timeout */
    UE_TIMEOUT = 4, /* our client timeout, after the request went out */
    UE_REFUSED = 5, /* 409: a newer poll for this id exists */
    UE_FAILED = 6,  /* connection error or timeout, 5xx, other status, bad control message */
    UE__COUNT = 7
};

/* What the camera does. */
enum uplink_action {
    UA_POLL = 1,     /* start a poll */
    UA_UPLOAD = 2,   /* hand the control message to the request role; poll again at once */
    UA_REPOLL = 3,   /* poll again at once; the link is healthy, reset the back-off */
    UA_BACK_OFF = 4, /* wait (exponential with jitter), then poll */
    UA__COUNT = 5
};

enum uplink_state {
    UPLINK_READY,   /* about to poll */
    UPLINK_POLLING, /* a poll in flight */
    UPLINK_WAITING, /* backing off */
    UPLINK__COUNT
};

typedef struct uplink {
    int cs;
    enum uplink_state state;
} uplink_t;

/** Starts in UPLINK_READY. */
void uplink_init(uplink_t *l);
/** Feeds one event. Returns the action (> 0), or -1 when the event is not
 * legal in the current state (state unchanged). */
int uplink_feed(uplink_t *l, int ev);

#endif
