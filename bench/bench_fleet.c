/* bench_fleet: a camera fleet against one api process, on loopback.
 *
 * N simulated cameras (in ceil(N / per-proc) child processes, to stay under
 * each process's open-file limit) long-poll /control-channel and answer each
 * control message with a /send-stats of K records; then C operators fetch
 * /logs of random cameras back to back for a while. Reports the time until
 * the api's gauge shows every camera connected, the api's RSS before/after
 * and per idle camera, its CPU per phase, /logs throughput and latency, and
 * replies by status code. The last line, "RESULT k=v ...", is for scripts.
 *
 *   bench_fleet --api build/bin/api [--cameras N] [--operators C] [--records K]
 *               [--duration S] [--idle S] [--per-proc N] [--sources N]
 *               [--inflight N] [--label NAME] [--api-arg ARG]...
 *   bench_fleet --server 127.0.0.1:PORT --api-pid PID ...   (an api already running)
 *               [--metrics HOST:PORT]... [--watch LABEL=PID]...
 *
 * Behind a front door (scripts/bench_cluster.sh): --server is nginx, the
 * "connected" gauge is the sum over every --metrics address (each api), and
 * each --watch process (nginx's worker, every api) is sampled like the api,
 * its RSS and CPU summed per LABEL.
 */
#define _GNU_SOURCE /* memmem, IP_BIND_ADDRESS_NO_PORT */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fleet.h"

static struct {
    const char *api, *label, *api_args[16];
    int napi_args;
    unsigned cameras, operators, records, per_proc, sources, inflight;
    double duration, idle;
    pid_t api_pid;
    fl_config_t fl;
    struct sockaddr_in metrics[8];
    int nmetrics;
} O = {.label = "fleet",
       .cameras = 1000,
       .operators = 8,
       .records = 100,
       .per_proc = 10000,
       .sources = 4,
       .inflight = 256,
       .duration = 10,
       .idle = 3};

static int metrics_fd[8] = {-1, -1, -1, -1, -1, -1, -1, -1};

static void die(const char *msg)
{
    fprintf(stderr, "bench_fleet: %s\n", msg);
    exit(1);
}

static void parse_sockaddr(const char *s, struct sockaddr_in *sa)
{
    if (fh_parse_addr(s, sa) != 0)
        die("--server and --metrics want IPv4:PORT");
}

static void parse_addr(const char *s)
{
    parse_sockaddr(s, &O.fl.dst);
}

static void parse_flags(int argc, char **argv)
{
    static const struct option opts[] = {{"api", 1, 0, 'a'},       {"server", 1, 0, 's'},
                                         {"api-pid", 1, 0, 'p'},   {"cameras", 1, 0, 'n'},
                                         {"operators", 1, 0, 'c'}, {"records", 1, 0, 'k'},
                                         {"duration", 1, 0, 'd'},  {"idle", 1, 0, 'i'},
                                         {"per-proc", 1, 0, 'P'},  {"sources", 1, 0, 'S'},
                                         {"inflight", 1, 0, 'f'},  {"label", 1, 0, 'l'},
                                         {"api-arg", 1, 0, 'A'},   {"metrics", 1, 0, 'M'},
                                         {"watch", 1, 0, 'W'},     {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            O.api = optarg;
            break;
        case 's':
            parse_addr(optarg);
            break;
        case 'p':
            O.api_pid = atoi(optarg);
            break;
        case 'n':
            O.cameras = (unsigned)atoi(optarg);
            break;
        case 'c':
            O.operators = (unsigned)atoi(optarg);
            break;
        case 'k':
            O.records = (unsigned)atoi(optarg);
            break;
        case 'd':
            O.duration = atof(optarg);
            break;
        case 'i':
            O.idle = atof(optarg);
            break;
        case 'P':
            O.per_proc = (unsigned)atoi(optarg);
            break;
        case 'S':
            O.sources = (unsigned)atoi(optarg);
            break;
        case 'f':
            O.inflight = (unsigned)atoi(optarg);
            break;
        case 'l':
            O.label = optarg;
            break;
        case 'A':
            if (O.napi_args < 15)
                O.api_args[O.napi_args++] = optarg;
            break;
        case 'M':
            if (O.nmetrics == 8)
                die("at most 8 --metrics");
            parse_sockaddr(optarg, &O.metrics[O.nmetrics++]);
            break;
        case 'W':
            if (fw_add(optarg) != 0)
                die("--watch wants LABEL=PID (at most 16)");
            break;
        default:
            die("bad flag (see the comment at the top of bench/bench_fleet.c)");
        }
    }
    if ((O.api == NULL) == (O.api_pid == 0) || O.cameras == 0 || O.per_proc == 0)
        die("give --api PATH, or --server HOST:PORT with --api-pid PID; N > 0");
}

/* Starts the api on a free port and reads the port it prints. */
static void spawn_api(void)
{
    O.api_pid = fh_spawn_api(O.api, O.api_args, O.napi_args, &O.fl.dst);
    if (O.api_pid < 0)
        die("the api did not start");
}

/* The connected gauge, summed over every --metrics address (default: the
 * server itself); -1 if one cannot be read. */
static long gauge(void)
{
    char body[8192];
    long sum = 0;
    for (int i = 0; i < (O.nmetrics ? O.nmetrics : 1); i++) {
        const struct sockaddr_in *at = O.nmetrics ? &O.metrics[i] : &O.fl.dst;
        if (fh_get(&metrics_fd[i], at, "/metrics", body, sizeof(body)) != 200)
            return -1;
        const char *p = strstr(body, "\ncamlogs_cameras_connected ");
        if (p == NULL)
            return -1;
        sum += atol(p + 27);
    }
    return sum;
}

/* A camera process: connect its share, say so, serve until told to stop,
 * then send what it saw. */
static void camera_proc(int sock, unsigned first, unsigned n)
{
    fh_raise_nofile();
    O.fl.first_camera = first;
    fl_loop_t *l = fl_new(&O.fl, n, 0);
    fl_issue(l, fh_now_ns() + 300ull * 1000000000);
    if (write(sock, fl_stats(l), sizeof(fl_stats_t)) < 0)
        _exit(1);
    fl_run(l, fh_now_ns() + 3600ull * 1000000000, sock);
    char q;
    if (read(sock, &q, 1) < 0 || write(sock, fl_stats(l), sizeof(fl_stats_t)) < 0)
        _exit(1);
    _exit(0);
}

static void sum_stats(fl_stats_t *to, const fl_stats_t *s)
{
    for (int e = 0; e < EP__COUNT; e++)
        for (int i = 0; i < FL_CODES; i++)
            to->codes[e][i] += s->codes[e][i];
    to->opened += s->opened;
    to->connect_errs += s->connect_errs;
    to->drops += s->drops;
    to->first_polls += s->first_polls;
    if (s->issue_ns > to->issue_ns)
        to->issue_ns = s->issue_ns;
}

static int recv_stats(int sock, fl_stats_t *s, int timeout_ms)
{
    struct pollfd p = {.fd = sock, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    return read(sock, s, sizeof(*s)) == (ssize_t)sizeof(*s) ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

static void codes_str(buf_t *b, const char *name, const uint64_t *codes)
{
    buf_printf(b, "%s%s:", b->len ? " " : "", name);
    bool any = false;
    for (int i = 0; i < FL_CODES; i++) {
        if (codes[i] == 0)
            continue;
        buf_printf(b, "%s%d=%llu", any ? "," : "", i, (unsigned long long)codes[i]);
        any = true;
    }
    if (!any)
        buf_puts(b, "-");
}

/* System-wide kernel memory (socket structs are slab): both ends of every
 * loopback connection, and whatever else runs on the machine. */
static long meminfo_kb(const char *field)
{
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    FILE *f = fopen("/proc/meminfo", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = atol(line + n + 1);
    if (f != NULL)
        fclose(f);
    return kb;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    parse_flags(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    char load0[64]; /* before the bench adds its own load */
    fh_loadavg(load0, sizeof(load0));
    long nofile = fh_raise_nofile();
    if (O.api != NULL)
        spawn_api();
    O.fl.nsrc = O.sources;
    O.fl.cameras = O.cameras;
    O.fl.records = O.records;
    O.fl.inflight = O.inflight;
    for (int i = 0; i < 100 && gauge() < 0; i++)
        sleep_s(0.05);
    sleep_s(0.3);
    long rss0 = fh_proc_kb(O.api_pid, "VmRSS"), slab0 = meminfo_kb("Slab");
    double cpu0 = fh_proc_cpu(O.api_pid, NULL);
    fw_sample(FW_BEFORE);

    /* Connect the fleet. */
    unsigned nproc = (O.cameras + O.per_proc - 1) / O.per_proc;
    int *socks = xcalloc(nproc, sizeof(int));
    pid_t *kids = xcalloc(nproc, sizeof(pid_t));
    uint64_t t0 = fh_now_ns();
    for (unsigned p = 0; p < nproc; p++) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
        unsigned first = p * O.per_proc;
        unsigned n = p + 1 < nproc ? O.per_proc : O.cameras - first;
        if ((kids[p] = fork()) == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(sv[0]);
            camera_proc(sv[1], first, n);
        }
        close(sv[1]);
        socks[p] = sv[0];
    }
    long connected = 0;
    uint64_t deadline = t0 + (30ull + O.cameras / 200) * 1000000000ull;
    while ((connected = gauge()) < (long)O.cameras && fh_now_ns() < deadline)
        sleep_s(0.01);
    double connect_s = (double)(fh_now_ns() - t0) / 1e9;
    fl_stats_t cams = {0}, s;
    for (unsigned p = 0; p < nproc; p++)
        if (recv_stats(socks[p], &s, 60000) == 0)
            sum_stats(&cams, &s);
    sleep_s(1);
    long rss1 = fh_proc_kb(O.api_pid, "VmRSS"), slab1 = meminfo_kb("Slab");
    double cpu1 = fh_proc_cpu(O.api_pid, NULL);
    fw_sample(FW_IDLE);
    sleep_s(O.idle);
    double ucpu2, cpu2 = fh_proc_cpu(O.api_pid, &ucpu2);
    fw_sample(FW_IDLE_END);

    /* Operators. */
    O.fl.lat_cap = 1u << 24;
    O.fl.lat_ns = xmalloc(O.fl.lat_cap * sizeof(uint64_t));
    fl_loop_t *ops = fl_new(&O.fl, 0, O.operators);
    uint64_t t1 = fh_now_ns();
    fl_run(ops, t1 + (uint64_t)(O.duration * 1e9), -1);
    double load_s = (double)(fh_now_ns() - t1) / 1e9;
    double ucpu3, cpu3 = fh_proc_cpu(O.api_pid, &ucpu3);
    long rss2 = fh_proc_kb(O.api_pid, "VmRSS");
    fw_sample(FW_LOADED);
    long still = gauge();

    /* Stop the cameras, collect what they saw. */
    memset(&cams, 0, sizeof(cams));
    for (unsigned p = 0; p < nproc; p++) {
        if (write(socks[p], "q", 1) == 1 && recv_stats(socks[p], &s, 10000) == 0)
            sum_stats(&cams, &s);
        waitpid(kids[p], NULL, 0);
    }
    if (O.api != NULL) {
        kill(O.api_pid, SIGTERM);
        waitpid(O.api_pid, NULL, 0);
    }

    /* The first fifth of the run (each camera's first fetches grow its
     * connection's buffers) apart from the rest, before sorting all. */
    size_t nl = O.fl.lat_n, n5 = nl / 5;
    uint64_t *tmp = xmalloc((nl + 1) * sizeof(uint64_t));
    memcpy(tmp, O.fl.lat_ns, n5 * sizeof(uint64_t));
    qsort(tmp, n5, sizeof(uint64_t), cmp_u64);
    double p99_first = pct_ms(tmp, n5, .99);
    memcpy(tmp, O.fl.lat_ns + n5, (nl - n5) * sizeof(uint64_t));
    qsort(tmp, nl - n5, sizeof(uint64_t), cmp_u64);
    double p99_rest = pct_ms(tmp, nl - n5, .99);
    free(tmp);
    qsort(O.fl.lat_ns, nl, sizeof(uint64_t), cmp_u64);
    double per_cam = (double)(rss1 - rss0) * 1024.0 / (double)O.cameras;
    double cpu_idle = (cpu2 - cpu1) / O.idle * 100;
    buf_t codes = BUF_INIT;
    codes_str(&codes, "control", cams.codes[EP_CONTROL]);
    codes_str(&codes, "send-stats", cams.codes[EP_STATS]);
    codes_str(&codes, "logs", fl_stats(ops)->codes[EP_LOGS]);

    char load[64];
    fh_loadavg(load, sizeof(load));
    printf("fleet %s: %u cameras in %u process(es), %u operators, K=%u, nofile %ld, "
           "loadavg at start %s, at end %s\n",
           O.label, O.cameras, nproc, O.operators, O.records, nofile, load0, load);
    printf("  connected %ld/%u in %.2f s (first polls sent: %llu, connect errors %llu)\n",
           connected, O.cameras, connect_s, (unsigned long long)cams.first_polls,
           (unsigned long long)cams.connect_errs);
    printf("  api RSS %.1f MiB before, %.1f MiB with the fleet idle, %.1f MiB after load: "
           "%.0f B per idle camera\n",
           rss0 / 1024.0, rss1 / 1024.0, rss2 / 1024.0, per_cam);
    printf("  kernel slab +%.1f MiB = %.0f B per camera (both ends of each connection)\n",
           (slab1 - slab0) / 1024.0, (double)(slab1 - slab0) * 1024.0 / O.cameras);
    printf("  api CPU: %.1f us per camera connect, %.2f%% idle, %.1f%% under load\n",
           (cpu1 - cpu0) / O.cameras * 1e6, cpu_idle, (cpu3 - cpu2) / load_s * 100);
    double user_us = nl ? (ucpu3 - ucpu2) / nl * 1e6 : 0;
    printf("  /logs: %zu in %.1f s = %.0f/s, api CPU %.1f us each (%.1f user); latency ms p50 %.3f "
           "p90 %.3f p99 %.3f max %.3f\n",
           nl, load_s, nl / load_s, nl ? (cpu3 - cpu2) / nl * 1e6 : 0, user_us,
           pct_ms(O.fl.lat_ns, nl, .5), pct_ms(O.fl.lat_ns, nl, .9), pct_ms(O.fl.lat_ns, nl, .99),
           pct_ms(O.fl.lat_ns, nl, 1));
    printf("  /logs p99 over the first fifth of the run %.3f ms, over the rest %.3f ms\n",
           p99_first, p99_rest);
    printf("  replies by status (0 = transport error): %s; drops %llu; still connected %ld\n",
           codes.data, (unsigned long long)cams.drops, still);
    printf("  projection (linear in RSS per camera): 100k cameras %.0f MiB, 1M cameras %.1f GiB\n",
           (rss0 * 1024.0 + per_cam * 1e5) / 1048576, (rss0 * 1024.0 + per_cam * 1e6) / 1073741824);
    buf_t wtext = BUF_INIT, wres = BUF_INIT;
    fw_report(&wtext, &wres, O.cameras, O.idle, nl);
    fputs(wtext.data ? wtext.data : "", stdout);
    for (char *p = codes.data; *p; p++)
        if (*p == ' ')
            *p = ';';
    printf("RESULT label=%s cameras=%u operators=%u records=%u connected=%ld connect_s=%.2f "
           "rss0_kb=%ld rss1_kb=%ld rss2_kb=%ld per_cam_b=%.0f cpu_connect_us=%.1f "
           "cpu_idle_pct=%.2f cpu_load_pct=%.1f logs=%zu logs_per_s=%.0f cpu_per_logs_us=%.1f "
           "cpu_user_per_logs_us=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "p99_first_ms=%.3f p99_rest_ms=%.3f "
           "still=%ld slab_b=%.0f load0=%.2f load1=%.2f codes=%s%s\n",
           O.label, O.cameras, O.operators, O.records, connected, connect_s, rss0, rss1, rss2,
           per_cam, (cpu1 - cpu0) / O.cameras * 1e6, cpu_idle, (cpu3 - cpu2) / load_s * 100, nl,
           nl / load_s, nl ? (cpu3 - cpu2) / nl * 1e6 : 0, user_us, pct_ms(O.fl.lat_ns, nl, .5),
           pct_ms(O.fl.lat_ns, nl, .9), pct_ms(O.fl.lat_ns, nl, .99), pct_ms(O.fl.lat_ns, nl, 1),
           p99_first, p99_rest, still, (double)(slab1 - slab0) * 1024.0 / O.cameras, atof(load0),
           atof(load), codes.data, wres.data ? wres.data : "");
    buf_free(&codes);
    buf_free(&wtext);
    buf_free(&wres);
    fl_free(ops);
    free(O.fl.lat_ns);
    free(socks);
    free(kids);
    return connected == (long)O.cameras ? 0 : 1;
}
