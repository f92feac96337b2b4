/* Rebalancing. Behind the front door each camera id hashes to one api
 * process. When a process joins or comes back, the cameras that now hash to
 * it still hold their polls on the process that took them over, and a /logs
 * sent to their owner would find no poll. So every other process ends the
 * polls it holds with 204, as if they had timed out, spread evenly over
 * --rebalance-spread so the re-polls do not arrive in one burst; each camera
 * polls again at once and the front door sends it to its owner (those that
 * belong here come straight back). Polls that arrive meanwhile are left
 * alone: they were routed with the new set. A fetch in flight is not
 * disturbed: its upload is routed by its request id (node.c).
 *
 * Followers (GET /logs?follow=1) are where the camera is. This process does
 * not know the ring, so it cannot tell from one poll ending whether the
 * camera will be back: every connected camera is marked (cameras_may_move);
 * one that polls here again stays, with its followers untouched; one that
 * is gone a connect grace later went to its owner, and its followers get
 * `event: end` ("rebalance") instead of `offline` and resume there with
 * Last-Event-ID, through the front door (docs/DEPLOY.md "Follow streams").
 *
 * Triggered by SIGUSR1 (a signalfd of its own) or POST /rebalance (operator token); the
 * deployment sends it whenever the set of processes changes (DEPLOY.md). */
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api.h"
#include "front.h"
#include "log.h"
#include "net.h"
#include "process.h"
#include "relay/relay.h"

struct spread {
    size_t n, i;
};

/* The i-th held poll of n ends at i/n of the spread, through its own poll
 * timer: the handshake machine sees a poll timeout, nothing new. */
static void stagger(camera_t *cam, void *arg)
{
    struct spread *s = arg;
    cameras_may_move(cam);
    poll_t *p = handshake_held(cam);
    if (p == NULL || s->i >= s->n)
        return;
    tmr_arm(&p->timeout, api_conf.rebalance_ms * s->i / s->n);
    s->i++;
}

size_t rebalance_start(const char *why)
{
    if (api_stopping)
        return 0;
    struct spread s = {.n = handshake_polls(), .i = 0};
    cameras_each(stagger, &s);
    log_msg(LOGL_INFO, "rebalance (%s): ending %zu held polls over %.1f s", why, s.i,
            (double)api_conf.rebalance_ms / 1e3);
    return s.i;
}

int rebalance_serve(h2o_req_t *req, const query_t *q)
{
    if (endpoints_operator(req, NULL) != 0)
        return 0;
    const char *err = query_error(q, QP_BIT(QP_OTHER));
    if (err != NULL) {
        respond_error(req, 400, err, NULL);
        return 0;
    }
    size_t n = rebalance_start("POST /rebalance");
    buf_t b = BUF_INIT;
    buf_printf(&b, "{\"polls\":%zu,\"spread\":%.3f}", n, (double)api_conf.rebalance_ms / 1e3);
    respond_json(req, 200, &b, NULL);
    buf_free(&b);
    return 0;
}

static h2o_socket_t *usr1; /* the signalfd, in the loop */

static void on_usr1(h2o_socket_t *sock, const char *err)
{
    struct signalfd_siginfo si;
    while (read(h2o_socket_get_fd(sock), &si, sizeof(si)) == sizeof(si))
        rebalance_start("SIGUSR1");
}

#define SPREAD_DEFAULT_MS 2000

int rebalance_setup(h2o_evloop_t *loop, char *err, size_t n)
{
    if (!api_conf.rebalance_set)
        api_conf.rebalance_ms = SPREAD_DEFAULT_MS;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    usr1 = net_watch(loop, fd, "signalfd", on_usr1, err, n);
    return usr1 != NULL ? 0 : -1;
}

void rebalance_close(void)
{
    h2o_socket_close(usr1); /* closes the signalfd too */
    usr1 = NULL;
}
