/* A /logs 200's body, produced as the client reads it (docs/API.md, "Slow
 * readers"). Nothing of the JSON is made ahead: a reply holds its view of
 * the records by reference and renders the next slice (about SLICE bytes)
 * when its transport asks, once the client took the one before. A reader
 * that does not read thus holds one slice and a small record, beyond the
 * records themselves, which stay alive while a reply shows them: a snapshot
 * (logs_snap_t) holds a reference on every record of a view (an upload's
 * records, or the cache's array as it was) and is shared by every reply
 * made from that view. Each record's JSON length is computed once
 * (jsonw_record_len), so a reply's length is known before its first slice
 * and it keeps its Content-Length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "jsonw.h"

/* About this many bytes per slice (a slice ends after the record that
 * passes it): the write of one slice is what the camera path's write
 * deadline judges (campath/oper.c writes 16 KiB pieces too). */
#define SLICE (16 * 1024)

/* Snapshots ---------------------------------------------------------------------- */

logs_snap_t *snap_new(record_t *const *recs, size_t n)
{
    logs_snap_t *s = xmalloc(sizeof(*s) + n * sizeof(s->recs[0]));
    s->refs = 1;
    s->n = n;
    for (size_t i = 0; i < n; i++)
        s->recs[i] = record_ref(recs[i]);
    return s;
}

logs_snap_t *snap_hold(logs_snap_t *s)
{
    s->refs++;
    return s;
}

void snap_put(logs_snap_t *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    for (size_t i = 0; i < s->n; i++)
        record_unref(s->recs[i]);
    free(s);
}

/* Bodies --------------------------------------------------------------------------- */

typedef struct body {
    reply_stream_t super; /* first: the transport holds this */
    logs_snap_t *snap;
    size_t i;               /* the next record of snap to look at */
    record_filter_t filter; /* its since_str: since */
    char since[SINCE_MAX + 1];
    bool opened, any, closed; /* '[' written, a record written, ']' written */
} body_t;

static void body_next(reply_stream_t *st, buf_t *out)
{
    body_t *b = (body_t *)st;
    size_t start = out->len;
    if (!b->opened) {
        buf_putc(out, '[');
        b->opened = true;
    }
    while (b->i < b->snap->n && out->len - start < SLICE) {
        const record_t *r = b->snap->recs[b->i++];
        if (!record_after(r, &b->filter))
            continue;
        if (b->any)
            buf_putc(out, ',');
        b->any = true;
        jsonw_record(out, r);
    }
    if (b->i == b->snap->n && !b->closed) {
        buf_putc(out, ']');
        b->closed = true;
    }
}

static void body_free(reply_stream_t *st)
{
    body_t *b = (body_t *)st;
    snap_put(b->snap);
    free(b);
}

reply_stream_t *body_new(logs_snap_t *snap, size_t from, const record_filter_t *f, size_t *len)
{
    body_t *b = xcalloc(1, sizeof(*b));
    b->super = (reply_stream_t){.next = body_next, .free = body_free};
    b->snap = snap_hold(snap);
    b->filter = *f;
    snprintf(b->since, sizeof(b->since), "%s", f->has_since ? f->since_str : "");
    b->filter.since_str = b->since;
    b->i = from + record_select_first(snap->recs + from, snap->n - from, f);
    size_t total = 2, count = 0; /* [ and ], a comma between records */
    for (size_t i = b->i; i < snap->n; i++) {
        if (record_after(snap->recs[i], f)) {
            total += jsonw_record_len(snap->recs[i]);
            count++;
        }
    }
    *len = total + (count > 0 ? count - 1 : 0);
    return &b->super;
}
