/* One event record: what a camera reports and what /logs returns. */
#ifndef RECORD_H
#define RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rfc3339.h"

/** A record: decoded UTF-8 strings (valid, no NUL), each NUL-terminated,
 * stored in the same allocation as the struct. Immutable once made, so that
 * holders can share it: the api's uploads, cache and /logs replies in
 * progress each hold a reference. */
typedef struct record {
    uint32_t description_len, timestamp_len;
    rfc3339_t when;    /* parsed from timestamp */
    uint64_t seq;      /* its number (1.2: the camera's, the api's cache); 0 = none */
    char *description; /* the timestamp follows it: record_ts() */
    uint32_t refs;     /* holders (record_new: 1) */
    uint32_t json_len; /* its /logs JSON object's length, once computed (jsonw.c); 0 = not yet */
} record_t;

/** The record's timestamp string (stored after its description: the struct
 * stays 56 bytes, which the api's cache counts). */
static inline const char *record_ts(const record_t *r)
{
    return r->description + r->description_len + 1;
}

/** Copies both strings into one allocation (seq 0, one reference); free it
 * with free() when it was never shared, else with record_unref(). */
record_t *record_new(const char *desc, size_t desc_len, const char *ts, size_t ts_len,
                     const rfc3339_t *when);
/** One more holder. */
record_t *record_ref(record_t *r);
/** One holder fewer: freed by the last. */
void record_unref(record_t *r);

/** What a reader asked for: records strictly after `since` (if has_since),
 * then only the last `limit` of those (if limit > 0). */
typedef struct record_filter {
    uint32_t limit; /* 0 = no limit */
    bool has_since;
    rfc3339_t since;
    const char *since_str; /* the string `since` was parsed from; owned by the caller */
} record_filter_t;

/** True when `r` passes the filter's `since` (limit is positional, see below). */
bool record_after(const record_t *r, const record_filter_t *f);

/** The index in recs[0..n) from which the filter's selection starts (its
 * `limit`); from there on, the records that pass record_after are selected. */
size_t record_select_first(record_t *const *recs, size_t n, const record_filter_t *f);

/** Selects from recs[0..n) per the filter. Calls each(ctx, rec) in order for
 * every selected record and returns how many there were. */
size_t record_select(record_t *const *recs, size_t n, const record_filter_t *f,
                     void (*each)(void *ctx, const record_t *r), void *ctx);

#endif
