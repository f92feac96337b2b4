/* Request role: answer a control message with POST /send-stats carrying the
 * retained events it asked for, as an EOL stream. Uploads run concurrently
 * with the next poll and with each other. Each upload is the machine of
 * spec/retry.rl: an attempt that fails on the network or with a 5xx is sent
 * again (the same body, the same request_id) after a jittered back-off,
 * until the api answers or refuses it, a newer wake-up supersedes it, or
 * RETRY_DEADLINE_MS have passed since its wake-up. A wake-up for a
 * request_id being answered is ignored. A fetch copies; it never removes
 * events, so a failed or refused (409) upload loses nothing: the next fetch
 * sends the same events again. A wake-up with "follow":S makes a follow
 * upload, whose body is a stream (stream.c) that stays open for S seconds. */
#include "camera.h"

#include <stdlib.h>
#include <string.h>

#include "eol.h"
#include "record.h"
#include "retry.h"
#include "store.h"
#include "upload_int.h"

/* The api cuts a request whose head+body takes longer than its
 * --request-timeout (default 30 s): give up before it does, and sooner when
 * nothing moves. */
#define UPLOAD_TIMEOUT_MS 25000L
#define UPLOAD_LOW_SPEED_S 10L
/* Retries: base 0.5 s doubling to 8 s (delays 0.25-0.5, 0.5-1, ... 4-8 s),
 * so that a reset or two cost an operator about a second. */
#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 8000
/* No fetch waits longer for its stats than the longest /logs timeout
 * (300 s): after that the request_id cannot be pending any more, and if it
 * somehow is, the api resends the wake-up, which starts a new upload. */
#define RETRY_DEADLINE_MS 300000
#define EXPIRED_NEWER "superseded by a newer wake-up"
#define EXPIRED_DEADLINE "no answer within 300 s of the wake-up"

/* Collects the selection in place: the k-th selected record is never behind
 * the one record_select is reading, so recs[k] is free to overwrite. */
typedef struct picked {
    record_t **recs;
    size_t k;
} picked_t;

static void pick(void *ctx, const record_t *r)
{
    picked_t *p = ctx;
    p->recs[p->k++] = (record_t *)r;
}

static size_t encoded_len(buf_t *scratch, const record_t *r)
{
    buf_reset(scratch);
    eol_encode_record_seq(scratch, r->description, r->description_len, record_ts(r),
                          r->timestamp_len, r->seq);
    return scratch->len;
}

/* How many of the newest recs[0..n) fit max_body together with their EOL
 * line. Measured newest first, so a cut always drops the oldest: what is sent
 * is a suffix of the selection, which keeps limit/since meaningful. */
static size_t fitting(record_t **recs, size_t n, uint64_t max_body, size_t *total)
{
    buf_t scratch = BUF_INIT;
    char end[32];
    size_t k = 0, sum = 0;

    for (; k < n; k++) {
        size_t len = encoded_len(&scratch, recs[n - 1 - k]);
        size_t end_len = (size_t)snprintf(end, sizeof(end), "EOL %zu\n", k + 1);
        if (sum + len + end_len > max_body)
            break;
        sum += len;
    }
    buf_free(&scratch);
    *total = sum;
    return k;
}

/* The first ring index the wake-up's after lets through: past the events
 * numbered up to it, when it names this camera's epoch (another epoch's
 * cursor means nothing: everything). Numbers increase along the ring. */
static size_t after_start(const camera_t *cam, const control_msg_t *m, size_t n)
{
    size_t lo = 0, hi = n;

    if (!m->has_after || strcmp(m->after_epoch, cam->epoch) != 0)
        return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_get(cam->ring, mid)->seq <= m->after_seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The body: the ring's records after the message's after, then selected by
 * its since and limit, as many of the newest as fit --max-body, copied into
 * one EOL stream now, each with its "seq". */
static void encode(camera_t *cam, const control_msg_t *m, struct upload *u)
{
    record_filter_t f = {0};
    size_t held = ring_count(cam->ring), from = after_start(cam, m, held), n = held - from, total;
    picked_t sel = {.recs = xmalloc((n ? n : 1) * sizeof(record_t *))};

    u->first = held ? ring_get(cam->ring, 0)->seq : source_next_seq(cam);
    for (size_t i = 0; i < n; i++)
        sel.recs[i] = (record_t *)ring_get(cam->ring, from + i); /* only read */
    if (m->has_limit)
        f.limit = m->limit;
    if (m->has_since) {
        f.has_since = true;
        f.since = m->since_t;
        f.since_str = m->since;
    }
    record_select(sel.recs, n, &f, pick, &sel);
    size_t keep = fitting(sel.recs, sel.k, cam->cfg.max_body, &total);
    buf_reserve(&u->body, total + 32);
    for (size_t i = sel.k - keep; i < sel.k; i++) {
        const record_t *r = sel.recs[i];
        eol_encode_record_seq(&u->body, r->description, r->description_len, record_ts(r),
                              r->timestamp_len, r->seq);
    }
    if (keep > 0 && cam->store) /* its numbers must never go to other events */
        store_vouch(cam->store, sel.recs[sel.k - 1]->seq, clock_ms());
    free(sel.recs);
    if (!m->has_follow) /* a follow upload's EOL line comes at its end */
        eol_encode_end(&u->body, keep);
    u->count = keep;
    u->selected = sel.k;
}

/* Keeps the start of the answer: a refusal's reason ({"error":...}); reads
 * no more of it (hints_keep). */
static size_t on_reply(char *data, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    return hints_keep(&u->super, &u->reply, data, size * n);
}

static const char *rid_of(const struct upload *u)
{
    return u->rid[0] ? u->rid : "(none)";
}

static void unlink_upload(camera_t *cam, struct upload *u)
{
    for (struct upload **pp = &cam->uploads; *pp; pp = &(*pp)->next) {
        if (*pp == u) {
            *pp = u->next;
            break;
        }
    }
    cam->nuploads--;
}

static void destroy(camera_t *cam, struct upload *u)
{
    if (u->active)
        loop_remove(cam, u->super.easy); /* aborts it */
    curl_easy_cleanup(u->super.easy);
    stream_free(u->live);
    buf_free(&u->body);
    buf_free(&u->reply);
    free(u);
}

/* An attempt: the same handle, body and request_id each time. */
static int send_attempt(camera_t *cam, struct upload *u)
{
    u->super.errbuf[0] = '\0';
    u->super.reply_cut = false;
    buf_reset(&u->reply);
    if (u->live) /* each attempt starts the stream over (stream.c) */
        stream_prepare(u->live, u->super.easy, clock_ms(), UPLOAD_TIMEOUT_MS);
    if (loop_add(cam, &u->super) != 0)
        return -1;
    u->active = true;
    u->attempts++;
    return 0;
}

/* The outcome of an attempt as an event of the retry machine. */
static int classify(CURLcode res, long status)
{
    if (res != CURLE_OK)
        return RTE_FAILED; /* reset, refused connection, timeout, TLS: may work next time */
    if (status >= 200 && status <= 299)
        return RTE_ANSWERED;
    if (status >= 500 || status == 408 || status == 429)
        return RTE_FAILED; /* the server's trouble, or "try again later" */
    return RTE_REFUSED;    /* 409, 400, 401, 413, ...: the same request would be refused again */
}

/* The line for an upload that is over, and the end of it. */
static void finish(camera_t *cam, struct upload *u, int act, const failure_t *f)
{
    const char *rid = rid_of(u);
    char how[96] = "dropped";

    if (act == RTA_GIVE_UP && u->expired) /* a failed last attempt: why it was the last */
        snprintf(how, sizeof(how), "given up (%s)", u->expired);
    else if (act == RTA_GIVE_UP)
        snprintf(how, sizeof(how), "given up");

    if (act == RTA_DONE && u->attempts > 1)
        log_msg(LOGL_INFO, "upload request_id=%s: 200, %llu records (attempt %u)", rid,
                (unsigned long long)u->count, u->attempts);
    else if (act == RTA_DONE)
        log_msg(LOGL_INFO, "upload request_id=%s: 200, %llu records", rid,
                (unsigned long long)u->count);
    else if (f)
        report_failure(&cam->upload_report, clock_ms(), f,
                       "upload request_id=%s: %s; %s, events kept (%u attempt%s)", rid, f->why, how,
                       u->attempts, u->attempts == 1 ? "" : "s");
    else /* expired while backing off */
        log_msg(LOGL_INFO, "upload request_id=%s: %s; given up, events kept (%u attempt%s)", rid,
                u->expired, u->attempts, u->attempts == 1 ? "" : "s");
    if (act == RTA_DONE)
        report_clear(&cam->upload_report);
    unlink_upload(cam, u);
    destroy(cam, u);
}

/* Feeds RTE_EXPIRED, saying why. */
static int expire(struct upload *u, const char *why)
{
    if (u->expired == NULL)
        u->expired = why;
    return retry_feed(&u->m, RTE_EXPIRED);
}

/* Performs what the retry machine answers; `f` says why for a failure (NULL
 * for the other events). */
static void act_on(camera_t *cam, struct upload *u, int act, const failure_t *f)
{
    uint64_t now = clock_ms(), delay;

    switch (act) {
    case RTA_SEND:
        if (send_attempt(cam, u) == 0)
            return;
        log_msg(LOGL_ERROR, "upload request_id=%s: could not start a transfer; dropped", rid_of(u));
        unlink_upload(cam, u);
        destroy(cam, u);
        return;
    case RTA_BACK_OFF:
        delay = backoff_next(&u->backoff_ms, RETRY_MIN_MS, RETRY_MAX_MS);
        u->due_ms = now + delay;
        report_failure(&cam->upload_report, now, f, "upload request_id=%s: %s; retry in %.2fs",
                       rid_of(u), f->why, (double)delay / 1000);
        return;
    case RTA_DONE:
    case RTA_DROP:
    case RTA_GIVE_UP:
        finish(cam, u, act, f);
        return;
    case RTA_LAST:
        if (u->live) /* the api has moved on: the stream ends now */
            stream_end(u->live, u->expired ? u->expired : "expired");
        return;
    case RTA_IGNORE:
        return;
    default: /* the callers feed only events legal where they stand */
        log_msg(LOGL_ERROR, "bug: upload machine refused an event (state %d)", u->m.state);
        abort();
    }
}

static void on_done(camera_t *cam, xfer_t *x, CURLcode res, long status)
{
    struct upload *u = (struct upload *)x; /* super is the first member */
    failure_t f;
    int ev;

    res = hints_result(x, res);
    ev = classify(res, status);
    u->active = false;
    if (u->live)
        u->count = stream_count(u->live);
    hints_describe(cam, x, res, status, &u->reply, &f);
    if (ev == RTE_FAILED && clock_ms() - u->woken_ms >= RETRY_DEADLINE_MS)
        act_on(cam, u, expire(u, EXPIRED_DEADLINE), &f); /* this attempt was the last */
    act_on(cam, u, retry_feed(&u->m, ev), &f);
}

static int prepare(camera_t *cam, struct upload *u)
{
    buf_t url = BUF_INIT;
    CURL *e = loop_easy(cam, &u->super);

    if (e == NULL)
        return -1;
    buf_printf(&url, "%s/send-stats?camera=%s&epoch=%s&first=%llu", cam->cfg.server, cam->cfg.id,
               cam->epoch, (unsigned long long)u->first);
    if (u->rid[0]) /* ids are [A-Za-z0-9._-]: nothing to escape */
        buf_printf(&url, "&request_id=%s", u->rid);
    curl_easy_setopt(e, CURLOPT_URL, url.data); /* curl copies it */
    buf_free(&url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    if (u->live == NULL) { /* else the stream is the body (send_attempt) */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u->body.len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, u->body.data);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, cam->upload_hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_reply);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, UPLOAD_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, UPLOAD_LOW_SPEED_S);
    return 0;
}

/* A wake-up: the upload answering its request_id goes on (true: nothing
 * to start); every other one is expired, as the api has moved on to a new
 * fetch (one fetch per camera at a time). Without a request_id (an
 * old-style server) every wake-up is a new fetch. */
static bool already_answering(camera_t *cam, const control_msg_t *m)
{
    bool found = false;

    for (struct upload *u = cam->uploads, *next; u; u = next) {
        next = u->next; /* act_on may free u */
        if (m->has_request_id && strcmp(u->rid, m->request_id) == 0) {
            retry_feed(&u->m, RTE_AGAIN);
            found = true;
        } else {
            act_on(cam, u, expire(u, EXPIRED_NEWER), NULL);
        }
    }
    if (found)
        log_msg(LOGL_DEBUG, "upload request_id=%s: woken again while answering it; ignored",
                m->request_id);
    return found;
}

/* Selects and encodes the body now (the ring may move on). */
static struct upload *create(camera_t *cam, const control_msg_t *m)
{
    struct upload *u = xcalloc(1, sizeof(*u));

    u->super.on_done = on_done;
    u->woken_ms = clock_ms();
    retry_init(&u->m);
    if (m->has_request_id)
        memcpy(u->rid, m->request_id, sizeof(u->rid));
    encode(cam, m, u);
    if (m->has_follow) {
        u->live = stream_new(cam, &u->body, u->count, source_next_seq(cam),
                             u->woken_ms + (uint64_t)m->follow * 1000);
        log_msg(LOGL_INFO, "follow upload request_id=%s: %llu records, then live for %u s",
                rid_of(u), (unsigned long long)u->count, (unsigned)m->follow);
    }
    if (u->count < u->selected)
        log_msg(LOGL_WARN,
                "upload request_id=%s: %llu of %llu selected records fit --max-body %llu; "
                "the oldest left out",
                rid_of(u), (unsigned long long)u->count, (unsigned long long)u->selected,
                (unsigned long long)cam->cfg.max_body);
    return u;
}

/* A malformed after or follow in a wake-up is ignored (a full reply is
 * always right): said at warn the first time, then at debug. */
static void tell_bad(camera_t *cam, const control_msg_t *m)
{
    if (!m->after_bad && !m->follow_bad)
        return;
    log_msg(cam->after_bad_told ? LOGL_DEBUG : LOGL_WARN,
            "wake-up request_id=%s: malformed %s ignored (answered as if absent)",
            m->has_request_id ? m->request_id : "(none)", m->after_bad ? "after" : "follow");
    cam->after_bad_told = true;
}

void upload_start(camera_t *cam, const control_msg_t *m)
{
    tell_bad(cam, m);
    if (already_answering(cam, m))
        return;
    if (cam->nuploads >= UPLOAD_MAX_INFLIGHT) {
        /* Bounded memory: the api resends a wake-up that got no stats. */
        log_msg(LOGL_WARN, "upload request_id=%s: %u uploads in flight; skipped",
                m->has_request_id ? m->request_id : "(none)", cam->nuploads);
        return;
    }
    struct upload *u = create(cam, m);
    if (prepare(cam, u) != 0) {
        log_msg(LOGL_ERROR, "upload: could not start a transfer; dropped");
        destroy(cam, u);
        return;
    }
    u->next = cam->uploads;
    cam->uploads = u;
    cam->nuploads++;
    act_on(cam, u, retry_feed(&u->m, RTE_START), NULL);
}

uint64_t upload_tick(camera_t *cam, uint64_t now)
{
    uint64_t wait = UINT64_MAX;

    for (struct upload *u = cam->uploads, *next; u; u = next) {
        next = u->next; /* act_on may free u */
        if (u->live && u->active) {
            uint64_t left = stream_tick(u->live, now);
            wait = left < wait ? left : wait;
        }
        if (u->m.state != RETRY_WAITING)
            continue;
        if (u->due_ms > now) {
            wait = u->due_ms - now < wait ? u->due_ms - now : wait;
            continue;
        }
        if (now - u->woken_ms >= RETRY_DEADLINE_MS)
            act_on(cam, u, expire(u, EXPIRED_DEADLINE), NULL);
        else
            act_on(cam, u, retry_feed(&u->m, RTE_DUE), NULL);
    }
    return wait;
}

int upload_init(camera_t *cam)
{
    struct curl_slist *h = NULL, *t;
    const char *lines[] = {"Content-Type: application/x-ndjson",
                           "Expect:"}; /* no 100-continue round trip for big bodies */

    for (size_t i = 0; i < 2; i++) {
        if ((t = curl_slist_append(h, lines[i])) == NULL)
            goto fail;
        h = t;
    }
    for (struct curl_slist *a = cam->auth; a; a = a->next) {
        if ((t = curl_slist_append(h, a->data)) == NULL)
            goto fail;
        h = t;
    }
    cam->upload_hdrs = h;
    report_init(&cam->upload_report, "uploads");
    return 0;
fail:
    curl_slist_free_all(h);
    return -1;
}

void upload_fini(camera_t *cam)
{
    while (cam->uploads) {
        struct upload *u = cam->uploads;
        unlink_upload(cam, u);
        destroy(cam, u); /* aborts an attempt in flight */
    }
    curl_slist_free_all(cam->upload_hdrs);
    cam->upload_hdrs = NULL;
}
