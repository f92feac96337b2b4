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
