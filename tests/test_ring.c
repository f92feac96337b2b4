/* The bounded event store: order, capacity, dropping the oldest. */
#include <stdio.h>
#include <string.h>

#include "ring.h"
#include "check.h"

static record_t *rec(int i)
{
    char d[32];
    rfc3339_t when = {.sec = i};
    int n = snprintf(d, sizeof d, "event %d", i);
    return record_new(d, (size_t)n, "1970-01-01T00:00:00Z", 20, &when);
}

/* True when the ring holds events first..first+n-1, oldest first. */
static int holds(const ring_t *r, int first, size_t n)
{
    if (ring_count(r) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char d[32];
        snprintf(d, sizeof d, "event %d", first + (int)i);
        if (strcmp(ring_get(r, i)->description, d) != 0 ||
            ring_get(r, i)->when.sec != first + (int)i)
            return 0;
    }
    return 1;
}

int main(void)
{
    ring_t *r = ring_create(3);
    CHECK(ring_count(r) == 0 && ring_get(r, 0) == NULL);
    ring_push(r, rec(0));
    CHECK(holds(r, 0, 1));
    ring_push(r, rec(1));
    ring_push(r, rec(2));
    /* Reading takes nothing away: read every record, then they are all still there. */
    for (size_t i = 0; i < ring_count(r); i++)
        CHECK(ring_get(r, i) != NULL && ring_get(r, i)->description != NULL);
    CHECK(holds(r, 0, 3));
    ring_push(r, rec(3));
    CHECK(holds(r, 1, 3) && ring_get(r, 3) == NULL);
    for (int i = 4; i < 100; i++)
        ring_push(r, rec(i));
    CHECK(holds(r, 97, 3));
    ring_destroy(r);

    r = ring_create(1);
    ring_push(r, rec(5));
    ring_push(r, rec(6));
    CHECK(holds(r, 6, 1));
    ring_destroy(r);

    /* Destroying a partly filled ring frees what it holds (ASan checks leaks). */
    r = ring_create(1000);
    for (int i = 0; i < 10; i++)
        ring_push(r, rec(i));
    CHECK(holds(r, 0, 10));
    ring_destroy(r);
    ring_destroy(NULL);

    return check_report();
}
