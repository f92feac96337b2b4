/* The camera's bounded event store: a circular array of owned records. */
#include <stdlib.h>

#include "buf.h"
#include "ring.h"

struct ring {
    size_t cap, head, count; /* head: index of the oldest record */
    record_t **slot;
};

ring_t *ring_create(size_t cap)
{
    ring_t *r = xcalloc(1, sizeof *r);

    r->cap = cap ? cap : 1;
    r->slot = xcalloc(r->cap, sizeof *r->slot);
    return r;
}

void ring_destroy(ring_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->count; i++)
        free(r->slot[(r->head + i) % r->cap]);
    free(r->slot);
    free(r);
}

void ring_push(ring_t *r, record_t *rec)
{
    if (r->count == r->cap) {
        /* Full: the newest overwrites the oldest, which is dropped. */
        free(r->slot[r->head]);
        r->slot[r->head] = rec;
        r->head = (r->head + 1) % r->cap;
        return;
    }
    r->slot[(r->head + r->count) % r->cap] = rec;
    r->count++;
}

size_t ring_count(const ring_t *r)
{
    return r->count;
}

const record_t *ring_get(const ring_t *r, size_t i)
{
    return i < r->count ? r->slot[(r->head + i) % r->cap] : NULL;
}
