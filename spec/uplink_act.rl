/* Host code for spec/uplink.rl: one event per call. */
#include <stddef.h>

#include "uplink.h"

%%{
machine uplink;

action poll       { act = UA_POLL; }
action upload     { act = UA_UPLOAD; }
action repoll     { act = UA_REPOLL; }
action back_off   { act = UA_BACK_OFF; }
action reject     { act = -1; }

action in_ready   { st = UPLINK_READY; }
action in_polling { st = UPLINK_POLLING; }
action in_waiting { st = UPLINK_WAITING; }

include "uplink.rl";
}%%

%% write data noerror nofinal noentry;

void uplink_init(uplink_t *l)
{
    int cs;
    %% write init;
    l->cs = cs;
    l->state = UPLINK_READY;
}

int uplink_feed(uplink_t *l, int ev)
{
    const int *p = &ev, *pe = p + 1, *eof = NULL; /* never at end: polls keep coming */
    int cs = l->cs, act = -1, st = l->state;
    %% write exec;
    if (act > 0) { /* a refused event leaves the state as it was */
        l->cs = cs;
        l->state = st;
    }
    return act;
}
