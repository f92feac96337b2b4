/* bench_hold: the api's memory per held poll, over plain HTTP or TLS.
 *
 * N connections each send one `GET /control-channel?camera=hold-<i>` and
 * then stay silent, as an idle camera does between control messages. With
 * --tls-cert/--tls-key the api serves TLS and each connection does a full
 * handshake first, offering one ALPN protocol (--alpn http/1.1, the
 * default, or h2: then the poll is an HTTP/2 stream). After the last poll
 * and --hold seconds, the api's `camlogs_polls_held` gauge must show N; its
 * VmRSS growth divided by N is the cost of one held poll. The bench keeps
 * only each connection's descriptor (its TLS state is freed once the poll
 * is written: nothing more is read), so its own memory stays small. The api
 * is run with --poll-timeout 0 (polls held until the camera leaves), in
 * open mode. With --rounds R the fleet is closed, seen gone from the gauge,
 * and held again R times: RSS that grows from round to round is memory the
 * api did not give back. The last line, "RESULT k=v ...", is for scripts.
 *
 *   bench_hold --api build/bin/api [--cameras N] [--tls-cert F --tls-key F]
 *              [--alpn http/1.1|h2] [--hold S] [--rounds R] [--label NAME]
 *              [--api-arg ARG]...
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "fleet.h"

static struct {
    const char *api, *label, *cert, *key, *alpn, *api_args[24];
    int napi_args;
    unsigned cameras, rounds;
    double hold;
} O = {.label = "hold", .alpn = "http/1.1", .cameras = 1000, .rounds = 1, .hold = 2};

static struct {
    struct sockaddr_in dst;
    pid_t pid;
    SSL_CTX *ctx;
    int *fds;
} S;

static void die(const char *msg)
{
    fprintf(stderr, "bench_hold: %s\n", msg);
    exit(1);
}

static void parse_flags(int argc, char **argv)
{
    static const struct option opts[] = {{"api", 1, 0, 'a'},      {"cameras", 1, 0, 'n'},
                                         {"tls-cert", 1, 0, 'c'}, {"tls-key", 1, 0, 'k'},
                                         {"alpn", 1, 0, 'p'},     {"hold", 1, 0, 'h'},
                                         {"label", 1, 0, 'l'},    {"api-arg", 1, 0, 'A'},
                                         {"rounds", 1, 0, 'r'},   {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'a')
            O.api = optarg;
        else if (c == 'n')
            O.cameras = (unsigned)atoi(optarg);
        else if (c == 'c')
            O.cert = optarg;
        else if (c == 'k')
            O.key = optarg;
        else if (c == 'p' && (strcmp(optarg, "http/1.1") == 0 || strcmp(optarg, "h2") == 0))
            O.alpn = optarg;
        else if (c == 'h')
            O.hold = atof(optarg);
        else if (c == 'l')
            O.label = optarg;
        else if (c == 'r')
            O.rounds = (unsigned)atoi(optarg);
        else if (c == 'A' && O.napi_args < 16)
            O.api_args[O.napi_args++] = optarg;
        else
            die("bad flag (see the comment at the top of bench/bench_hold.c)");
    }
    if (O.api == NULL || O.cameras == 0 || O.rounds == 0 || (O.cert == NULL) != (O.key == NULL))
        die("give --api PATH, N > 0, and --tls-cert with --tls-key or neither");
}

static int connect_blocking(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&S.dst, sizeof(S.dst)) != 0)
        die("connect failed");
    return fd;
}

/* A handshake on fd offering `alpn`; dies unless the api picked it. */
static SSL *tls_open(int fd, const char *alpn)
{
    unsigned char wire[16];
    size_t n = strlen(alpn);
    wire[0] = (unsigned char)n;
    memcpy(wire + 1, alpn, n);
    SSL *ssl = SSL_new(S.ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_alpn_protos(ssl, wire, (unsigned)n + 1);
    if (SSL_connect(ssl) != 1) {
        ERR_print_errors_fp(stderr);
        die("TLS handshake failed");
    }
    const unsigned char *got;
    unsigned glen;
    SSL_get0_alpn_selected(ssl, &got, &glen);
    if (glen != n || memcmp(got, alpn, n) != 0)
        die("the api did not select the offered ALPN protocol");
    return ssl;
}

static int io_write(SSL *ssl, int fd, const void *p, size_t n)
{
    return ssl ? SSL_write(ssl, p, (int)n) == (int)n : write(fd, p, n) == (ssize_t)n;
}

/* GET path over HTTP/1.1 (through TLS when on); status or -1. */
static int get(const char *path, char *out, size_t cap)
{
    int fd = connect_blocking();
    SSL *ssl = S.ctx ? tls_open(fd, "http/1.1") : NULL;
    char req[256], b[1 << 16];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    size_t len = 0;
    fh_resp_t r;
    int rc = io_write(ssl, fd, req, (size_t)n) ? 0 : -1;
    while (rc == 0 && (rc = fh_parse(b, len, &r)) == 0) {
        int got = ssl ? SSL_read(ssl, b + len, (int)(sizeof(b) - len))
                      : (int)read(fd, b + len, sizeof(b) - len);
        rc = got > 0 && len + (size_t)got < sizeof(b) ? 0 : -1;
        len += got > 0 ? (size_t)got : 0;
    }
    if (rc > 0) {
        size_t m = r.body_len < cap - 1 ? r.body_len : cap - 1;
        memcpy(out, b + r.body_off, m);
        out[m] = 0;
    }
    SSL_free(ssl);
    close(fd);
    return rc > 0 ? r.status : -1;
}

static long polls_held(void)
{
    char body[16384];
    if (get("/metrics", body, sizeof(body)) != 200)
        return -1;
    const char *p = strstr(body, "\ncamlogs_polls_held ");
    return p ? atol(p + 20) : -1;
}

/* The poll as one HTTP/2 HEADERS frame (HPACK: indexed :method GET and
 * :scheme https, literal :path and :authority, no Huffman) after the
 * preface, an empty SETTINGS and the ACK of the api's SETTINGS. */
static size_t h2_poll(unsigned i, unsigned char *o)
{
    static const unsigned char pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                       "\0\0\0\4\0\0\0\0\0"  /* SETTINGS */
                                       "\0\0\0\4\1\0\0\0\0"; /* SETTINGS ACK */
    char path[96];
    int pl = snprintf(path, sizeof(path), "/control-channel?camera=hold-%u", i);
    size_t n = sizeof(pre) - 1, h = n + 9, k = h;
    memcpy(o, pre, n);
    o[k++] = 0x82; /* :method GET */
    o[k++] = 0x87; /* :scheme https */
    o[k++] = 0x04; /* :path, literal without indexing */
    o[k++] = (unsigned char)pl;
    memcpy(o + k, path, (size_t)pl);
    k += (size_t)pl;
    o[k++] = 0x01; /* :authority */
    o[k++] = 9;
    memcpy(o + k, "127.0.0.1", 9);
    k += 9;
    size_t fl = k - h;
    unsigned char fh[9] = {0,
                           (unsigned char)(fl >> 8),
                           (unsigned char)fl,
                           1 /* HEADERS */,
                           5 /* END_STREAM | END_HEADERS */,
                           0,
                           0,
                           0,
                           1 /* stream 1 */};
    memcpy(o + n, fh, 9);
    return k;
}

/* Connection i: handshake if TLS, the poll, then only its descriptor kept. */
static int hold_one(unsigned i)
{
    int fd = connect_blocking();
    SSL *ssl = S.ctx ? tls_open(fd, O.alpn) : NULL;
    unsigned char req[256];
    size_t n;
    if (strcmp(O.alpn, "h2") == 0 && ssl)
        n = h2_poll(i, req);
    else
        n = (size_t)snprintf(
            (char *)req, sizeof(req),
            "GET /control-channel?camera=hold-%u HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", i);
    if (!io_write(ssl, fd, req, n))
        die("writing a poll failed");
    SSL_free(ssl); /* sends nothing: the connection stays as it is */
    return fd;
}

static void start_api(void)
{
    O.api_args[O.napi_args++] = "--poll-timeout";
    O.api_args[O.napi_args++] = "0";
    O.api_args[O.napi_args++] = "--max-polls";
    static char maxp[16];
    snprintf(maxp, sizeof(maxp), "%u", O.cameras + 10);
    O.api_args[O.napi_args++] = maxp;
    if (O.cert) {
        O.api_args[O.napi_args++] = "--tls-cert";
        O.api_args[O.napi_args++] = O.cert;
        O.api_args[O.napi_args++] = "--tls-key";
        O.api_args[O.napi_args++] = O.key;
        S.ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(S.ctx, SSL_VERIFY_NONE, NULL); /* our own api on loopback */
        SSL_CTX_set_mode(S.ctx, SSL_MODE_RELEASE_BUFFERS);
    }
    S.pid = fh_spawn_api(O.api, O.api_args, O.napi_args, &S.dst);
    if (S.pid < 0)
        die("the api did not start");
    char body[256];
    for (int i = 0; i < 100 && get("/healthz", body, sizeof(body)) != 200; i++)
        usleep(50000);
}

/* One round: every poll held, the gauge and RSS read, every connection
 * closed and the api seen to let go of them. */
static long hold_round(long *held, double *secs, long *rss_after)
{
    uint64_t t0 = fh_now_ns();
    for (unsigned i = 0; i < O.cameras; i++)
        S.fds[i] = hold_one(i);
    *secs = (double)(fh_now_ns() - t0) / 1e9;
    usleep((useconds_t)(O.hold * 1e6));
    *held = polls_held();
    long rss = fh_proc_kb(S.pid, "VmRSS");
    for (unsigned i = 0; i < O.cameras; i++)
        close(S.fds[i]);
    for (int i = 0; i < 200 && polls_held() != 0; i++)
        usleep(50000);
    *rss_after = fh_proc_kb(S.pid, "VmRSS");
    return rss;
}

int main(int argc, char **argv)
{
    parse_flags(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    fh_raise_nofile();
    char load[2][64];
    fh_loadavg(load[0], sizeof(load[0]));
    start_api();
    usleep(300000);
    long rss0 = fh_proc_kb(S.pid, "VmRSS"), held, last = 0, rss1 = 0, after = 0, held1 = 0;
    S.fds = xcalloc(O.cameras, sizeof(int));
    double secs, secs1 = 0;
    for (unsigned r = 0; r < O.rounds; r++) {
        last = hold_round(&held, &secs, &after);
        if (r == 0)
            rss1 = last, held1 = held, secs1 = secs;
        else if (held != held1)
            held1 = -1; /* a later round fell short */
    }
    fh_loadavg(load[1], sizeof(load[1]));
    kill(S.pid, SIGTERM);
    waitpid(S.pid, NULL, 0);
    double per = (double)(rss1 - rss0) * 1024 / O.cameras;
    double growth = (double)(last - rss1) * 1024 / O.cameras;
    const char *mode = O.cert ? (strcmp(O.alpn, "h2") == 0 ? "tls-h2" : "tls-http1") : "plain";
    printf("hold %s: %u polls, %s, %u round(s), loadavg at start %s, at end %s\n", O.label,
           O.cameras, mode, O.rounds, load[0], load[1]);
    printf("  sent in %.1f s; polls held per the api %ld\n", secs1, held1);
    printf("  api RSS %.1f MiB before, %.1f MiB holding: %.0f B per held poll; last round "
           "%.1f MiB (%+.0f B per poll); %.1f MiB after the last close\n",
           rss0 / 1024.0, rss1 / 1024.0, per, last / 1024.0, growth, after / 1024.0);
    printf("RESULT label=%s mode=%s polls=%u rounds=%u held=%ld secs=%.1f rss0_kb=%ld "
           "rss1_kb=%ld per_poll_b=%.0f rss_last_kb=%ld growth_b=%.0f rss_closed_kb=%ld "
           "load0=%.2f\n",
           O.label, mode, O.cameras, O.rounds, held1, secs1, rss0, rss1, per, last, growth, after,
           atof(load[0]));
    return held1 == (long)O.cameras ? 0 : 1;
}
