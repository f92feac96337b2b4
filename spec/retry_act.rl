/* Host code for spec/retry.rl: one event per call. */
#include <stddef.h>

#include "retry.h"

%%{
machine retry;

action send       { act = RTA_SEND; }
action done       { act = RTA_DONE; }
action drop       { act = RTA_DROP; }
action back_off   { act = RTA_BACK_OFF; }
action ignore     { act = RTA_IGNORE; }
action last       { act = RTA_LAST; }
action give_up    { act = RTA_GIVE_UP; }
action reject     { act = -1; }

action in_sending { st = RETRY_SENDING; }
action in_waiting { st = RETRY_WAITING; }
action in_last    { st = RETRY_LAST; }
action in_over    { st = RETRY_OVER; }

include "retry.rl";
}%%

%% write data noerror nofinal noentry;

void retry_init(retry_t *r)
{
    int cs;
    %% write init;
    r->cs = cs;
    r->state = RETRY_NEW;
}

int retry_feed(retry_t *r, int ev)
{
    const int *p = &ev, *pe = p + 1, *eof = NULL; /* the end of an upload is a state, not EOF */
    int cs = r->cs, act = -1, st = r->state;
    %% write exec;
    if (act > 0) { /* a refused event leaves the state as it was */
        r->cs = cs;
        r->state = st;
    }
    return act;
}
