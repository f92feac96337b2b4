/* The handshake machine (runtime/session.h, spec/session.rl) against a
 * reference transition table written here from PROTOCOL.md and the comments
 * of session.h: every input byte is one event (including values outside the
 * alphabet); after every event the action, the accept/reject and the state
 * must match the table, and a refused event must leave the state as it was. */
#include <limits.h>

#include "common.h"
#include "session.h"

enum {
    I = SESSION_IDLE,
    PL = SESSION_POLLING,
    PN = SESSION_PENDING,
    D = SESSION_DELIVERED,
    DP = SESSION_DELIVERED_POLLING,
    G = SESSION_GONE
};

typedef struct ref_step {
    int act; /* 0: the event is illegal in this state */
    int next;
} ref_step_t;

/* ref[state][event]: what the api does and where the camera ends up. */
static const ref_step_t ref[SESSION__COUNT][EV__COUNT] =
    {
        [I] =
            {
                [EV_POLL] = {ACT_HOLD, PL},        /* hold the poll until work comes */
                [EV_LOGS] = {ACT_WAIT_CAMERA, PN}, /* no poll: wait connect-grace for one */
            },
        [PL] =
            {
                [EV_POLL] = {ACT_SUPERSEDE, PL},      /* newest poll wins, old one 409 */
                [EV_POLL_TIMEOUT] = {ACT_RELEASE, I}, /* 204 */
                [EV_POLL_GONE] = {ACT_FORGET, I},
                [EV_REVOKE] = {ACT_REFUSE, I},     /* 401: its id was revoked */
                [EV_LOGS] = {ACT_DELIVER_HELD, D}, /* the held poll gets the 200 */
            },
        [PN] =
            {
                [EV_POLL] = {ACT_DELIVER_NEW, D},  /* a fetch was waiting: answer at once */
                [EV_STATS] = {ACT_COMPLETE, I},    /* stats without request_id: oldest pending */
                [EV_STATS_BAD] = {ACT_FAIL, I},    /* 502 */
                [EV_GRACE] = {ACT_UNAVAILABLE, I}, /* 503: no camera within the grace */
                [EV_ABANDON] = {ACT_DROP, I},
                [EV_UPLOAD_GONE] = {ACT_AWAIT, PN}, /* the grace already waits for a poll */
            },
        [D] =
            {
                [EV_POLL] = {ACT_HOLD, DP},
                [EV_POLL_RESEND] = {ACT_RESEND, D}, /* lost wake-up: same message again */
                [EV_STATS] = {ACT_COMPLETE, I},
                [EV_STATS_BAD] = {ACT_FAIL, I},
                [EV_ABANDON] = {ACT_DROP, I},
                [EV_UPLOAD_GONE] = {ACT_AWAIT, G}, /* upload broke off, no poll: vanished */
                [EV_REVOKE] = {ACT_AWAIT, G},      /* revoked: it cannot come back */
            },
        [DP] =
            {
                [EV_POLL] = {ACT_SUPERSEDE, DP},
                [EV_POLL_RESEND] = {ACT_RESEND, D},
                [EV_POLL_TIMEOUT] = {ACT_RELEASE, D},
                [EV_POLL_GONE] = {ACT_FORGET_WAIT, G}, /* the camera may have vanished */
                [EV_GRACE] = {ACT_RESEND_HELD, D},     /* lost wake-up: again on the held poll */
                [EV_REVOKE] = {ACT_REFUSE_WAIT, G},    /* 401, then 502 after the grace */
                [EV_UPLOAD_GONE] = {ACT_REARM, DP},    /* still polls: resend if no retry */
                [EV_STATS] = {ACT_COMPLETE, PL},       /* the fetch ends, the poll stays held */
                [EV_STATS_BAD] = {ACT_FAIL, PL},
                [EV_ABANDON] = {ACT_DROP, PL},
            },
        [G] =
            {
                [EV_POLL] = {ACT_RESEND, D}, /* it came back: resend the message */
                [EV_POLL_RESEND] = {ACT_RESEND, D},
                [EV_STATS] = {ACT_COMPLETE, I},
                [EV_STATS_BAD] = {ACT_FAIL, I},
                [EV_GRACE] = {ACT_FAIL, I}, /* 502: vanished after delivery */
                [EV_ABANDON] = {ACT_DROP, I},
                [EV_UPLOAD_GONE] = {ACT_AWAIT, G},
                [EV_REVOKE] = {ACT_AWAIT, G},
            },
};

/* Byte -> event: the alphabet 1..10, 0, and values around and far outside it. */
static int event_of(uint8_t b)
{
    static const int odd[6] = {EV__COUNT, -1, 256 + EV_POLL, INT_MIN, INT_MAX, 0x10000 + EV_LOGS};
    b %= 16;
    return b < EV__COUNT ? b : odd[b - EV__COUNT];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    session_t s;
    int st = SESSION_IDLE;

    session_init(&s);
    FUZZ_CHECK(s.state == SESSION_IDLE, "initial state %d", s.state);
    for (size_t i = 0; i < size; i++) {
        int ev = event_of(data[i]), before_cs = s.cs;
        ref_step_t want = ev > 0 && ev < EV__COUNT ? ref[st][ev] : (ref_step_t){0, st};
        int act = session_feed(&s, ev);
        FUZZ_CHECK(want.act ? act == want.act : act == -1,
                   "step %zu: %s + %s (%d): action %d, want %d", i, session_state_name(st),
                   session_event_name(ev), ev, act, want.act ? want.act : -1);
        if (!want.act)
            FUZZ_CHECK(s.cs == before_cs, "refused event changed cs");
        else
            st = want.next;
        FUZZ_CHECK((int)s.state == st, "step %zu: state %s, want %s", i,
                   session_state_name(s.state), session_state_name(st));
    }
    return 0;
}
