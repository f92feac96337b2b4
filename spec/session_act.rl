/* Host code for spec/session.rl: one event per call. */
#include <stddef.h>

#include "session.h"

%%{
machine session;

action hold         { act = ACT_HOLD; }
action supersede    { act = ACT_SUPERSEDE; }
action deliver_new  { act = ACT_DELIVER_NEW; }
action deliver_held { act = ACT_DELIVER_HELD; }
action resend       { act = ACT_RESEND; }
action resend_held  { act = ACT_RESEND_HELD; }
action refuse       { act = ACT_REFUSE; }
action release      { act = ACT_RELEASE; }
action forget       { act = ACT_FORGET; }
action forget_wait  { act = ACT_FORGET_WAIT; }
action wait_camera  { act = ACT_WAIT_CAMERA; }
action complete     { act = ACT_COMPLETE; }
action fail         { act = ACT_FAIL; }
action unavailable  { act = ACT_UNAVAILABLE; }
action drop         { act = ACT_DROP; }
action await        { act = ACT_AWAIT; }
action rearm        { act = ACT_REARM; }
action refuse_wait  { act = ACT_REFUSE_WAIT; }
action reject       { act = -1; }

action in_idle              { st = SESSION_IDLE; }
action in_polling           { st = SESSION_POLLING; }
action in_pending           { st = SESSION_PENDING; }
action in_delivered         { st = SESSION_DELIVERED; }
action in_delivered_polling { st = SESSION_DELIVERED_POLLING; }
action in_gone              { st = SESSION_GONE; }

include "session.rl";
}%%

%% write data noerror nofinal noentry;

void session_init(session_t *s)
{
    int cs;
    %% write init;
    s->cs = cs;
    s->state = SESSION_IDLE;
}

int session_feed(session_t *s, int ev)
{
    const int *p = &ev, *pe = p + 1, *eof = NULL; /* never at end: events keep coming */
    int cs = s->cs, act = -1, st = s->state;
    %% write exec;
    if (act > 0) { /* a refused event leaves the state as it was */
        s->cs = cs;
        s->state = st;
    }
    return act;
}
