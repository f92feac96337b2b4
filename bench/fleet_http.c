/* A tiny HTTP/1.1 client for the fleet bench: just enough to read the api's
 * replies (status line, Content-Length, Connection), plus /proc readers. */
#define _GNU_SOURCE /* memmem, IP_BIND_ADDRESS_NO_PORT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"

uint64_t fh_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Does header line [p, e) have name `name` (lower case, with colon)? Then
 * *val points past the colon and spaces. */
static bool header_is(const char *p, const char *e, const char *name, const char **val)
{
    size_t n = strlen(name);
    if ((size_t)(e - p) < n || strncasecmp(p, name, n) != 0)
        return false;
    p += n;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    *val = p;
    return true;
}

int fh_parse(const char *b, size_t n, fh_resp_t *r)
{
    const char *end = memmem(b, n, "\r\n\r\n", 4);
    if (end == NULL)
        return n > 65536 ? -1 : 0;
    if (n < 12 || memcmp(b, "HTTP/1.", 7) != 0)
        return -1;
    r->status = atoi(b + 9);
    r->close = b[7] == '0';
    bool has_len = false;
    size_t clen = 0;
    const char *p = memchr(b, '\n', (size_t)(end - b)) + 1, *v;
    while (p < end) {
        const char *e = memchr(p, '\r', (size_t)(end + 2 - p));
        if (header_is(p, e, "content-length:", &v)) {
            clen = strtoull(v, NULL, 10);
            has_len = true;
        } else if (header_is(p, e, "connection:", &v)) {
            r->close = strncasecmp(v, "close", 5) == 0;
        } else if (header_is(p, e, "transfer-encoding:", &v)) {
            return -1;
        }
        p = e + 2;
    }
    if (!has_len && r->status != 204 && r->status != 304 && r->status >= 200)
        return -1; /* a body up to close: the api never does that */
    r->body_off = (size_t)(end + 4 - b);
    r->body_len = clen;
    r->total = r->body_off + clen;
    return n >= r->total ? 1 : 0;
}

int fh_connect(const struct sockaddr_in *dst, in_addr_t src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0)
        return -1;
    if (src != 0) {
        /* Many source addresses pass the ~28k ephemeral ports of one. The port
         * is picked at connect() time, per destination. */
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = src};
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            goto fail;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0 && errno != EINPROGRESS)
        goto fail;
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

static int get_once(int fd, const char *path, char *out, size_t cap)
{
    char req[512], buf[1 << 16];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n)
        return -1;
    size_t len = 0;
    fh_resp_t r;
    int rc;
    while ((rc = fh_parse(buf, len, &r)) == 0) {
        ssize_t got = len < sizeof(buf) ? read(fd, buf + len, sizeof(buf) - len) : -1;
        if (got <= 0)
            return -1;
        len += (size_t)got;
    }
    if (rc < 0)
        return -1;
    size_t m = r.body_len < cap - 1 ? r.body_len : cap - 1;
    memcpy(out, buf + r.body_off, m);
    out[m] = 0;
    return r.status;
}

int fh_get(int *fd, const struct sockaddr_in *dst, const char *path, char *out, size_t cap)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (*fd < 0) {
            *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            struct timeval tv = {.tv_sec = 5};
            setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            if (*fd < 0 || connect(*fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0) {
                close(*fd);
                *fd = -1;
                continue;
            }
        }
        int st = get_once(*fd, path, out, cap);
        if (st > 0)
            return st;
        close(*fd);
        *fd = -1;
    }
    return -1;
}

long fh_proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kb;
}

double fh_proc_cpu(pid_t pid, double *user)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    /* Fields after the ")" that ends comm: state is 3rd, utime 14th, stime 15th. */
    const char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    if (user != NULL)
        *user = (double)ut / (double)sysconf(_SC_CLK_TCK);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

long fh_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}
