/* GET /cameras?follow=1 (docs/API.md): the cameras' connectivity as
 * Server-Sent Events, for alerting hooks and the operator page. First one
 * `cameras` event whose data is what /cameras would answer (the snapshot,
 * `?connected=` and `?prefix=` applied), then a `connected` or `gone` event
 * per arrival or departure (data: the camera's /cameras entry; `?prefix=`
 * applies, `?connected=` shaped only the snapshot: these events are the
 * moves into and out of that set), and a comment every 15 s. The api's
 * shutdown ends every stream with `event: end`.
 *
 * Few clients are expected (operators' pages, an alerting hook), so each is
 * an h2o request with a generator: h2o sends one piece at a time, and what
 * comes meanwhile waits in the stream's own buffer until h2o proceeds. A
 * stream that does not take what it is sent is cut at STREAM_MAX bytes
 * waiting. A client that left is noticed at the next write (at most one
 * keep-alive period later) or when h2o disposes of the request. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "front.h"
#include "jsonw.h"
#include "log.h"
#include "relay/relay.h"
#include "sse.h"
#include "tmr.h"

#define KEEPALIVE_MS 15000
#define RETRY_MS 2000
#define STREAM_MAX (4u << 20)

typedef struct camstream {
    h2o_generator_t gen; /* first */
    h2o_req_t *req;      /* NULL once ended or gone */
    h2o_linklist_t link;
    buf_t wait, out; /* wait: not yet handed to h2o; out: with h2o until it proceeds */
    bool sending, ending;
    char prefix[ID_MAX + 1];
} camstream_t;

static h2o_linklist_t streams = {&streams, &streams};
static tmr_t keepalive;
static bool watching;

static void flush(camstream_t *s)
{
    if (s->req == NULL || s->sending || (s->wait.len == 0 && !s->ending))
        return;
    buf_t t = s->out;
    s->out = s->wait;
    s->wait = t;
    buf_reset(&s->wait);
    h2o_iovec_t v = h2o_iovec_init(s->out.data, s->out.len);
    h2o_req_t *req = s->req;
    s->sending = true;
    if (s->ending) {
        s->req = NULL; /* the final send: h2o forgets the generator */
        h2o_linklist_unlink(&s->link);
    }
    h2o_send(req, &v, 1, s->ending ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    (void)req;
    camstream_t *s = (camstream_t *)g;
    s->sending = false;
    buf_reset(&s->out);
    flush(s);
}

/* The client left (h2o disposes of the request before the stream ended). */
static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    (void)req;
    camstream_t *s = (camstream_t *)g;
    if (s->req != NULL)
        h2o_linklist_unlink(&s->link);
    s->req = NULL;
}

/* The request's pool is freed: the buffers go with it. */
static void on_dispose(void *p)
{
    camstream_t *s = p;
    if (h2o_linklist_is_linked(&s->link))
        h2o_linklist_unlink(&s->link);
    buf_free(&s->wait);
    buf_free(&s->out);
}

/* Queues what `b` holds for `s`; a stream that lets more than STREAM_MAX
 * wait is ended (its client reconnects and gets a new snapshot). */
static void put(camstream_t *s, const buf_t *b)
{
    if (s->req == NULL || s->ending)
        return;
    if (s->wait.len + b->len > STREAM_MAX) {
        log_msg(LOGL_WARN, "/cameras?follow=1: a client took nothing of %zu bytes: cut",
                s->wait.len);
        buf_reset(&s->wait);
        s->ending = true;
    } else {
        buf_append(&s->wait, b->data, b->len);
    }
    flush(s);
}

static void on_change(const camera_t *cam, void *arg)
{
    (void)arg;
    buf_t b = BUF_INIT, entry = BUF_INIT;
    bool have = false;
    const char *id = cameras_name(cam);
    for (h2o_linklist_t *l = streams.next, *nx; l != &streams; l = nx) {
        nx = l->next;
        camstream_t *s = H2O_STRUCT_FROM_MEMBER(camstream_t, link, l);
        if (strncmp(id, s->prefix, strlen(s->prefix)) != 0)
            continue;
        if (!have) {
            cameras_entry_json(&entry, cam);
            sse_event(&b, cameras_is_connected(cam) ? "connected" : "gone", NULL, entry.data,
                      entry.len);
            have = true;
        }
        put(s, &b);
    }
    buf_free(&b);
    buf_free(&entry);
}

static void on_keepalive(tmr_t *t)
{
    buf_t b = BUF_INIT;
    sse_comment(&b, "keep-alive");
    for (h2o_linklist_t *l = streams.next, *nx; l != &streams; l = nx) {
        nx = l->next;
        put(H2O_STRUCT_FROM_MEMBER(camstream_t, link, l), &b);
    }
    buf_free(&b);
    if (!h2o_linklist_is_empty(&streams))
        tmr_arm(t, KEEPALIVE_MS);
}

int camstream_serve(h2o_req_t *req, const query_t *q)
{
    if (!watching) {
        cameras_watch(on_change, NULL);
        keepalive.cb = on_keepalive;
        watching = true;
    }
    camstream_t *s = h2o_mem_alloc_shared(&req->pool, sizeof(*s), on_dispose);
    memset(s, 0, sizeof(*s));
    s->gen.proceed = on_proceed;
    s->gen.stop = on_stop;
    s->req = req;
    snprintf(s->prefix, sizeof(s->prefix), "%s", q->prefix);
    respond_stream(req, &s->gen, "text/event-stream");
    if (h2o_linklist_is_empty(&streams))
        tmr_arm(&keepalive, KEEPALIVE_MS);
    h2o_linklist_insert(&streams, &s->link);
    buf_t b = BUF_INIT, list = BUF_INIT;
    cameras_filter_t f = {q->has_connected ? q->connected : -1, q->prefix};
    sse_retry(&b, RETRY_MS);
    cameras_json(&list, &f);
    sse_event(&b, "cameras", NULL, list.data, list.len);
    put(s, &b);
    buf_free(&b);
    buf_free(&list);
    return 0;
}

void camstream_shutdown(void)
{
    buf_t b = BUF_INIT;
    const char *end = "{\"reason\":\"the api is shutting down\"}";
    sse_event(&b, "end", NULL, end, strlen(end));
    for (h2o_linklist_t *l = streams.next, *nx; l != &streams; l = nx) {
        nx = l->next;
        camstream_t *s = H2O_STRUCT_FROM_MEMBER(camstream_t, link, l);
        put(s, &b);
        s->ending = true;
        flush(s);
    }
    buf_free(&b);
    tmr_cancel(&keepalive);
}
