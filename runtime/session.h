/* The per-camera handshake of the api (PROTOCOL.md: /control-channel,
 * /logs, /send-stats) as a state machine over events; spec/session.rl is the
 * machine. The api feeds every event that concerns a camera and performs the
 * action the machine returns; an event the machine rejects leaves the state
 * as it was. Data (which poll, which waiters) stays with the caller. */
#ifndef SESSION_H
#define SESSION_H

/* Events. Ragel imports these names (spec/session.rl): keep `NAME = value`. */
enum session_event {
    EV_POLL = 1,         /* a /control-channel arrives */
    EV_POLL_RESEND = 2,  /* one arrives while the fetch was delivered > grace ago */
    EV_POLL_TIMEOUT = 3, /* --poll-timeout passed for the held poll */
    EV_POLL_GONE = 4,    /* the camera closed the held poll */
    EV_LOGS = 5,         /* a fetch starts (first /logs, or the next queued one) */
    EV_STATS = 6,        /* /send-stats for the fetch, stream valid */
    EV_STATS_BAD = 7,    /* /send-stats for the fetch, malformed or too large */
    EV_GRACE = 8,        /* the connect grace passed: since a fetch began to wait for a
                            poll, since the poll closed, or since the delivery */
    EV_ABANDON = 9,      /* the fetch's last waiter left or timed out */
    EV_REVOKE = 10,      /* the camera's id was revoked (reload): end its held poll */
    EV_UPLOAD_GONE = 11, /* the fetch's upload broke off (its connection closed early) */
    EV__COUNT = 12
};

/* What the caller does for the event it fed. */
enum session_action {
    ACT_HOLD = 1,         /* hold the new poll; arm its poll timeout */
    ACT_SUPERSEDE = 2,    /* answer the held poll 409, hold the new one */
    ACT_DELIVER_NEW = 3,  /* answer the new poll 200 with the control message */
    ACT_DELIVER_HELD = 4, /* answer the held poll 200 with the control message */
    ACT_RESEND = 5,       /* 409 the held poll (if any), answer the new one 200 again */
    ACT_RELEASE = 6,      /* answer the held poll 204 */
    ACT_FORGET = 7,       /* the held poll is gone: drop it */
    ACT_FORGET_WAIT = 8,  /* drop it and arm the connect grace: the camera may be gone */
    ACT_WAIT_CAMERA = 9,  /* no poll to deliver to: arm the connect grace */
    ACT_COMPLETE = 10,    /* answer the fetch's waiters 200; the fetch ends */
    ACT_FAIL = 11,        /* answer the fetch's waiters 502; the fetch ends */
    ACT_UNAVAILABLE = 12, /* answer the fetch's waiters 503; the fetch ends */
    ACT_DROP = 13,        /* forget the fetch (no waiter left) */
    ACT_RESEND_HELD = 14, /* lost wake-up: answer the held poll 200 with the message again */
    ACT_REFUSE = 15,      /* answer the held poll 401 (revoked); a fetch stays as it is */
    ACT_AWAIT = 16,       /* the camera vanished (upload broke off, or revoked), no poll
                             held: arm the connect grace for its return */
    ACT_REARM = 17,       /* an upload broke off, a poll is held: arm the resend timer */
    ACT_REFUSE_WAIT = 18, /* answer the held poll 401 (revoked); arm the connect grace */
    ACT__COUNT = 19
};

/* States, for tests and /cameras (values are the machine's own). */
enum session_state {
    SESSION_IDLE,              /* no poll, no fetch */
    SESSION_POLLING,           /* poll held, no fetch */
    SESSION_PENDING,           /* fetch waits for a poll (grace armed) */
    SESSION_DELIVERED,         /* fetch delivered, no poll held */
    SESSION_DELIVERED_POLLING, /* fetch delivered, poll held */
    SESSION_GONE,              /* fetch delivered, the camera vanished (grace armed) */
    SESSION__COUNT
};

typedef struct session {
    int cs;                   /* the machine's own state number */
    enum session_state state; /* the same state, named */
} session_t;

/** Starts in SESSION_IDLE. */
void session_init(session_t *s);
/** Feeds one event. Returns the action to perform (> 0), or -1 when the event
 * is not legal in the current state (state unchanged). */
int session_feed(session_t *s, int ev);
const char *session_state_name(enum session_state st);
const char *session_event_name(int ev);

#endif
