/* The publishers of bench_follow. Ours: real cameras (`--source stdin`),
 * one line into a camera's stdin per event. Nchan: a POST to its publisher
 * per event, pipelined over a few keep-alive connections. Either way the
 * event carries the monotonic time it was written (follow.h, the marker),
 * so its latency includes the camera or the POST. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "fleet.h"
#include "follow.h"

typedef struct fp_conn {
    int fd;
    char *out, in[8192];
    size_t out_len, out_cap, in_len;
    unsigned pending; /* requests written, not answered */
} fp_conn_t;

struct fp_pub {
    int ep;
    unsigned n;      /* cameras or channels */
    unsigned nconns; /* Nchan connections */
    int *pipes;      /* ours: a camera's stdin per channel */
    pid_t *pids;
    fp_conn_t *conns;
    fm_set_t *sim;
    uint64_t failures;
};

static pid_t spawn_camera(const char *camera, const char *server, unsigned i, int *wfd, int logfd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    char id[32];
    snprintf(id, sizeof(id), "cam-%u", i);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the bench */
        dup2(p[0], 0);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(logfd, 2);
        execl(camera, camera, "--server", server, "--id", id, "--source", "stdin", "--log-level",
              "warn", (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    *wfd = p[1];
    return pid;
}

fp_pub_t *fp_cameras(const char *camera, const struct sockaddr_in *dst, unsigned cameras,
                     const char *log)
{
    fp_pub_t *p = calloc(1, sizeof(*p));
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (p == NULL || logfd < 0)
        goto fail;
    p->pipes = calloc(cameras, sizeof(*p->pipes));
    p->pids = calloc(cameras, sizeof(*p->pids));
    if (p->pipes == NULL || p->pids == NULL)
        goto fail;
    p->n = cameras;
    char server[64], host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &dst->sin_addr, host, sizeof(host));
    snprintf(server, sizeof(server), "http://%s:%u", host, ntohs(dst->sin_port));
    for (unsigned i = 0; i < cameras; i++) {
        p->pids[i] = spawn_camera(camera, server, i, &p->pipes[i], logfd);
        if (p->pids[i] < 0) {
            fprintf(stderr, "bench_follow: camera %u: %s\n", i, strerror(errno));
            p->n = i;
            goto fail;
        }
    }
    close(logfd);
    return p;
fail:
    if (logfd >= 0)
        close(logfd);
    fp_free(p);
    return NULL;
}

fp_pub_t *fp_sim(int ep, const struct sockaddr_in *dst, unsigned cameras)
{
    fp_pub_t *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->sim = fm_new(ep, dst, cameras)) == NULL) {
        free(p);
        return NULL;
    }
    p->n = cameras;
    return p;
}

fp_pub_t *fp_nchan(int ep, const struct sockaddr_in *dst, unsigned channels, unsigned conns)
{
    fp_pub_t *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->conns = calloc(conns, sizeof(*p->conns))) == NULL) {
        free(p);
        return NULL;
    }
    p->ep = ep;
    p->n = channels;
    p->nconns = conns;
    for (unsigned i = 0; i < conns; i++) {
        fp_conn_t *c = &p->conns[i];
        c->fd = fh_connect(dst, 0);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u64 = i | FP_TAG};
        if (c->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            fp_free(p);
            return NULL;
        }
    }
    return p;
}

static void conn_fail(fp_pub_t *p, fp_conn_t *c)
{
    p->failures += c->pending ? c->pending : 1;
    c->pending = 0;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void conn_flush(fp_pub_t *p, fp_conn_t *c)
{
    size_t off = 0;
    if (c->out_len == 0)
        return;
    while (off < c->out_len) {
        ssize_t w = write(c->fd, c->out + off, c->out_len - off);
        if (w < 0 && (errno == EAGAIN || errno == ENOTCONN))
            break;
        if (w <= 0) {
            conn_fail(p, c);
            return;
        }
        off += (size_t)w;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
}

/* One POST of `body` to channel ch, pipelined on the next connection. */
static int nchan_post(fp_pub_t *p, unsigned ch, const char *body, int blen)
{
    /* A channel keeps its connection: its messages stay in order. */
    fp_conn_t *c = &p->conns[ch % p->nconns];
    if (c->fd < 0) {
        p->failures++;
        return -1;
    }
    if (c->out_cap - c->out_len < 512 + (size_t)blen) {
        size_t cap = c->out_cap * 2 + 1024 + (size_t)blen;
        char *o = realloc(c->out, cap);
        if (o == NULL)
            return -1;
        c->out = o;
        c->out_cap = cap;
    }
    c->out_len += (size_t)snprintf(c->out + c->out_len, c->out_cap - c->out_len,
                                   "POST /pub?c=%u HTTP/1.1\r\nHost: bench\r\n"
                                   "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
                                   ch, blen, body);
    c->pending++;
    conn_flush(p, c);
    return c->fd >= 0 ? 0 : -1;
}

static int publish(fp_pub_t *p, unsigned ch, const char *line, int len)
{
    if (p->conns != NULL)
        return nchan_post(p, ch, line, len - 1); /* (no newline in a message) */
    if (p->sim != NULL)
        return fm_publish(p->sim, ch, line, len);
    if (write(p->pipes[ch], line, (size_t)len) == len)
        return 0;
    p->failures++;
    return -1;
}

void fp_warm(fp_pub_t *p, unsigned gen)
{
    char line[96];
    for (unsigned ch = 0; ch < p->n; ch++) {
        int len = snprintf(line, sizeof(line), "bench c=%u w=%u\n", ch, gen);
        publish(p, ch, line, len);
    }
}

int fp_send(fp_pub_t *p, unsigned ch, uint64_t *published)
{
    char line[96];
    int len = snprintf(line, sizeof(line), "bench c=%u s=%llu t=%llu\n", ch,
                       (unsigned long long)published[ch] + 1, (unsigned long long)fh_now_ns());
    published[ch]++;
    return publish(p, ch, line, len);
}

void fp_event(fp_pub_t *p, uint64_t data, uint32_t events)
{
    if (data & FM_TAG) {
        fm_event(p->sim, data, events);
        return;
    }
    fp_conn_t *c = &p->conns[data & ~FP_TAG];
    if (c->fd < 0)
        return;
    if (events & EPOLLOUT)
        conn_flush(p, c);
    for (;;) {
        ssize_t got = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (got < 0 && errno == EAGAIN)
            return;
        if (got <= 0) {
            conn_fail(p, c);
            return;
        }
        c->in_len += (size_t)got;
        fh_resp_t r;
        int rc = 0;
        while (c->in_len > 0 && (rc = fh_parse(c->in, c->in_len, &r)) == 1) {
            if (r.status < 200 || r.status > 299)
                p->failures++;
            if (c->pending > 0)
                c->pending--;
            memmove(c->in, c->in + r.total, c->in_len - r.total);
            c->in_len -= r.total;
        }
        if (c->in_len > 0 && rc < 0) {
            conn_fail(p, c);
            return;
        }
    }
}

void fp_tick(fp_pub_t *p, uint64_t now)
{
    if (p->sim != NULL)
        fm_tick(p->sim, now);
}

unsigned fp_pending(const fp_pub_t *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < p->nconns; i++)
        n += p->conns[i].pending;
    return n;
}

uint64_t fp_failures(const fp_pub_t *p)
{
    return p->failures + (p->sim != NULL ? fm_failures(p->sim) : 0);
}

const pid_t *fp_pids(const fp_pub_t *p, unsigned *n)
{
    *n = p->pids != NULL ? p->n : 0;
    return p->pids;
}

void fp_free(fp_pub_t *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; p->pids != NULL && i < p->n; i++) {
        close(p->pipes[i]);
        kill(p->pids[i], SIGTERM);
    }
    for (unsigned i = 0; p->pids != NULL && i < p->n; i++)
        waitpid(p->pids[i], NULL, 0);
    for (unsigned i = 0; i < p->nconns; i++) {
        if (p->conns[i].fd >= 0)
            close(p->conns[i].fd);
        free(p->conns[i].out);
    }
    fm_free(p->sim);
    free(p->pipes);
    free(p->pids);
    free(p->conns);
    free(p);
}
