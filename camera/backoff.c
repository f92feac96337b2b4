/* How long the camera waits before it asks again: the jittered exponential
 * back-off after a failure (polls and upload retries alike) and the floor
 * between two requests that came back at once. */
#include "camera.h"

#include <stdlib.h>

/* Between two polls, whatever the server answers: an api (or a proxy, or a
 * misconfigured --poll-timeout) that answers every poll at once with 204 or
 * an empty 200 would otherwise drive the camera at tens of thousands of
 * requests a second. Jittered too, so cameras woken together spread out. */
#define FLOOR_MIN_MS 200
#define FLOOR_MAX_MS 250

/* A delay drawn uniformly from [lo, hi]. */
static uint64_t draw(uint64_t lo, uint64_t hi)
{
    return lo + (uint64_t)random() % (hi - lo + 1);
}

uint64_t backoff_next(uint64_t *base, uint64_t min_ms, uint64_t max_ms)
{
    *base = *base ? *base * 2 : min_ms;
    if (*base > max_ms)
        *base = max_ms;
    return draw(*base / 2, *base);
}

uint64_t backoff_floor(uint64_t started_ms, uint64_t now)
{
    uint64_t earliest = started_ms + draw(FLOOR_MIN_MS, FLOOR_MAX_MS);
    return earliest > now ? earliest : now;
}

/* A 200 that started an upload answers an operator: when the api needs the
 * camera again soon after (the follow fetch a first follower's priming
 * fetch starts as its upload ends, PROTOCOL.md "GET /logs?follow=1"), a
 * poll 200-250 ms later costs it that long. So the poll after such a 200
 * goes at once, taking the next slot of the floor early, unless the poll
 * that got the 200 took one early itself: the poll after that waits for the
 * slot after. A server answering every poll at once with a new wake-up
 * gets the floor's rate on average, two polls in a row at most. Only a
 * wake-up with a request_id counts (an old-style server's empty 200s keep
 * the plain floor). */
uint64_t backoff_after_wake(uint64_t started_ms, uint64_t slot_ms, bool started, uint64_t now,
                            uint64_t *next_slot)
{
    uint64_t at = backoff_floor(slot_ms, now);
    *next_slot = 0;
    if (!started || slot_ms > started_ms || at <= now)
        return at;
    *next_slot = at;
    return now;
}
