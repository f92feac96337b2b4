/* The camera's connect-role machine (runtime/uplink.h, spec/uplink.rl)
 * against a reference table written here from PROTOCOL.md (camera side):
 * every input byte is one event (including values outside the alphabet);
 * after every event the action, the accept/reject and the state must match,
 * and a refused event must leave the state as it was. */
#include <limits.h>

#include "common.h"
#include "uplink.h"

typedef struct ref_step {
    int act; /* 0: the event is illegal in this state */
    int next;
} ref_step_t;

static const ref_step_t ref[UPLINK__COUNT][UE__COUNT] = {
    [UPLINK_READY] = {[UE_DUE] = {UA_POLL, UPLINK_POLLING}},
    [UPLINK_POLLING] =
        {
            [UE_WOKEN] = {UA_UPLOAD, UPLINK_READY},       /* upload, poll again at once */
            [UE_EMPTY] = {UA_REPOLL, UPLINK_READY},       /* 204 */
            [UE_TIMEOUT] = {UA_REPOLL, UPLINK_READY},     /* our client timeout */
            [UE_REFUSED] = {UA_BACK_OFF, UPLINK_WAITING}, /* 409: back off first */
            [UE_FAILED] = {UA_BACK_OFF, UPLINK_WAITING},
        },
    [UPLINK_WAITING] = {[UE_DUE] = {UA_POLL, UPLINK_POLLING}},
};

static int event_of(uint8_t b)
{
    static const int odd[9] = {0, UE__COUNT, -1, 256 + UE_DUE, INT_MIN, INT_MAX, 0x10001, 8, 9};
    b %= 16;
    return b > 0 && b < UE__COUNT ? b : odd[b < UE__COUNT ? 0 : b - UE__COUNT];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uplink_t l;
    int st = UPLINK_READY;

    uplink_init(&l);
    FUZZ_CHECK(l.state == UPLINK_READY, "initial state %d", l.state);
    for (size_t i = 0; i < size; i++) {
        int ev = event_of(data[i]), before_cs = l.cs;
        ref_step_t want = ev > 0 && ev < UE__COUNT ? ref[st][ev] : (ref_step_t){0, st};
        int act = uplink_feed(&l, ev);
        FUZZ_CHECK(want.act ? act == want.act : act == -1, "step %zu: state %d + event %d: %d", i,
                   st, ev, act);
        if (!want.act)
            FUZZ_CHECK(l.cs == before_cs, "refused event changed cs");
        else
            st = want.next;
        FUZZ_CHECK((int)l.state == st, "step %zu: state %d, want %d", i, l.state, st);
    }
    return 0;
}
