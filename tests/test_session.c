/* The handshake machine (runtime/session.h): every state x event pair,
 * checked against the table below, written from PROTOCOL.md and the
 * comments of session.h. Each state is reached by a known event sequence;
 * then every event (and values outside the alphabet) is fed to a fresh
 * copy: a legal one must give the table's action and next state, any other
 * must return -1 and leave the state as it was. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "session.h"
#include "check.h"

/* The legal transitions; every pair not listed is refused. */
static const struct {
    enum session_state from;
    int ev, act;
    enum session_state to;
} legal[] = {
    {SESSION_IDLE, EV_POLL, ACT_HOLD, SESSION_POLLING},
    {SESSION_IDLE, EV_LOGS, ACT_WAIT_CAMERA, SESSION_PENDING},

    {SESSION_POLLING, EV_POLL, ACT_SUPERSEDE, SESSION_POLLING},
    {SESSION_POLLING, EV_POLL_TIMEOUT, ACT_RELEASE, SESSION_IDLE},
    {SESSION_POLLING, EV_POLL_GONE, ACT_FORGET, SESSION_IDLE},
    {SESSION_POLLING, EV_REVOKE, ACT_REFUSE, SESSION_IDLE},
    {SESSION_POLLING, EV_LOGS, ACT_DELIVER_HELD, SESSION_DELIVERED},

    {SESSION_PENDING, EV_POLL, ACT_DELIVER_NEW, SESSION_DELIVERED},
    {SESSION_PENDING, EV_STATS, ACT_COMPLETE, SESSION_IDLE},
    {SESSION_PENDING, EV_STATS_BAD, ACT_FAIL, SESSION_IDLE},
    {SESSION_PENDING, EV_GRACE, ACT_UNAVAILABLE, SESSION_IDLE},
    {SESSION_PENDING, EV_ABANDON, ACT_DROP, SESSION_IDLE},
    {SESSION_PENDING, EV_UPLOAD_GONE, ACT_AWAIT, SESSION_PENDING},

    {SESSION_DELIVERED, EV_POLL, ACT_HOLD, SESSION_DELIVERED_POLLING},
    {SESSION_DELIVERED, EV_POLL_RESEND, ACT_RESEND, SESSION_DELIVERED},
    {SESSION_DELIVERED, EV_STATS, ACT_COMPLETE, SESSION_IDLE},
    {SESSION_DELIVERED, EV_STATS_BAD, ACT_FAIL, SESSION_IDLE},
    {SESSION_DELIVERED, EV_ABANDON, ACT_DROP, SESSION_IDLE},
    {SESSION_DELIVERED, EV_UPLOAD_GONE, ACT_AWAIT, SESSION_GONE},
    {SESSION_DELIVERED, EV_REVOKE, ACT_AWAIT, SESSION_GONE},

    {SESSION_DELIVERED_POLLING, EV_POLL, ACT_SUPERSEDE, SESSION_DELIVERED_POLLING},
    {SESSION_DELIVERED_POLLING, EV_POLL_RESEND, ACT_RESEND, SESSION_DELIVERED},
    {SESSION_DELIVERED_POLLING, EV_POLL_TIMEOUT, ACT_RELEASE, SESSION_DELIVERED},
    {SESSION_DELIVERED_POLLING, EV_POLL_GONE, ACT_FORGET_WAIT, SESSION_GONE},
    {SESSION_DELIVERED_POLLING, EV_GRACE, ACT_RESEND_HELD, SESSION_DELIVERED},
    {SESSION_DELIVERED_POLLING, EV_REVOKE, ACT_REFUSE_WAIT, SESSION_GONE},
    {SESSION_DELIVERED_POLLING, EV_UPLOAD_GONE, ACT_REARM, SESSION_DELIVERED_POLLING},
    {SESSION_DELIVERED_POLLING, EV_STATS, ACT_COMPLETE, SESSION_POLLING},
    {SESSION_DELIVERED_POLLING, EV_STATS_BAD, ACT_FAIL, SESSION_POLLING},
    {SESSION_DELIVERED_POLLING, EV_ABANDON, ACT_DROP, SESSION_POLLING},

    {SESSION_GONE, EV_POLL, ACT_RESEND, SESSION_DELIVERED},
    {SESSION_GONE, EV_POLL_RESEND, ACT_RESEND, SESSION_DELIVERED},
    {SESSION_GONE, EV_STATS, ACT_COMPLETE, SESSION_IDLE},
    {SESSION_GONE, EV_STATS_BAD, ACT_FAIL, SESSION_IDLE},
    {SESSION_GONE, EV_GRACE, ACT_FAIL, SESSION_IDLE},
    {SESSION_GONE, EV_ABANDON, ACT_DROP, SESSION_IDLE},
    {SESSION_GONE, EV_UPLOAD_GONE, ACT_AWAIT, SESSION_GONE},
    {SESSION_GONE, EV_REVOKE, ACT_AWAIT, SESSION_GONE},
};
#define NLEGAL (sizeof legal / sizeof legal[0])

/* How to reach each state from idle (0-terminated). */
static const int path[SESSION__COUNT][5] = {
    [SESSION_IDLE] = {0},
    [SESSION_POLLING] = {EV_POLL, 0},
    [SESSION_PENDING] = {EV_LOGS, 0},
    [SESSION_DELIVERED] = {EV_POLL, EV_LOGS, 0},
    [SESSION_DELIVERED_POLLING] = {EV_POLL, EV_LOGS, EV_POLL, 0},
    [SESSION_GONE] = {EV_POLL, EV_LOGS, EV_POLL, EV_POLL_GONE, 0},
};

static int reach(session_t *s, enum session_state st)
{
    session_init(s);
    for (int i = 0; path[st][i]; i++) {
        if (session_feed(s, path[st][i]) < 0)
            return -1;
    }
    return s->state == st ? 0 : -1;
}

/* The first legal transition out of `st` (every state has one). */
static size_t first_legal(enum session_state st)
{
    size_t i = 0;
    while (i < NLEGAL && legal[i].from != st)
        i++;
    return i;
}

static void check_pair(enum session_state st, int ev)
{
    session_t s;
    int act = 0, to = -1;

    for (size_t i = 0; i < NLEGAL; i++) {
        if (legal[i].from == st && legal[i].ev == ev)
            act = legal[i].act, to = (int)legal[i].to;
    }
    CHECK(reach(&s, st) == 0, "cannot reach %s", session_state_name(st));
    session_t before = s;
    int got = session_feed(&s, ev);
    if (act) {
        CHECK(got == act && (int)s.state == to, "%s + %s: action %d state %s, want %d %s",
              session_state_name(st), session_event_name(ev), got, session_state_name(s.state), act,
              session_state_name(to));
    } else {
        CHECK(got == -1 && s.state == before.state && s.cs == before.cs,
              "%s + %s (%d): action %d state %s, want refused", session_state_name(st),
              session_event_name(ev), ev, got, session_state_name(s.state));
        /* A refused event must not wedge the machine: a legal event fed
         * right after it (no re-init) still gives the table's action. */
        size_t i = first_legal(st);
        if (i == NLEGAL) {
            CHECK(0, "%s has no legal event", session_state_name(st));
            return;
        }
        got = session_feed(&s, legal[i].ev);
        CHECK(got == legal[i].act && s.state == legal[i].to, "%s + %s after refusing %d: %d %s",
              session_state_name(st), session_event_name(legal[i].ev), ev, got,
              session_state_name(s.state));
    }
}

int main(void)
{
    static const int outside[] = {0, EV__COUNT, -1, 256 + EV_POLL, INT_MIN, INT_MAX};

    for (int st = 0; st < SESSION__COUNT; st++) {
        for (int ev = 1; ev < EV__COUNT; ev++)
            check_pair((enum session_state)st, ev);
        for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
            check_pair((enum session_state)st, outside[i]);
        CHECK(strcmp(session_state_name((enum session_state)st), "?") != 0, "state name %d", st);
    }
    for (int ev = 1; ev < EV__COUNT; ev++)
        CHECK(strcmp(session_event_name(ev), "?") != 0, "event name %d", ev);
    CHECK(strcmp(session_event_name(0), "?") == 0 && strcmp(session_event_name(99), "?") == 0,
          "names of non-events");
    return check_report();
}
