/* The camera table and each camera's handshake: its held poll, its fetch in
 * flight with the /logs waiters joined to it, and the waiters queued for the
 * next fetch. Every change of handshake state goes through the generated
 * machine (runtime/session.h); this file performs the actions it returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "relay_int.h"
#include "jsonw.h"
#include "log.h"

static struct {
    camera_t **bucket;
    size_t nbuckets, n, connected;
    h2o_linklist_t idle, unseen; /* forgettable: seen cameras, entries only asked for */
    tmr_t sweep;
    uint32_t rid_prefix;
    uint64_t rid_seq;
    struct {
        void (*fn)(const camera_t *cam, void *arg);
        void *arg;
    } watch[CAMERAS_WATCHERS];
} C;

/* Table ------------------------------------------------------------------------ */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* FNV-1a, seeded at start so that chosen ids cannot pile into one chain. */
static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull ^ C.rid_prefix;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static camera_t **slot_of(const char *id)
{
    camera_t **pp = &C.bucket[hash(id) & (C.nbuckets - 1)];
    while (*pp != NULL && strcmp((*pp)->id, id) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void grow(void)
{
    camera_t **old = C.bucket;
    size_t oldn = C.nbuckets;
    C.nbuckets = oldn ? oldn * 2 : 1024;
    C.bucket = xcalloc(C.nbuckets, sizeof(*C.bucket));
    for (size_t i = 0; i < oldn; i++) {
        for (camera_t *c = old[i], *next; c != NULL; c = next) {
            next = c->next;
            camera_t **pp = &C.bucket[hash(c->id) & (C.nbuckets - 1)];
            c->next = *pp;
            *pp = c;
        }
    }
    free(old);
}

static void forget(camera_t *cam)
{
    tmr_cancel(&cam->linger);
    if (cam->connected)
        C.connected--;
    camera_t **pp = slot_of(cam->id);
    *pp = cam->next;
    h2o_linklist_unlink(&cam->idle);
    C.n--;
    cache_drop(cam);
    free(cam);
}

/* A camera with nothing going on may be forgotten after a while, or at once
 * when the table is full and a new id needs the room (an entry only asked
 * for by /logs before a camera that made requests). An upload in progress
 * holds a pointer to its camera, and one shown connected (lingering after a
 * reply) is about to come back: neither is "nothing". */
void cameras_settle(camera_t *cam)
{
    bool idle = cam->s.state == SESSION_IDLE && h2o_linklist_is_empty(&cam->queued) &&
                cam->uploads == 0 && !cam->connected && h2o_linklist_is_empty(&cam->followers);
    if (idle && !h2o_linklist_is_linked(&cam->idle)) {
        cam->idle_since = clock_ms();
        h2o_linklist_insert(cam->seen ? &C.idle : &C.unseen, &cam->idle);
    } else if (!idle && h2o_linklist_is_linked(&cam->idle)) {
        h2o_linklist_unlink(&cam->idle);
    }
}

/* A request of the camera: its idle time starts again from now. */
static void touch(camera_t *cam)
{
    if (h2o_linklist_is_linked(&cam->idle))
        h2o_linklist_unlink(&cam->idle);
    cameras_settle(cam);
}

/* How often idle cameras are looked at: often enough that one is forgotten
 * within half of --forget-after past it, at most every 10 s. */
static uint64_t sweep_ms(void)
{
    uint64_t ms = api_conf.forget_ms / 2;
    return ms < 100 ? 100 : ms > 10000 ? 10000 : ms;
}

static void sweep(h2o_linklist_t *list, uint64_t now)
{
    while (!h2o_linklist_is_empty(list)) {
        camera_t *cam = H2O_STRUCT_FROM_MEMBER(camera_t, idle, list->next);
        if (now - cam->idle_since < api_conf.forget_ms)
            break;
        forget(cam);
    }
}

static void on_sweep(tmr_t *t)
{
    uint64_t now = clock_ms();
    sweep(&C.idle, now);
    sweep(&C.unseen, now);
    tmr_arm(&C.sweep, sweep_ms());
}

camera_t *cameras_get(const char *id, bool create, bool *full)
{
    camera_t **pp = slot_of(id);
    if (*pp != NULL || !create)
        return *pp;
    if (C.n >= api_conf.max_cameras) {
        h2o_linklist_t *list = !h2o_linklist_is_empty(&C.unseen) ? &C.unseen : &C.idle;
        if (h2o_linklist_is_empty(list)) {
            *full = true;
            return NULL;
        }
        forget(H2O_STRUCT_FROM_MEMBER(camera_t, idle, list->next));
        pp = slot_of(id);
    }
    camera_t *cam = xcalloc(1, sizeof(*cam));
    snprintf(cam->id, sizeof(cam->id), "%s", id);
    session_init(&cam->s);
    h2o_linklist_init_anchor(&cam->fetch.waiters);
    h2o_linklist_init_anchor(&cam->queued);
    h2o_linklist_init_anchor(&cam->ups);
    h2o_linklist_init_anchor(&cam->followers);
    cam->changed = wall_ms();
    cam->numbers = -1;
    *pp = cam;
    if (++C.n > C.nbuckets)
        grow();
    cameras_settle(cam);
    return cam;
}

const char *cameras_name(const camera_t *cam)
{
    return cam->id;
}

void cameras_epoch(camera_t *cam, const char *epoch)
{
    cam->numbers = epoch != NULL;
    snprintf(cam->epoch, sizeof(cam->epoch), "%s", epoch != NULL ? epoch : "");
    cache_shows(cam, epoch);
    if (epoch == NULL) /* a 1.1 request: it cannot be followed */
        follow_end(cam, "unnumbered");
}

int cameras_numbers(const camera_t *cam)
{
    return cam->numbers;
}

void cameras_setup(void)
{
    grow();
    h2o_linklist_init_anchor(&C.idle);
    h2o_linklist_init_anchor(&C.unseen);
    if (getrandom(&C.rid_prefix, sizeof(C.rid_prefix), 0) != sizeof(C.rid_prefix))
        C.rid_prefix = (uint32_t)time(NULL);
    C.sweep.cb = on_sweep;
    tmr_arm(&C.sweep, sweep_ms());
    cache_setup();
}

size_t cameras_connected(void)
{
    return C.connected;
}

size_t cameras_known(void)
{
    return C.n;
}

void cameras_from(camera_t *cam, const char *addr)
{
    snprintf(cam->addr, sizeof(cam->addr), "%s", addr);
    cam->moving = false; /* it polls here: the rebalance left it here */
}

void cameras_may_move(camera_t *cam)
{
    cam->moving = cam->connected;
}

/* Connection history, one line per change of `connected` (docs/API.md): an
 * arrival, or a departure. `timed`: it went because its last reply is a
 * grace old with no poll since (said with the grace); else its poll ended
 * with no reply to cover a grace (hung up, refused, revoked). */
static void log_change(const camera_t *cam, bool on, bool timed)
{
    log_field_t f[1] = {LOG_STR("addr", cam->addr[0] ? cam->addr : "-")};
    if (on)
        log_with(LOGL_INFO, f, 1, "camera %s connected", cam->id);
    else if (timed) /* by the linger timer: exactly the grace */
        log_with(LOGL_INFO, f, 1, "camera %s gone after %g s without a poll", cam->id,
                 (double)api_conf.grace_ms / 1000);
    else
        log_with(LOGL_INFO, f, 1, "camera %s gone: its poll closed before a reply", cam->id);
}

static void refresh(camera_t *cam, bool timed)
{
    uint64_t now = clock_ms();
    bool recent = cam->answered_at != 0 && now - cam->answered_at < api_conf.grace_ms;
    bool on = cam->poll != NULL || cam->uploads > 0 || recent;
    if (cam->connected == on)
        return;
    cam->connected = on;
    cam->changed = wall_ms();
    C.connected += on ? 1 : (size_t)-1;
    log_change(cam, on, timed);
    if (!on && cam->moving) { /* it went to the process a rebalance sent it to */
        cam->moving = false;
        follow_end(cam, "rebalance");
    }
    follow_presence(cam);
    for (size_t i = 0; i < CAMERAS_WATCHERS && C.watch[i].fn != NULL; i++)
        C.watch[i].fn(cam, C.watch[i].arg);
}

void cameras_watch(void (*fn)(const camera_t *cam, void *arg), void *arg)
{
    size_t i = 0;
    while (i < CAMERAS_WATCHERS - 1 && C.watch[i].fn != NULL)
        i++;
    C.watch[i].fn = fn;
    C.watch[i].arg = arg;
}

void cameras_refresh(camera_t *cam)
{
    refresh(cam, false);
}

static void on_linger(tmr_t *t)
{
    camera_t *cam = H2O_STRUCT_FROM_MEMBER(camera_t, linger, t);
    refresh(cam, true);
    cameras_settle(cam); /* no longer shown connected: forgettable from now */
}

void cameras_answered(camera_t *cam)
{
    cam->answered_at = clock_ms();
    cam->linger.cb = on_linger;
    tmr_arm(&cam->linger, api_conf.grace_ms);
    refresh(cam, true);
    touch(cam);
}

void cameras_seen(camera_t *cam)
{
    cam->seen = true;
    cam->last_seen = wall_ms();
    touch(cam);
}

bool cameras_uploading(const camera_t *cam)
{
    return cam->receiving > 0;
}

void cameras_upload_begin(camera_t *cam)
{
    cam->uploads++;
    cam->receiving++;
    cameras_refresh(cam);
    cameras_settle(cam);
}

void cameras_upload_done(camera_t *cam)
{
    if (cam->receiving > 0)
        cam->receiving--;
}

void cameras_upload_end(camera_t *cam)
{
    if (cam->uploads > 0)
        cam->uploads--;
    cameras_refresh(cam);
    cameras_settle(cam);
}

/* With --node the id starts with "NODE.", which the front door reads to send
 * the upload to this process (node.c). */
void cameras_new_rid(char rid[ID_MAX + 1])
{
    snprintf(rid, ID_MAX + 1, "%s%s%08x.%llu", api_conf.node ? api_conf.node : "",
             api_conf.node ? "." : "", C.rid_prefix, (unsigned long long)++C.rid_seq);
}

void cameras_each(void (*fn)(camera_t *cam, void *arg), void *arg)
{
    for (size_t i = 0; i < C.nbuckets; i++)
        for (camera_t *c = C.bucket[i]; c != NULL; c = c->next)
            fn(c, arg);
}

static int by_id(const void *a, const void *b)
{
    return strcmp((*(camera_t *const *)a)->id, (*(camera_t *const *)b)->id);
}

static void put_time(buf_t *b, const char *key, uint64_t ms)
{
    char when[25];
    rfc3339_format_ms(when, (int64_t)(ms / 1000), (unsigned)(ms % 1000));
    buf_printf(b, ",\"%s\":\"%s\"", key, when);
}

static bool passes(const camera_t *c, const cameras_filter_t *f)
{
    return c->seen && (f->connected < 0 || c->connected == (f->connected == 1)) &&
           strncmp(c->id, f->prefix, strlen(f->prefix)) == 0;
}

void cameras_json(buf_t *b, const cameras_filter_t *f)
{
    camera_t **list = xcalloc(C.n ? C.n : 1, sizeof(*list));
    size_t n = 0;
    for (size_t i = 0; i < C.nbuckets; i++)
        for (camera_t *c = C.bucket[i]; c != NULL; c = c->next)
            if (passes(c, f))
                list[n++] = c;
    qsort(list, n, sizeof(*list), by_id);
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        cameras_entry_json(b, list[i]);
    }
    buf_putc(b, ']');
    free(list);
}

bool cameras_is_connected(const camera_t *cam)
{
    return cam->connected;
}

void cameras_entry_json(buf_t *b, const camera_t *cam)
{
    buf_puts(b, "{\"camera\":");
    jsonw_string(b, cam->id, strlen(cam->id));
    buf_printf(b, ",\"connected\":%s", cam->connected ? "true" : "false");
    put_time(b, "since", cam->changed);
    put_time(b, "last_seen", cam->last_seen);
    if (api_conf.node != NULL) { /* which process holds it, behind a front door */
        buf_puts(b, ",\"node\":");
        jsonw_string(b, api_conf.node, strlen(api_conf.node));
    }
    buf_putc(b, '}');
}

size_t cameras_revoke(const idset_t *revoked)
{
    size_t n = 0;
    for (size_t i = 0; i < revoked->n; i++) {
        camera_t *cam = cameras_get(revoked->ids[i], false, NULL);
        if (cam != NULL)
            follow_end(cam, "revoked");
        n += cam != NULL && handshake_revoke(cam);
    }
    return n;
}

void cameras_shutdown(void)
{
    for (size_t i = 0; i < C.nbuckets; i++)
        for (camera_t *c = C.bucket[i]; c != NULL; c = c->next) {
            follow_end(c, "shutdown");
            handshake_shutdown(c);
        }
}
