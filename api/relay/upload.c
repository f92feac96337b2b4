/* An upload: one /send-stats body fed to the EOL decoder (spec/eol.rl) as it
 * arrives, for the fetch that was pending when its head came. Only decoded
 * records are kept, never the raw body; the fetch's waiters learn of a
 * malformation or an overflow the moment it happens. A body that breaks off
 * counts as the camera vanishing (EV_UPLOAD_GONE): the fetch waits the
 * connect grace for a retried upload or a new poll.
 * Both transports use it: the camera path feeds each piece as it is read,
 * h2o (HTTP/2) the whole body at once. */
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "eol.h"
#include "jsonw.h"

struct upload {
    camera_t *cam;
    h2o_linklist_t link; /* in cam->ups */
    char id[ID_MAX + 1];
    char rid[ID_MAX + 1]; /* the fetch it answers */
    eol_decoder_t *dec;
    stats_t st;
    uint64_t bytes;
    int status;         /* 0 while receiving; then what the uploader is answered */
    const char *reason; /* of a 409 or 413 */
    size_t records;     /* in the stream so far */
    bool fresh;         /* a streamed record went into the cache in this feed */
    bool follow;        /* it answers a follow fetch */
};

/* A record: into the cache at once for a follow upload (st.streamed), else
 * kept for the fetch's replies. */
static void on_record(void *ctx, const eol_record_t *r)
{
    upload_t *up = ctx;
    stats_t *st = &up->st;
    record_t *rec =
        record_new(r->description, r->description_len, r->timestamp, r->timestamp_len, &r->when);
    rec->seq = r->seq;
    up->records++;
    if (st->streamed) {
        up->fresh |= cache_stream_add(up->cam, rec);
        return;
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->recs = xrealloc(st->recs, st->cap * sizeof(*st->recs));
    }
    st->recs[st->n++] = rec;
}

upload_t *upload_admit(const char *id, const query_t *q, bool has_length, uint64_t length,
                       verdict_t *v)
{
    bool full = false;
    camera_t *cam = cameras_get(id, false, &full);
    v->status = 0;
    bool pending = handshake_fetch_pending(cam, q);
    if (cam != NULL) {
        cameras_seen(cam);
        cameras_epoch(cam, q->has_epoch ? q->epoch : NULL);
    }
    if (has_length && length > api_conf.max_body) {
        if (pending)
            handshake_fetch_failed(cam, cam->fetch.rid, "the camera's stats were over --max-body");
        reply_refuse(v, 413, "body larger than --max-body", id);
    } else if (!pending) {
        reply_refuse(v, 409,
                     q->has_request_id ? "request_id is not a pending fetch of this camera"
                                       : "no pending fetch for this camera",
                     id);
    }
    if (v->status != 0 && cam != NULL)
        cameras_answered(cam); /* the refusal goes out now */
    if (v->status != 0)
        return NULL;
    upload_t *up = xcalloc(1, sizeof(*up));
    up->cam = cam;
    memcpy(up->id, cam->id, sizeof(up->id));
    memcpy(up->rid, cam->fetch.rid, sizeof(up->rid));
    up->dec = eol_decoder_new(on_record, up);
    if (q->has_epoch) { /* 1.2: a numbered upload */
        eol_decoder_number(up->dec, q->first);
        up->st.numbered = true;
        memcpy(up->st.epoch, q->epoch, sizeof(up->st.epoch));
        up->st.first = q->first;
        up->follow = cam->fetch.follow;
        if (up->follow) /* a follow upload: its records stream into the cache */
            up->st.streamed = cache_stream_begin(cam, &cam->fetch, &up->st);
    }
    h2o_linklist_insert(&cam->ups, &up->link);
    cameras_upload_begin(cam);
    return up;
}

/* The upload is decided: stats no longer come in through it. */
static void set_status(upload_t *up, int status, const char *reason)
{
    if (up->status == 0 && up->st.streamed)
        cache_stream_end(up->cam);
    if (up->status == 0)
        cameras_upload_done(up->cam);
    up->status = status;
    up->reason = reason;
}

static void fail(upload_t *up, int status, const char *reason, const char *why)
{
    set_status(up, status, reason);
    handshake_fetch_failed(up->cam, up->rid, why);
}

int upload_feed(upload_t *up, const char *data, size_t len)
{
    if (up->status != 0)
        return -1;
    up->bytes += len;
    metrics_stats_bytes(len);
    if (up->bytes > api_conf.max_body) {
        fail(up, 413, "body larger than --max-body", "the camera's stats were over --max-body");
        return -1;
    }
    int rc = eol_feed(up->dec, data, len);
    if (up->fresh) { /* followers get the records this piece ended */
        up->fresh = false;
        cache_bound(up->cam);
        follow_notify(up->cam);
    }
    if (rc != 0) {
        fail(up, 400, NULL, "the camera's stats were malformed");
        return -1;
    }
    return 0;
}

bool upload_follow(const upload_t *up)
{
    return up->follow;
}

void upload_finish(upload_t *up)
{
    if (up->status != 0)
        return;
    if (eol_finish(up->dec) != 0) {
        fail(up, 400, NULL, "the camera's stats were malformed");
        return;
    }
    if (handshake_fetch_stats(up->cam, up->rid, &up->st) != 0) {
        set_status(up, 409, "request_id is not a pending fetch of this camera");
        return;
    }
    set_status(up, 200, NULL);
    metrics_records(up->records);
}

void upload_reply(const upload_t *up, api_reply_t *r, buf_t *b)
{
    cameras_answered(up->cam);
    if (up->status == 200) {
        buf_printf(b, "{\"accepted\":%zu}", up->records);
    } else if (up->status == 400) {
        const eol_error_t *e = eol_error(up->dec);
        buf_puts(b, "{\"error\":");
        jsonw_string(b, e->reason, strlen(e->reason));
        buf_printf(b, ",\"line\":%llu,\"offset\":%llu}", (unsigned long long)e->line,
                   (unsigned long long)e->offset);
    } else {
        jsonw_error_about(b, up->reason, up->id);
    }
    *r = (api_reply_t){.status = up->status,
                       .ctype = "application/json",
                       .body = b->data,
                       .len = b->len,
                       .camera = up->id,
                       .why = up->status == 400 ? eol_error(up->dec)->reason : up->reason};
}

void upload_fail(upload_t *up, const char *why)
{
    if (up->status == 0)
        fail(up, 499, "the upload broke off", why);
}

/* The camera vanished as far as this upload goes: the fetch waits the grace. */
static void lose(upload_t *up, int status, const char *reason)
{
    set_status(up, status, reason);
    handshake_fetch_broke(up->cam, up->rid);
}

void upload_abort(upload_t *up)
{
    if (up->status == 0)
        lose(up, 499, "the upload broke off");
}

void upload_revoke_all(camera_t *cam)
{
    for (h2o_linklist_t *l = cam->ups.next; l != &cam->ups; l = l->next) {
        upload_t *up = H2O_STRUCT_FROM_MEMBER(upload_t, link, l);
        if (up->status == 0)
            lose(up, 401, "camera revoked");
    }
}

void upload_free(upload_t *up)
{
    if (up == NULL)
        return;
    upload_abort(up);
    h2o_linklist_unlink(&up->link);
    cameras_upload_end(up->cam);
    eol_decoder_free(up->dec);
    for (size_t i = 0; i < up->st.n; i++)
        record_unref(up->st.recs[i]); /* NULL: the cache took it */
    free(up->st.recs);
    free(up);
}
