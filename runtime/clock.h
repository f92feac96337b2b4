/* One monotonic clock for both programs (clock.c): timers, deadlines and
 * latencies are measured on it, never on the wall clock. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

/** CLOCK_MONOTONIC in milliseconds. */
uint64_t clock_ms(void);
/** The same clock in microseconds (latencies). */
uint64_t clock_us(void);

#endif
