/* Timers (tmr.c): one timerfd under a min-heap of deadlines, on the
 * monotonic clock of runtime/clock.h. Any room may arm one. */
#ifndef API_TMR_H
#define API_TMR_H

#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

typedef struct tmr tmr_t;
struct tmr {
    uint64_t at; /* monotonic ms */
    size_t slot; /* heap index + 1; 0 = not armed */
    void (*cb)(tmr_t *t);
};

/** Creates the timerfd in `loop`. Returns 0, or -1 with one line in err. */
int tmr_setup(h2o_evloop_t *loop, char *err, size_t n);
/** (Re)arms `t` to fire `after_ms` from now; `t->cb` must be set. */
void tmr_arm(tmr_t *t, uint64_t after_ms);
void tmr_cancel(tmr_t *t);
/** At exit: closes the timerfd (pending timers are dropped). */
void tmr_close(void);

#endif
