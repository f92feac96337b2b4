/* The camera's upload-retry machine (spec/retry.rl): every state x event
 * pair against the table below. */
#include <stdio.h>

#include "check.h"
#include "retry.h"

/* want[state][event] = {action, next state}; action 0 = refused. */
static const struct {
    int act, next;
} want[RETRY__COUNT][RTE__COUNT] = {
    [RETRY_NEW] = {[RTE_START] = {RTA_SEND, RETRY_SENDING}},
    [RETRY_SENDING] =
        {
            [RTE_ANSWERED] = {RTA_DONE, RETRY_OVER},
            [RTE_REFUSED] = {RTA_DROP, RETRY_OVER},
            [RTE_FAILED] = {RTA_BACK_OFF, RETRY_WAITING},
            [RTE_AGAIN] = {RTA_IGNORE, RETRY_SENDING},
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
            [RTE_FAILED] = {RTA_GIVE_UP, RETRY_OVER},
            [RTE_AGAIN] = {RTA_IGNORE, RETRY_LAST},
            [RTE_EXPIRED] = {RTA_IGNORE, RETRY_LAST},
        },
    [RETRY_OVER] = {{0}}, /* final: refuses everything */
};

/* Events that lead from NEW to each state. */
static void reach(retry_t *r, int st)
{
    static const int path[RETRY__COUNT][2] = {
        [RETRY_NEW] = {0, 0},
        [RETRY_SENDING] = {RTE_START, 0},
        [RETRY_WAITING] = {RTE_START, RTE_FAILED},
        [RETRY_LAST] = {RTE_START, RTE_EXPIRED},
        [RETRY_OVER] = {RTE_START, RTE_ANSWERED},
    };
    retry_init(r);
    for (int i = 0; i < 2 && path[st][i]; i++)
        retry_feed(r, path[st][i]);
}

/* The walk a real upload takes through a reset, a 503 and an answer. */
static void test_walk(void)
{
    static const int evs[] = {RTE_START,  RTE_FAILED, RTE_AGAIN,   RTE_DUE,
                              RTE_FAILED, RTE_DUE,    RTE_ANSWERED};
    static const int acts[] = {RTA_SEND,     RTA_BACK_OFF, RTA_IGNORE, RTA_SEND,
                               RTA_BACK_OFF, RTA_SEND,     RTA_DONE};
    retry_t r;
    retry_init(&r);
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        CHECK(retry_feed(&r, evs[i]) == acts[i], "walk step %zu", i);
    CHECK(r.state == RETRY_OVER, "walk ends over");
}

int main(void)
{
    for (int st = 0; st < RETRY__COUNT; st++) {
        for (int ev = -1; ev <= RTE__COUNT + 1; ev++) {
            retry_t r;
            reach(&r, st);
            CHECK((int)r.state == st, "reach state %d", st);
            int act = retry_feed(&r, ev);
            int legal = ev > 0 && ev < RTE__COUNT && want[st][ev].act != 0;
            int wact = legal ? want[st][ev].act : -1;
            int wnext = legal ? want[st][ev].next : st;
            CHECK(act == wact, "state %d event %d: action %d, want %d", st, ev, act, wact);
            CHECK((int)r.state == wnext, "state %d event %d: next %d, want %d", st, ev, r.state,
                  wnext);
        }
    }
    test_walk();
    return check_report();
}
