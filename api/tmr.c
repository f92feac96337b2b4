/* Timers: a binary min-heap of deadlines behind one timerfd. h2o 2.2.5's own
 * h2o_timeout_t has one fixed duration per list, and /logs deadlines take any
 * value from 0.1 s to 300 s, so the api keeps its own heap. */
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "net.h"
#include "tmr.h"

static struct {
    tmr_t **heap;
    size_t n, cap;
    int fd;
    h2o_socket_t *sock; /* fd in the loop */
    uint64_t armed_at;  /* what the timerfd is set to; 0 = disarmed */
} T = {.fd = -1};

static void place(size_t i, tmr_t *t)
{
    T.heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(size_t i)
{
    tmr_t *t = T.heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (T.heap[parent]->at <= t->at)
            break;
        place(i, T.heap[parent]);
        i = parent;
    }
    place(i, t);
}

static void sift_down(size_t i)
{
    tmr_t *t = T.heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= T.n)
            break;
        if (c + 1 < T.n && T.heap[c + 1]->at < T.heap[c]->at)
            c++;
        if (t->at <= T.heap[c]->at)
            break;
        place(i, T.heap[c]);
        i = c;
    }
    place(i, t);
}

/* Points the timerfd at the earliest deadline (absolute, monotonic). */
static void rearm_fd(void)
{
    uint64_t at = T.n ? T.heap[0]->at : 0;
    if (at == T.armed_at)
        return;
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (at) {
        its.it_value.tv_sec = (time_t)(at / 1000);
        its.it_value.tv_nsec = (long)(at % 1000) * 1000000;
    }
    timerfd_settime(T.fd, TFD_TIMER_ABSTIME, &its, NULL);
    T.armed_at = at;
}

void tmr_cancel(tmr_t *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    tmr_t *last = T.heap[--T.n];
    if (i < T.n) {
        place(i, last);
        sift_down(i);
        sift_up(last->slot - 1);
    }
    rearm_fd();
}

void tmr_arm(tmr_t *t, uint64_t after_ms)
{
    tmr_cancel(t);
    if (T.n == T.cap) {
        T.cap = T.cap ? T.cap * 2 : 64;
        T.heap = xrealloc(T.heap, T.cap * sizeof(*T.heap));
    }
    /* +1: the monotonic clock counts ms; never fire early. */
    t->at = clock_ms() + after_ms + 1;
    place(T.n++, t);
    sift_up(T.n - 1);
    rearm_fd();
}

static void on_tick(h2o_socket_t *sock, const char *err)
{
    uint64_t expirations;
    while (read(T.fd, &expirations, sizeof(expirations)) < 0 && errno == EINTR)
        ;
    T.armed_at = 0;
    uint64_t now = clock_ms();
    while (T.n && T.heap[0]->at <= now) {
        tmr_t *t = T.heap[0];
        tmr_cancel(t);
        t->cb(t); /* may arm or cancel other timers */
    }
    rearm_fd();
}

int tmr_setup(h2o_evloop_t *loop, char *err, size_t n)
{
    T.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    T.sock = net_watch(loop, T.fd, "timerfd_create", on_tick, err, n);
    return T.sock != NULL ? 0 : -1;
}

void tmr_close(void)
{
    h2o_socket_close(T.sock); /* closes the timerfd too */
    T.sock = NULL;
    free(T.heap);
    T.heap = NULL;
    T.n = T.cap = 0;
}
