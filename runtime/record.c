/* Records and the /logs selection (since, then limit). */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

record_t *record_new(const char *desc, size_t desc_len, const char *ts, size_t ts_len,
                     const rfc3339_t *when)
{
    record_t *r = xmalloc(sizeof(*r) + desc_len + 1 + ts_len + 1);
    r->description = (char *)(r + 1);
    memcpy(r->description, desc, desc_len);
    r->description[desc_len] = '\0';
    memcpy(r->description + desc_len + 1, ts, ts_len);
    r->description[desc_len + 1 + ts_len] = '\0';
    r->description_len = (uint32_t)desc_len;
    r->timestamp_len = (uint32_t)ts_len;
    r->when = *when;
    r->seq = 0;
    r->refs = 1;
    r->json_len = 0;
    return r;
}

record_t *record_ref(record_t *r)
{
    r->refs++;
    return r;
}

void record_unref(record_t *r)
{
    if (r != NULL && --r->refs == 0)
        free(r);
}

bool record_after(const record_t *r, const record_filter_t *f)
{
    if (!f->has_since)
        return true;
    return rfc3339_cmp(record_ts(r), &r->when, f->since_str, &f->since) > 0;
}

/* Index from which the last `limit` matching records start: walk backwards
 * so that no second pass over the whole array nor any allocation is needed. */
size_t record_select_first(record_t *const *recs, size_t n, const record_filter_t *f)
{
    if (f->limit == 0)
        return 0;
    if (!f->has_since)
        return n > f->limit ? n - f->limit : 0;
    size_t i = n, found = 0;
    while (i > 0 && found < f->limit) {
        i--;
        found += record_after(recs[i], f);
    }
    return i;
}

size_t record_select(record_t *const *recs, size_t n, const record_filter_t *f,
                     void (*each)(void *ctx, const record_t *r), void *ctx)
{
    size_t count = 0;
    for (size_t i = record_select_first(recs, n, f); i < n; i++) {
        if (!record_after(recs[i], f))
            continue;
        each(ctx, recs[i]);
        count++;
    }
    return count;
}
