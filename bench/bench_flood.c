/* bench_flood: how much api memory clients without credentials can pin.
 *
 * N connections each send a `POST /send-stats` head without a camera token,
 * either with a huge Content-Length (--mode length) or with
 * `Transfer-Encoding: chunked` (--mode chunked), then body bytes as fast as
 * the api takes them, and never finish: a length body stops one byte short,
 * a chunked one never sends its last chunk. When no connection has moved a
 * byte for --settle seconds (or --hold seconds have passed), the api's VmRSS
 * and VmHWM are read and divided by N; then every connection is closed and
 * RSS read again. One such connection is run to its end first (unless
 * --no-warmup), so that what the api allocates once (its first reply, its
 * allocator's arenas) is not counted against each connection. The api is started with
 * --camera-secret-file and
 * --operator-token-file (files made here, removed at the end) unless --open.
 * With --first PATH each connection first sends `GET PATH` (pipelined before
 * the upload, in the same write): a connection that began with an operator
 * request, which api 1.1 handed to h2o for good (issue 20).
 * The last line, "RESULT k=v ...", is for scripts.
 *
 *   bench_flood --api build/bin/api [--connections N] [--mode length|chunked]
 *               [--length BYTES] [--hold S] [--settle S] [--open] [--first PATH]
 *               [--no-warmup] [--label NAME] [--api-arg ARG]...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fleet.h"

#define CHUNK_DATA 16384 /* payload bytes per chunk in --mode chunked */

static struct {
    const char *api, *label, *first, *api_args[24];
    int napi_args;
    unsigned conns;
    bool chunked, open, no_warmup;
    unsigned long long length;
    double hold, settle;
} O = {.label = "flood", .conns = 10, .length = 33000000, .hold = 20, .settle = 2};

typedef struct flood_conn {
    int fd;
    unsigned long long sent; /* body bytes */
    int status;              /* of the reply, 0 = none yet */
    bool done, closed;       /* all we mean to send is sent; the api hung up */
} flood_conn_t;

static struct {
    struct sockaddr_in dst;
    pid_t pid;
    char dir[64];
    buf_t body; /* one period of the body: record lines, or chunk frames */
    flood_conn_t *c;
    int ep;
    uint64_t last_progress;
    unsigned long long bytes;
    long peak_kb; /* VmRSS sampled during the flood */
    bool hwm_reset;
} S;

static void die(const char *msg)
{
    fprintf(stderr, "bench_flood: %s\n", msg);
    exit(1);
}

static void parse_flags(int argc, char **argv)
{
    static const struct option opts[] = {
        {"api", 1, 0, 'a'},       {"connections", 1, 0, 'n'}, {"mode", 1, 0, 'm'},
        {"length", 1, 0, 'L'},    {"hold", 1, 0, 'h'},        {"settle", 1, 0, 's'},
        {"open", 0, 0, 'o'},      {"label", 1, 0, 'l'},       {"api-arg", 1, 0, 'A'},
        {"no-warmup", 0, 0, 'w'}, {"first", 1, 0, 'f'},       {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'a')
            O.api = optarg;
        else if (c == 'n')
            O.conns = (unsigned)atoi(optarg);
        else if (c == 'm' && (strcmp(optarg, "length") == 0 || strcmp(optarg, "chunked") == 0))
            O.chunked = optarg[0] == 'c';
        else if (c == 'L')
            O.length = strtoull(optarg, NULL, 10);
        else if (c == 'h')
            O.hold = atof(optarg);
        else if (c == 's')
            O.settle = atof(optarg);
        else if (c == 'o')
            O.open = true;
        else if (c == 'w')
            O.no_warmup = true;
        else if (c == 'f')
            O.first = optarg;
        else if (c == 'l')
            O.label = optarg;
        else if (c == 'A' && O.napi_args < 20)
            O.api_args[O.napi_args++] = optarg;
        else
            die("bad flag (see the comment at the top of bench/bench_flood.c)");
    }
    if (O.api == NULL || O.conns == 0 || O.length < 2)
        die("give --api PATH; --connections N > 0; --length > 1");
}

static void write_file(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", S.dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) != 0)
        die("cannot write the credential files");
}

/* The api with credentials on, so that nothing this bench sends is allowed. */
static void start_api(void)
{
    static char secret[128], tokens[128];
    snprintf(S.dir, sizeof(S.dir), "/tmp/bench_flood.XXXXXX");
    if (mkdtemp(S.dir) == NULL)
        die("mkdtemp");
    write_file("secret", "bench-flood-secret-0123456789abcdef\n", secret, sizeof(secret));
    write_file("tokens", "bench-flood-operator-0123456789\n", tokens, sizeof(tokens));
    if (!O.open && O.napi_args + 4 <= 24) {
        O.api_args[O.napi_args++] = "--camera-secret-file";
        O.api_args[O.napi_args++] = secret;
        O.api_args[O.napi_args++] = "--operator-token-file";
        O.api_args[O.napi_args++] = tokens;
    }
    S.pid = fh_spawn_api(O.api, O.api_args, O.napi_args, &S.dst);
    unlink(secret); /* read at start: not needed any more */
    unlink(tokens);
    rmdir(S.dir);
    if (S.pid < 0)
        die("the api did not start");
    int fd = -1;
    char body[256];
    for (int i = 0; i < 100 && fh_get(&fd, &S.dst, "/healthz", body, sizeof(body)) != 200; i++)
        usleep(50000);
    if (fd >= 0)
        close(fd);
}

/* One period of what every connection sends, cycled: valid record lines (so
 * that an api which does read the body finds nothing wrong in it), framed
 * as chunks in --mode chunked. */
static void make_body(void)
{
    buf_t lines = BUF_INIT;
    while (lines.len < CHUNK_DATA)
        buf_printf(&lines,
                   "{\"description\":\"flood %06zu\",\"timestamp\":\"2026-11-28T06:44:29Z\"}\n",
                   lines.len);
    lines.len = CHUNK_DATA; /* a chunk may end inside a line: framing is not lines */
    for (int i = 0; i < 16; i++) {
        if (O.chunked)
            buf_printf(&S.body, "%x\r\n", CHUNK_DATA);
        buf_append(&S.body, lines.data, lines.len);
        if (O.chunked)
            buf_puts(&S.body, "\r\n");
    }
    buf_free(&lines);
}

static void open_one(flood_conn_t *c, unsigned i)
{
    char head[1024];
    int n = 0;
    if (O.first != NULL)
        n = snprintf(head, 512, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", O.first);
    n += snprintf(head + n, sizeof(head) - (size_t)n,
                  "POST /send-stats?camera=flood-%u HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Content-Type: application/x-ndjson\r\n",
                  i);
    if (O.chunked)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Transfer-Encoding: chunked\r\n\r\n");
    else
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %llu\r\n\r\n", O.length);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&S.dst, sizeof(S.dst)) != 0 ||
        write(c->fd, head, (size_t)n) != n)
        die("connect or head write failed");
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(S.ep, EPOLL_CTL_ADD, c->fd, &e);
}

static void hang_up(flood_conn_t *c)
{
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->closed = true;
    c->done = true;
}

/* Body bytes until the socket is full; a length body stops one byte short. */
static void pump(flood_conn_t *c)
{
    while (!c->done) {
        size_t off = (size_t)(c->sent % S.body.len), n = S.body.len - off;
        if (!O.chunked && c->sent + n > O.length - 1)
            n = (size_t)(O.length - 1 - c->sent);
        ssize_t w = n ? write(c->fd, S.body.data + off, n) : 0;
        if (w < 0 && errno == EAGAIN)
            return;
        if (w < 0) {
            hang_up(c); /* EPIPE, ECONNRESET: the api closed it */
            return;
        }
        c->sent += (size_t)w;
        S.bytes += (size_t)w;
        S.last_progress = fh_now_ns();
        if (!O.chunked && c->sent == O.length - 1) {
            c->done = true;
            struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(S.ep, EPOLL_CTL_MOD, c->fd, &e);
        }
    }
}

/* A reply (its status is kept) or the api hanging up. */
static void drain(flood_conn_t *c)
{
    char b[4096];
    for (;;) {
        ssize_t r = read(c->fd, b, sizeof(b) - 1);
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            hang_up(c);
            return;
        }
        b[r] = 0;
        if (c->status == 0 && strncmp(b, "HTTP/1.", 7) == 0 && r > 12)
            c->status = atoi(b + 9);
    }
}

/* Forgets the api's VmHWM so far (Linux >= 4.0), so that the peak is the
 * flood's and not the warm-up's; false if it cannot. */
static bool reset_hwm(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)S.pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, "5", 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Runs the flood until it settles or the hold time is over; seconds taken. */
static double flood(void)
{
    uint64_t t0 = fh_now_ns(), stop = t0 + (uint64_t)(O.hold * 1e9);
    S.last_progress = t0;
    while (fh_now_ns() < stop && fh_now_ns() - S.last_progress < (uint64_t)(O.settle * 1e9)) {
        struct epoll_event ev[256];
        int n = epoll_wait(S.ep, ev, 256, 50);
        for (int i = 0; i < n; i++) {
            flood_conn_t *c = ev[i].data.ptr;
            if (c->fd >= 0 && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                drain(c);
            if (c->fd >= 0 && (ev[i].events & EPOLLOUT))
                pump(c);
        }
        if (waitpid(S.pid, NULL, WNOHANG) == S.pid)
            die("the api died during the flood");
        long kb = fh_proc_kb(S.pid, "VmRSS");
        S.peak_kb = kb > S.peak_kb ? kb : S.peak_kb;
    }
    return (double)(fh_now_ns() - t0) / 1e9;
}

static void report(const long *rss, long hwm, double secs, double load_s)
{
    unsigned closed = 0, done = 0, st[600] = {0};
    unsigned long long most = 0;
    for (unsigned i = 0; i < O.conns; i++) {
        closed += S.c[i].closed;
        done += S.c[i].done && !S.c[i].closed;
        st[S.c[i].status >= 100 && S.c[i].status < 600 ? S.c[i].status : 0]++;
        most = S.c[i].sent > most ? S.c[i].sent : most;
    }
    buf_t codes = BUF_INIT;
    for (int i = 0; i < 600; i++)
        if (st[i])
            buf_printf(&codes, "%s%d=%u", codes.len ? "," : "", i, st[i]);
    double per = (double)(rss[1] - rss[0]) * 1024 / O.conns;
    double peak = (double)(hwm - rss[0]) * 1024 / O.conns;
    char load[2][64];
    snprintf(load[0], sizeof(load[0]), "%.2f", load_s);
    fh_loadavg(load[1], sizeof(load[1]));
    printf("flood %s: %u connections, %s, %s, loadavg at start %s, at end %s\n", O.label, O.conns,
           O.chunked ? "chunked (endless)" : "Content-Length",
           O.open ? "open api" : "no credentials", load[0], load[1]);
    if (!O.chunked)
        printf("  Content-Length %llu (one byte short is sent at most)\n", O.length);
    printf("  %.1f s until settled; body bytes sent %.1f MiB (most by one connection %.1f MiB)\n",
           secs, S.bytes / 1048576.0, most / 1048576.0);
    printf("  api RSS %.1f MiB before, %.1f MiB flooded (peak %.1f MiB), %.1f MiB after closing\n",
           rss[0] / 1024.0, rss[1] / 1024.0, hwm / 1024.0, rss[2] / 1024.0);
    printf("  per connection: %.1f KiB held, %.1f KiB peak\n", per / 1024, peak / 1024);
    printf("  replies (0 = none): %s; closed by the api %u; still sending %u; all sent %u\n",
           codes.data, closed, O.conns - closed - done, done);
    printf("RESULT label=%s mode=%s conns=%u length=%llu secs=%.1f sent_mib=%.1f rss0_kb=%ld "
           "rss1_kb=%ld hwm1_kb=%ld rss2_kb=%ld per_conn_b=%.0f peak_conn_b=%.0f closed=%u "
           "load0=%s codes=%s\n",
           O.label, O.chunked ? "chunked" : "length", O.conns, O.chunked ? 0 : O.length, secs,
           S.bytes / 1048576.0, rss[0], rss[1], hwm, rss[2], per, peak, closed, load[0],
           codes.data);
    buf_free(&codes);
}

int main(int argc, char **argv)
{
    parse_flags(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    fh_raise_nofile();
    double load0 = 0;
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf == NULL || fscanf(lf, "%lf", &load0) != 1)
        load0 = -1;
    if (lf != NULL)
        fclose(lf);
    start_api();
    make_body();
    S.ep = epoll_create1(EPOLL_CLOEXEC);
    S.c = xcalloc(O.conns + 1, sizeof(*S.c));
    if (!O.no_warmup) { /* connection O.conns: in the api's past, not counted */
        open_one(&S.c[O.conns], O.conns);
        flood();
        if (S.c[O.conns].fd >= 0)
            close(S.c[O.conns].fd);
        S.bytes = 0;
    }
    usleep(300000);
    S.hwm_reset = reset_hwm();
    long rss[3];
    rss[0] = fh_proc_kb(S.pid, "VmRSS");
    for (unsigned i = 0; i < O.conns; i++)
        open_one(&S.c[i], i);
    S.peak_kb = rss[0];
    double secs = flood();
    rss[1] = fh_proc_kb(S.pid, "VmRSS");
    long hwm = fh_proc_kb(S.pid, "VmHWM"); /* sees peaks between the samples */
    if (!S.hwm_reset || hwm < S.peak_kb)
        hwm = S.peak_kb;
    for (unsigned i = 0; i < O.conns; i++)
        if (S.c[i].fd >= 0)
            close(S.c[i].fd);
    sleep(1);
    rss[2] = fh_proc_kb(S.pid, "VmRSS");
    report(rss, hwm, secs, load0);
    kill(S.pid, SIGTERM);
    waitpid(S.pid, NULL, 0);
    return 0;
}
