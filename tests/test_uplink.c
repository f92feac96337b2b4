/* The camera's connect-role machine (spec/uplink.rl): every state x event
 * pair against the table below. */
#include <stdio.h>

#include "uplink.h"
#include "check.h"

/* want[state][event] = {action, next state}; action -1 = refused. */
static const struct {
    int act, next;
} want[UPLINK__COUNT][UE__COUNT] = {
    [UPLINK_READY] = {[UE_DUE] = {UA_POLL, UPLINK_POLLING}},
    [UPLINK_POLLING] =
        {
            [UE_WOKEN] = {UA_UPLOAD, UPLINK_READY},
            [UE_EMPTY] = {UA_REPOLL, UPLINK_READY},
            [UE_TIMEOUT] = {UA_REPOLL, UPLINK_READY},
            [UE_REFUSED] = {UA_BACK_OFF, UPLINK_WAITING},
            [UE_FAILED] = {UA_BACK_OFF, UPLINK_WAITING},
        },
    [UPLINK_WAITING] = {[UE_DUE] = {UA_POLL, UPLINK_POLLING}},
};

/* Events that lead from READY to each state. */
static void reach(uplink_t *l, int st)
{
    uplink_init(l);
    if (st >= UPLINK_POLLING)
        uplink_feed(l, UE_DUE);
    if (st == UPLINK_WAITING)
        uplink_feed(l, UE_FAILED);
}

int main(void)
{
    for (int st = 0; st < UPLINK__COUNT; st++) {
        for (int ev = 0; ev <= UE__COUNT + 1; ev++) {
            uplink_t l;
            reach(&l, st);
            CHECK((int)l.state == st, "reach state %d", st);
            int act = uplink_feed(&l, ev);
            int legal = ev > 0 && ev < UE__COUNT && want[st][ev].act != 0;
            int wact = legal ? want[st][ev].act : -1;
            int wnext = legal ? want[st][ev].next : st;
            CHECK(act == wact, "state %d event %d: action %d, want %d", st, ev, act, wact);
            CHECK((int)l.state == wnext, "state %d event %d: next %d, want %d", st, ev, l.state,
                  wnext);
        }
    }
    return check_report();
}
