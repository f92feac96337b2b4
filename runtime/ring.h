/* The camera's bounded event store: the newest `cap` records, oldest first.
 * A fetch reads; only pushing past capacity drops the oldest. */
#ifndef RING_H
#define RING_H

#include <stddef.h>

#include "record.h"

typedef struct ring ring_t;

/** Creates a ring for `cap` (>= 1) records; free with ring_destroy. */
ring_t *ring_create(size_t cap);
void ring_destroy(ring_t *r);

/** Takes ownership of `rec` (from record_new); drops (frees) the oldest when full. */
void ring_push(ring_t *r, record_t *rec);
size_t ring_count(const ring_t *r);
/** The i-th oldest record, 0 <= i < ring_count. Valid until it is dropped. */
const record_t *ring_get(const ring_t *r, size_t i);

#endif
