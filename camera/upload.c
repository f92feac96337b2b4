/* Request role: answer a control message with POST /send-stats carrying the
 * retained events it asked for, as an EOL stream. Uploads run concurrently
 * with the next poll and with each other. A fetch copies; it never removes
 * events, so a failed or refused (409) upload loses nothing: the attempt is
 * dropped and the next fetch sends the same events again. */
#include "camera.h"

#include <stdlib.h>
#include <string.h>

#include "eol.h"
#include "record.h"

/* The api cuts a request whose head+body takes longer than its
 * --request-timeout (default 30 s): give up before it does, and sooner when
 * nothing moves. */
#define UPLOAD_TIMEOUT_MS 25000L
#define UPLOAD_LOW_SPEED_S 10L

struct upload {
    xfer_t super;
    struct upload *next;
    buf_t body;               /* POSTFIELDS does not copy: the body lives here */
    uint64_t count, selected; /* sent; selected by the filter (more if cut) */
    char rid[ID_MAX + 1];
};

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
    eol_encode_record(scratch, r->description, r->description_len, r->timestamp, r->timestamp_len);
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

/* The body: the ring's records selected by the message's limit/since, as
 * many of the newest as fit --max-body, copied into one EOL stream now. */
static void encode(camera_t *cam, const control_msg_t *m, struct upload *u)
{
    record_filter_t f = {0};
    size_t n = ring_count(cam->ring), total;
    picked_t sel = {.recs = xmalloc((n ? n : 1) * sizeof(record_t *))};

    for (size_t i = 0; i < n; i++)
        sel.recs[i] = (record_t *)ring_get(cam->ring, i); /* only read */
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
        eol_encode_record(&u->body, r->description, r->description_len, r->timestamp,
                          r->timestamp_len);
    }
    free(sel.recs);
    eol_encode_end(&u->body, keep);
    u->count = keep;
    u->selected = sel.k;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    return size * n; /* only the status matters */
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

static void destroy(struct upload *u)
{
    curl_easy_cleanup(u->super.easy);
    buf_free(&u->body);
    free(u);
}

static void on_done(camera_t *cam, xfer_t *x, CURLcode res, long status)
{
    struct upload *u = (struct upload *)x; /* super is the first member */
    const char *rid = u->rid[0] ? u->rid : "(none)";

    if (res != CURLE_OK)
        log_msg(LOGL_WARN, "upload request_id=%s: %s; dropped, events kept", rid,
                x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    else if (status == 200)
        log_msg(LOGL_INFO, "upload request_id=%s: 200, %llu records", rid,
                (unsigned long long)u->count);
    else
        log_msg(LOGL_WARN, "upload request_id=%s: status %ld; dropped, events kept", rid, status);
    unlink_upload(cam, u);
    destroy(u);
}

static int prepare(camera_t *cam, struct upload *u)
{
    buf_t url = BUF_INIT;
    CURL *e = loop_easy(cam, &u->super);

    if (e == NULL)
        return -1;
    buf_printf(&url, "%s/send-stats?camera=%s", cam->cfg.server, cam->cfg.id);
    if (u->rid[0]) /* ids are [A-Za-z0-9._-]: nothing to escape */
        buf_printf(&url, "&request_id=%s", u->rid);
    curl_easy_setopt(e, CURLOPT_URL, url.data); /* curl copies it */
    buf_free(&url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u->body.len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, u->body.data);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, cam->upload_hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, UPLOAD_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, UPLOAD_LOW_SPEED_S);
    return loop_add(cam, &u->super);
}

void upload_start(camera_t *cam, const control_msg_t *m)
{
    if (cam->nuploads >= UPLOAD_MAX_INFLIGHT) {
        /* Bounded memory: the api resends a wake-up that got no stats. */
        log_msg(LOGL_WARN, "upload request_id=%s: %u uploads in flight; skipped",
                m->has_request_id ? m->request_id : "(none)", cam->nuploads);
        return;
    }
    struct upload *u = xcalloc(1, sizeof(*u));
    u->super.on_done = on_done;
    if (m->has_request_id)
        memcpy(u->rid, m->request_id, sizeof(u->rid));
    encode(cam, m, u);
    if (u->count < u->selected)
        log_msg(LOGL_WARN,
                "upload request_id=%s: %llu of %llu selected records fit --max-body %llu; "
                "the oldest left out",
                u->rid[0] ? u->rid : "(none)", (unsigned long long)u->count,
                (unsigned long long)u->selected, (unsigned long long)cam->cfg.max_body);
    if (prepare(cam, u) != 0) {
        log_msg(LOGL_ERROR, "upload: could not start a transfer; dropped");
        if (u->super.easy)
            destroy(u);
        else {
            buf_free(&u->body);
            free(u);
        }
        return;
    }
    u->next = cam->uploads;
    cam->uploads = u;
    cam->nuploads++;
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
    return 0;
fail:
    curl_slist_free_all(h);
    return -1;
}

void upload_fini(camera_t *cam)
{
    while (cam->uploads) {
        struct upload *u = cam->uploads;
        loop_remove(cam, u->super.easy); /* aborts it */
        unlink_upload(cam, u);
        destroy(u);
    }
    curl_slist_free_all(cam->upload_hdrs);
    cam->upload_hdrs = NULL;
}
