/* Requests h2o holds for us (/logs waiters; polls over HTTP/2 or on an
 * HTTP/1 connection handed to h2o), and noticing that their client left.
 * The camera path holds its polls itself and reads their hang-up from the
 * connection (campath/conn.c).
 *
 * Over HTTP/1, h2o 2.2.5 stops reading a connection while its request is
 * being handled, so a camera or operator that closes a held request goes
 * unnoticed until we reply (docs/API.md, "Shape"). We watch those sockets for
 * EPOLLRDHUP in a private epoll set, itself registered in the h2o loop. Over
 * HTTP/2 h2o disposes of the request at once: the pool's dispose hook covers
 * that, and every other way a request ends before we answer it. */
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "front.h"
#include "net.h"

static int epfd = -1;
static h2o_socket_t *epsock; /* epfd in the loop */
static void unwatch(held_t *h)
{
    if (h->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, h->fd, NULL);
        h->fd = -1;
    }
}

h2o_req_t *held_take(held_t *h)
{
    h2o_req_t *req = h->req;
    unwatch(h);
    h->req = NULL;
    return req;
}

/* The request is being freed: if nobody answered it, its client is gone. */
static void on_dispose(void *p)
{
    held_t *h = p;
    if (h->req == NULL)
        return;
    held_take(h);
    h->on_gone(h);
}

void *held_new(h2o_req_t *req, size_t size, void (*on_gone)(held_t *h))
{
    held_t *h = h2o_mem_alloc_shared(&req->pool, size, on_dispose);
    memset(h, 0, size);
    h->req = req;
    h->fd = -1;
    h->on_gone = on_gone;
    if (req->version < 0x200) {
        int fd = h2o_socket_get_fd(req->conn->callbacks->get_socket(req->conn));
        struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = h};
        if (fd >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
            h->fd = fd;
    }
    return h;
}

/* Handles every hang-up ready now, polls before waiters: a waiter leaving
 * may start the next fetch, which must not be delivered to a poll whose own
 * hang-up is in the same batch. Handling one never frees another's memory
 * (requests are freed later, from the loop), so the batch stays valid; one
 * answered meanwhile has req == NULL and is skipped.
 *
 * A client that half-closes (shutdown(SHUT_WR) after its request) looks the
 * same as one that left, and is treated so. */
static void on_hangup(h2o_socket_t *sock, const char *err)
{
    struct epoll_event ev[64];
    int n;
    while ((n = epoll_wait(epfd, ev, 64, 0)) > 0) {
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < n; i++) {
                held_t *h = ev[i].data.ptr;
                if (h->pass != pass || h->req == NULL)
                    continue;
                h2o_req_t *req = held_take(h);
                h->on_gone(h);
                /* Answer so h2o frees the request; the connection closes after. */
                req->http1_is_persistent = 0;
                respond_error(req, 499, "the client closed the connection", NULL);
            }
        }
    }
}

int held_setup(h2o_evloop_t *loop, char *err, size_t n)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    epsock = net_watch(loop, epfd, "epoll_create1", on_hangup, err, n);
    return epsock != NULL ? 0 : -1;
}

void held_close(void)
{
    h2o_socket_close(epsock); /* closes epfd too */
    epsock = NULL;
}
