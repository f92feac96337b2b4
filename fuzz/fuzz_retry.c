/* The camera's upload-retry machine (runtime/retry.h, spec/retry.rl)
 * against a reference table written here from PROTOCOL.md (POST
 * /send-stats: a network error or a 5xx is retried with the same
 * request_id until 2xx, 409, 400, 401 or 413; a wake-up for the request_id
 * being answered is ignored) and the bounds of docs/CAMERA.md (a newer
 * wake-up or the deadline expires an upload: a waiting one gives up, one in
 * flight finishes as the last). Every input byte is one event (including
 * values outside the alphabet); after every event the action, the
 * accept/reject and the state must match, and a refused event must leave
 * the state as it was. */
#include <limits.h>

#include "common.h"
#include "retry.h"

typedef struct ref_step {
    int act; /* 0: the event is illegal in this state */
    int next;
} ref_step_t;

static const ref_step_t ref[RETRY__COUNT][RTE__COUNT] = {
    [RETRY_NEW] = {[RTE_START] = {RTA_SEND, RETRY_SENDING}},
    [RETRY_SENDING] =
        {
            [RTE_ANSWERED] = {RTA_DONE, RETRY_OVER},
            [RTE_REFUSED] = {RTA_DROP, RETRY_OVER},       /* 409/400/401/413: never again */
            [RTE_FAILED] = {RTA_BACK_OFF, RETRY_WAITING}, /* reset, 5xx: the same id again */
            [RTE_AGAIN] = {RTA_IGNORE, RETRY_SENDING},    /* the api resent our wake-up */
            [RTE_EXPIRED] = {RTA_LAST, RETRY_LAST},
        },
    [RETRY_WAITING] =
        {
            [RTE_DUE] = {RTA_SEND, RETRY_SENDING},
            [RTE_AGAIN] = {RTA_IGNORE, RETRY_WAITING},
            [RTE_EXPIRED] = {RTA_GIVE_UP, RETRY_OVER},
        },
    [RETRY_LAST] =
        {
            [RTE_ANSWERED] = {RTA_DONE, RETRY_OVER},
            [RTE_REFUSED] = {RTA_DROP, RETRY_OVER},
            [RTE_FAILED] = {RTA_GIVE_UP, RETRY_OVER}, /* no retry after expiry */
            [RTE_AGAIN] = {RTA_IGNORE, RETRY_LAST},
            [RTE_EXPIRED] = {RTA_IGNORE, RETRY_LAST},
        },
    /* RETRY_OVER: every event refused */
};

static int event_of(uint8_t b)
{
    static const int odd[8] = {0, RTE__COUNT, -1, 256 + RTE_START, INT_MIN, INT_MAX, 0x10001, 9};
    b %= 16;
    return b > 0 && b < RTE__COUNT ? b : odd[b < RTE__COUNT ? 0 : b - RTE__COUNT];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    retry_t r;
    int st = RETRY_NEW;

    retry_init(&r);
    FUZZ_CHECK(r.state == RETRY_NEW, "initial state %d", r.state);
    for (size_t i = 0; i < size; i++) {
        int ev = event_of(data[i]), before_cs = r.cs;
        ref_step_t want = ev > 0 && ev < RTE__COUNT ? ref[st][ev] : (ref_step_t){0, st};
        int act = retry_feed(&r, ev);
        FUZZ_CHECK(want.act ? act == want.act : act == -1, "step %zu: state %d + event %d: %d", i,
                   st, ev, act);
        if (!want.act)
            FUZZ_CHECK(r.cs == before_cs, "refused event changed cs");
        else
            st = want.next;
        FUZZ_CHECK((int)r.state == st, "step %zu: state %d, want %d", i, r.state, st);
    }
    return 0;
}
