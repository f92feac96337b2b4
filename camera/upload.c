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

/* A stalled upload must not stay forever; a healthy one moves bytes. */
#define UPLOAD_TIMEOUT_MS 120000L
#define UPLOAD_LOW_SPEED_S 30L

struct upload {
    xfer_t super;
    struct upload *next;
    buf_t body; /* POSTFIELDS does not copy: the body lives here */
    uint64_t count;
    char rid[ID_MAX + 1];
};

static void encode_one(void *ctx, const record_t *r)
{
    eol_encode_record(ctx, r->description, r->description_len, r->timestamp, r->timestamp_len);
}

/* The body: the ring's records selected by the message's limit/since, copied
 * into one EOL stream now. */
static uint64_t encode(camera_t *cam, const control_msg_t *m, buf_t *body)
{
    record_filter_t f = {0};
    size_t n = ring_count(cam->ring);
    /* record_select wants record_t *const *; the records are only read. */
    record_t **recs = xmalloc((n ? n : 1) * sizeof(*recs));

    for (size_t i = 0; i < n; i++)
        recs[i] = (record_t *)ring_get(cam->ring, i);
    if (m->has_limit)
        f.limit = m->limit;
    if (m->has_since) {
        f.has_since = true;
        f.since = m->since_t;
        f.since_str = m->since;
    }
    uint64_t count = record_select(recs, n, &f, encode_one, body);
    free(recs);
    eol_encode_end(body, count);
    return count;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    return n; /* only the status matters */
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
        camera_log("upload request_id=%s: %s; dropped, events kept", rid, curl_easy_strerror(res));
    else if (status == 200)
        camera_log("upload request_id=%s: 200, %llu records", rid, (unsigned long long)u->count);
    else
        camera_log("upload request_id=%s: status %ld; dropped, events kept", rid, status);
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
        camera_log("upload request_id=%s: %u uploads in flight; skipped",
                   m->has_request_id ? m->request_id : "(none)", cam->nuploads);
        return;
    }
    struct upload *u = xcalloc(1, sizeof(*u));
    u->super.on_done = on_done;
    if (m->has_request_id)
        memcpy(u->rid, m->request_id, sizeof(u->rid));
    u->count = encode(cam, m, &u->body);
    if (prepare(cam, u) != 0) {
        camera_log("upload: could not start a transfer; dropped");
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
        curl_multi_remove_handle(cam->multi, u->super.easy); /* aborts it */
        unlink_upload(cam, u);
        destroy(u);
    }
    curl_slist_free_all(cam->upload_hdrs);
    cam->upload_hdrs = NULL;
}
