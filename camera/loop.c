/* The one event loop: a curl multi handle whose curl_multi_poll also waits on
 * the signal self-pipe, stdin (--source stdin) or an inotify fd (--source
 * file:PATH), with the nearest of the next synthetic event, poll retry,
 * file re-check, store sync or store retry as its timer. Nothing runs while
 * idle. A follow upload waiting for events is a paused transfer (stream.c),
 * resumed here once the store has its new events. On a signal the follow
 * uploads in flight end with their EOL line and get STOP_DRAIN_MS to be
 * answered; everything else is aborted at once. */
#define _GNU_SOURCE /* pipe2 */
#include "camera.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Below h2o's request timeout, so that curl never reuses a connection the
 * server is about to close (docs/CAMERA.md). */
#define MAXAGE_CONN_S 5L
/* The longest single wait; only a bound, the timer decides. */
#define WAIT_MAX_MS 3600000
/* How long a stopping camera waits for the api's answer to the follow
 * uploads it ended: well within the contract's "stop within a second". */
#define STOP_DRAIN_MS 500

static int g_sigpipe_w = -1;
static volatile sig_atomic_t *g_stop;

/* Async-signal-safe: a flag and one byte into the pipe wake the poll. */
static void on_signal(int sig)
{
    int saved = errno;
    *g_stop = sig;
    if (write(g_sigpipe_w, "", 1) < 0) {
        /* full pipe: a wake-up is already pending */
    }
    errno = saved;
}

int loop_signals(camera_t *cam)
{
    struct sigaction sa;

    if (pipe2(cam->sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    g_sigpipe_w = cam->sigpipe[1];
    g_stop = &cam->stop;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

CURL *loop_easy(camera_t *cam, xfer_t *x)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return NULL;
    x->easy = e;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, MAXAGE_CONN_S);
    /* HTTP/1.1 even over TLS: the api holds an HTTP/1.1 poll in about 1 KiB
     * and checks an upload's credentials before reading its body, which its
     * HTTP/2 (h2o's) cannot (docs/CAMERA.md). */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* A signal must not wait for a DNS lookup: cleanup leaves the resolver
     * thread behind instead of joining it. */
    curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
    x->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    /* https: the peer and host are verified (curl's default, kept). */
    if (cam->cfg.cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, cam->cfg.cacert);
    keepalive_apply(cam, e);
    return e;
}

int loop_add(camera_t *cam, xfer_t *x)
{
    CURLMcode mc = curl_multi_add_handle(cam->multi, x->easy);
    if (mc != CURLM_OK) {
        log_msg(LOGL_ERROR, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        return -1;
    }
    return 0;
}

void loop_remove(camera_t *cam, CURL *e)
{
    CURLMcode mc = curl_multi_remove_handle(cam->multi, e);
    if (mc != CURLM_OK)
        log_msg(LOGL_ERROR, "curl_multi_remove_handle: %s", curl_multi_strerror(mc));
}

/* Routes every finished transfer to its role via CURLOPT_PRIVATE. */
static void drain_done(camera_t *cam)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(cam->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode res = msg->data.result; /* msg dies with remove_handle */
        xfer_t *x = NULL;
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        loop_remove(cam, e);
        x->on_done(cam, x, res, status);
    }
}

static void drain_pipe(int fd)
{
    char junk[64];
    while (read(fd, junk, sizeof(junk)) > 0) {
    }
}

/* Waits for sockets, the self-pipe, stdin, the followed file or the timer.
 * Returns 0 or -1. */
static int wait_events(camera_t *cam, uint64_t wait_ms)
{
    struct curl_waitfd fds[3 + UPLOAD_MAX_INFLIGHT] = {
        {.fd = cam->sigpipe[0], .events = CURL_WAIT_POLLIN}};
    unsigned nfds = 1, in_stdin = 0, in_follow = 0, in_live, nlive;
    int timeout = wait_ms > WAIT_MAX_MS ? WAIT_MAX_MS : (int)wait_ms;

    if (cam->src.stdin_open) {
        in_stdin = nfds;
        fds[nfds++] = (struct curl_waitfd){.fd = STDIN_FILENO, .events = CURL_WAIT_POLLIN};
    }
    if (follow_fd(cam) >= 0) {
        in_follow = nfds;
        fds[nfds++] = (struct curl_waitfd){.fd = follow_fd(cam), .events = CURL_WAIT_POLLIN};
    }
    in_live = nfds;
    nlive = upload_watch(cam, fds + nfds, UPLOAD_MAX_INFLIGHT);
    nfds += nlive;
    CURLMcode mc = curl_multi_poll(cam->multi, fds, nfds, timeout, NULL);
    if (mc != CURLM_OK) {
        log_msg(LOGL_ERROR, "curl_multi_poll: %s", curl_multi_strerror(mc));
        return -1;
    }
    if (fds[0].revents)
        drain_pipe(cam->sigpipe[0]);
    if (in_stdin && fds[in_stdin].revents)
        source_read_stdin(cam);
    if (in_follow && fds[in_follow].revents)
        follow_on_fd(cam);
    upload_watched(cam, fds + in_live, nlive);
    return 0;
}

/* After a signal: the poll ends, the follow uploads in flight send their EOL
 * line, and the loop runs curl alone until they are answered, a second
 * signal comes or STOP_DRAIN_MS have passed. */
static void drain_streams(camera_t *cam)
{
    uint64_t deadline = clock_ms() + STOP_DRAIN_MS;
    struct curl_waitfd sig = {.fd = cam->sigpipe[0], .events = CURL_WAIT_POLLIN};
    int running;

    poll_fini(cam);
    drain_pipe(cam->sigpipe[0]); /* the signal that got us here */
    if (upload_streams_end(cam) == 0)
        return;
    for (;;) {
        if (curl_multi_perform(cam->multi, &running) != CURLM_OK)
            break;
        drain_done(cam);
        uint64_t now = clock_ms();
        if (upload_streams_end(cam) == 0 || now >= deadline || sig.revents)
            break;
        if (curl_multi_poll(cam->multi, &sig, 1, (int)(deadline - now), NULL) != CURLM_OK)
            break;
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

int loop_run(camera_t *cam)
{
    int rc = 0, running;

    while (!cam->stop) {
        /* Events read in the last turn are written (and with --fsync
         * always synced) before a finished poll can upload them. */
        if (cam->store)
            store_flush(cam->store, clock_ms());
        upload_feed(cam, clock_ms()); /* events now stored may stream */
        CURLMcode mc = curl_multi_perform(cam->multi, &running);
        if (mc != CURLM_OK) {
            log_msg(LOGL_ERROR, "curl_multi_perform: %s", curl_multi_strerror(mc));
            rc = -1;
            break;
        }
        drain_done(cam);
        uint64_t now = clock_ms();
        uint64_t wait = source_tick(cam, now);
        if (cam->store) /* what the tick made, before a retry below can upload it */
            store_flush(cam->store, now);
        wait = min_u64(wait, poll_tick(cam, now));
        wait = min_u64(wait, upload_tick(cam, now));
        wait = min_u64(wait, follow_tick(cam, now));
        if (cam->store)
            wait = min_u64(wait, store_tick(cam->store, now));
        if (upload_feed(cam, now)) /* what the tick made: out without waiting */
            wait = 0;
        if (cam->stop)
            break;
        if (wait_events(cam, wait) != 0) {
            rc = -1;
            break;
        }
    }
    if (cam->stop && rc == 0)
        drain_streams(cam);
    /* Removing a handle aborts its transfer: a held poll ends at once. */
    upload_fini(cam);
    poll_fini(cam);
    return rc;
}
