/* bench_follow: live followers (SSE) of our api against Nchan, with one
 * client for both (issue 22, "Goals"; scripts/bench_follow.sh runs it).
 *
 *   --target ours   starts `api` and `--channels` real cameras
 *                   (`--source stdin`), or with --sim-cameras 1 as many
 *                   simulated ones (follow_sim.c); followers GET
 *                   /logs?camera=cam-<i>&follow=1
 *   --target nchan  an nginx + Nchan already listening on --addr (worker
 *                   --pid); followers GET /sub?c=<i>, events are POSTed to
 *                   /pub?c=<i>
 *
 *   --scenario idle     --base followers, then up to --followers: the
 *                       server's RSS at both (the slope is the cost of one
 *                       idle follower) and its CPU while they idle
 *   --scenario load     --followers over --channels, --rate events/s per
 *                       channel for --duration s: latency (send -> receive,
 *                       one monotonic clock), lost/repeated, server CPU per
 *                       delivered event
 *
 * Prints a few lines and one "RESULT k=v ..." line. Every wait has a deadline. */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fleet.h"
#include "follow.h"

#define INFLIGHT 256 /* connects without a response head at once */
#define SEC 1000000000ull

typedef struct bf_args {
    const char *target, *scenario, *addr, *api, *camera, *label, *camlog;
    const char *api_args[32];
    int napi_args;
    unsigned pid, followers, base, channels, pub_conns, sim;
    double rate, duration, settle;
} bf_args_t;

typedef struct bf {
    bf_args_t a;
    int ep;
    struct sockaddr_in dst;
    pid_t pid, api;
    fs_set_t *subs;
    fp_pub_t *pub;
    uint64_t *published;
} bf_t;

typedef bool (*bf_cond_t)(bf_t *b, unsigned arg);

static void usage(void)
{
    fprintf(stderr, "usage: bench_follow --target ours|nchan --scenario idle|load "
                    "[--addr IP:PORT --pid PID] [--api BIN --camera BIN --api-arg A ...] "
                    "[--followers N] [--base N] [--channels N] [--rate R] [--duration S] "
                    "[--settle S] [--pub-conns N] [--camera-log FILE] [--sim-cameras 0|1] "
                    "[--label L]\n");
    exit(2);
}

/* The flags: each sets one field of bf_args_t. */
#define F_STR(name, f)                                                                             \
    {                                                                                              \
        name, 's', offsetof(bf_args_t, f)                                                          \
    }
#define F_UINT(name, f)                                                                            \
    {                                                                                              \
        name, 'u', offsetof(bf_args_t, f)                                                          \
    }
#define F_DBL(name, f)                                                                             \
    {                                                                                              \
        name, 'd', offsetof(bf_args_t, f)                                                          \
    }
static const struct {
    const char *name;
    char kind;
    size_t off;
} flags[] = {
    F_STR("--target", target),
    F_STR("--scenario", scenario),
    F_STR("--addr", addr),
    F_STR("--api", api),
    F_STR("--camera", camera),
    F_STR("--label", label),
    F_STR("--camera-log", camlog),
    F_UINT("--followers", followers),
    F_UINT("--base", base),
    F_UINT("--channels", channels),
    F_UINT("--pub-conns", pub_conns),
    F_UINT("--sim-cameras", sim),
    F_UINT("--pid", pid),
    F_DBL("--rate", rate),
    F_DBL("--duration", duration),
    F_DBL("--settle", settle),
};

static int set_flag(bf_args_t *a, const char *k, const char *v)
{
    if (strcmp(k, "--api-arg") == 0 && a->napi_args < 32) {
        a->api_args[a->napi_args++] = v;
        return 0;
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strcmp(k, flags[i].name) != 0)
            continue;
        char *f = (char *)a + flags[i].off;
        if (flags[i].kind == 's')
            *(const char **)f = v;
        else if (flags[i].kind == 'u')
            *(unsigned *)f = (unsigned)strtoul(v, NULL, 10);
        else
            *(double *)f = atof(v);
        return 0;
    }
    return -1;
}

static int parse_args(int argc, char **argv, bf_args_t *a)
{
    *a = (bf_args_t){.followers = 1000,
                     .base = 100,
                     .channels = 1,
                     .pub_conns = 4,
                     .rate = 100,
                     .duration = 10,
                     .settle = 2,
                     .label = "-",
                     .camlog = "/dev/null"};
    for (int i = 1; i < argc; i += 2)
        if (i + 1 >= argc || set_flag(a, argv[i], argv[i + 1]) != 0)
            return -1;
    bool ours = a->target != NULL && strcmp(a->target, "ours") == 0;
    bool nchan = a->target != NULL && strcmp(a->target, "nchan") == 0;
    if ((!ours && !nchan) || a->scenario == NULL || a->followers == 0 || a->channels == 0 ||
        (ours && (a->api == NULL || (a->camera == NULL && !a->sim))) ||
        (nchan && (a->addr == NULL || a->pid == 0)) ||
        (strcmp(a->scenario, "idle") == 0 && a->base >= a->followers))
        return -1;
    return 0;
}

/* One pass of the loop: up to `wait_ms` for events, each handed to its owner. */
static void bf_poll(bf_t *b, int wait_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(b->ep, evs, 256, wait_ms);
    for (int i = 0; i < n; i++) {
        uint64_t d = evs[i].data.u64;
        if (d & FS_TAG)
            fs_event(b->subs, d, evs[i].events, fh_now_ns());
        else if (d & (FP_TAG | FM_TAG))
            fp_event(b->pub, d, evs[i].events);
    }
    fp_tick(b->pub, fh_now_ns());
}

/* Runs the loop until cond holds or `secs` pass; whether cond held. */
static bool bf_until(bf_t *b, bf_cond_t cond, unsigned arg, double secs)
{
    uint64_t end = fh_now_ns() + (uint64_t)(secs * SEC);
    while (cond == NULL || !cond(b, arg)) {
        if (fh_now_ns() >= end)
            return false;
        bf_poll(b, 5);
    }
    return true;
}

static bool all_open(bf_t *b, unsigned upto)
{
    return fs_open(b->subs, upto, INFLIGHT) + fs_stats(b->subs)->connect_errs +
               fs_stats(b->subs)->refused >=
           upto;
}

static unsigned warm_gen;
static bool all_warm(bf_t *b, unsigned upto)
{
    return fs_warm(b->subs, upto, warm_gen) >= fs_open_count(b->subs);
}

/* Opens followers up to `upto`, then a warm-up event on every channel
 * reaches each of them: the streams are live end to end. */
static void bf_open(bf_t *b, unsigned upto, unsigned gen)
{
    uint64_t t0 = fh_now_ns();
    if (!bf_until(b, all_open, upto, 120))
        fprintf(stderr, "bench_follow: %u of %u followers open after 120 s\n",
                fs_open_count(b->subs), upto);
    uint64_t t1 = fh_now_ns();
    fp_warm(b->pub, gen);
    warm_gen = gen;
    if (!bf_until(b, all_warm, upto, 60))
        fprintf(stderr, "bench_follow: warm-up %u reached %u of %u followers in 60 s\n", gen,
                fs_warm(b->subs, upto, gen), upto);
    printf("  %u followers open in %.1f s, warm-up event to all in %.2f s\n",
           fs_open_count(b->subs), (double)(t1 - t0) / SEC, (double)(fh_now_ns() - t1) / SEC);
}

static double cameras_cpu(bf_t *b)
{
    unsigned n;
    const pid_t *pids = fp_pids(b->pub, &n);
    double sum = 0;
    for (unsigned i = 0; i < n; i++) {
        double c = fh_proc_cpu(pids[i], NULL);
        sum += c > 0 ? c : 0;
    }
    return sum;
}

static void mem_sample(pid_t pid, long kb[3])
{
    kb[0] = fh_proc_kb(pid, "VmRSS");
    kb[1] = fh_proc_kb(pid, "RssAnon");
    kb[2] = fh_proc_kb(pid, "RssShmem");
}

static int run_idle(bf_t *b, char *res, size_t cap)
{
    long m1[3], m2[3];
    bf_open(b, b->a.base, 1);
    bf_until(b, NULL, 0, b->a.settle);
    mem_sample(b->pid, m1);
    unsigned n1 = fs_open_count(b->subs);
    bf_open(b, b->a.followers, 2);
    bf_until(b, NULL, 0, b->a.settle);
    unsigned n2 = fs_open_count(b->subs);
    double c0 = fh_proc_cpu(b->pid, NULL);
    bf_until(b, NULL, 0, 5);
    double c1 = fh_proc_cpu(b->pid, NULL);
    mem_sample(b->pid, m2);
    long d = n2 > n1 ? (long)(n2 - n1) : 1;
    snprintf(res, cap,
             " base=%u open=%u rss1_kb=%ld rss2_kb=%ld anon1_kb=%ld anon2_kb=%ld shm1_kb=%ld "
             "shm2_kb=%ld per_follower_b=%ld anon_per_follower_b=%ld idle_cpu_pct=%.2f",
             n1, n2, m1[0], m2[0], m1[1], m2[1], m1[2], m2[2], (m2[0] - m1[0]) * 1024 / d,
             (m2[1] - m1[1]) * 1024 / d, (c1 - c0) / 5 * 100);
    return n2 == b->a.followers ? 0 : 1;
}

/* Publishes for --duration at --rate per channel, channels in turn. */
static uint64_t bf_publish(bf_t *b)
{
    double per_s = b->a.rate * b->a.channels;
    uint64_t total = (uint64_t)(per_s * b->a.duration), sent = 0, t0 = fh_now_ns();
    while (sent < total) {
        uint64_t due = (uint64_t)((double)(fh_now_ns() - t0) / SEC * per_s);
        for (; sent < total && sent < due; sent++)
            fp_send(b->pub, (unsigned)(sent % b->a.channels), b->published);
        bf_poll(b, 1);
    }
    return sent;
}

static bool all_complete(bf_t *b, unsigned upto)
{
    return fs_complete(b->subs, upto, b->published) >= fs_open_count(b->subs) &&
           fp_pending(b->pub) == 0;
}

/* Waits for the deliveries still on their way: until every follower has
 * every event, or 5 s pass without one more (then the rest are lost), at
 * most 120 s. */
static bool bf_drain(bf_t *b)
{
    uint64_t last = fs_stats(b->subs)->events, end = fh_now_ns() + 120 * SEC;
    while (!bf_until(b, all_complete, b->a.followers, 5)) {
        uint64_t now = fs_stats(b->subs)->events;
        if (now == last || fh_now_ns() >= end)
            return false;
        last = now;
    }
    return true;
}

static void lat_fields(bf_t *b, char *res, size_t cap)
{
    size_t n;
    uint32_t *l = fs_latencies(b->subs, &n);
#define PCT(p) (n ? l[(size_t)((double)(n - 1) * (p))] / 1000.0 : -1.0)
    snprintf(res, cap, " timed=%zu p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f", n,
             PCT(0.5), PCT(0.9), PCT(0.99), PCT(0.999), n ? l[n - 1] / 1000.0 : -1.0);
#undef PCT
}

/* The bench's own CPU (user + system), seconds. */
static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int run_load(bf_t *b, char *res, size_t cap)
{
    /* Twice, --settle apart: the first warm-up event may come with the
     * camera's first (whole) fetch, before its follow fetch runs. */
    bf_open(b, b->a.followers, 1);
    bf_until(b, NULL, 0, b->a.settle);
    bf_open(b, b->a.followers, 2);
    unsigned open0 = fs_open_count(b->subs), ncams;
    double c0 = fh_proc_cpu(b->pid, NULL), k0 = cameras_cpu(b), s0 = self_cpu();
    uint64_t ev0 = fs_stats(b->subs)->events, t0 = fh_now_ns();
    fs_record(b->subs, true);
    uint64_t sent = bf_publish(b);
    uint64_t t1 = fh_now_ns();
    bool done = bf_drain(b);
    uint64_t t2 = fh_now_ns();
    double c1 = fh_proc_cpu(b->pid, NULL), k1 = cameras_cpu(b), s1 = self_cpu();
    const fs_stats_t *st = fs_stats(b->subs);
    uint64_t got = st->events - ev0, want = sent / b->a.channels * open0;
    uint64_t lost = st->skipped + fs_tail_lost(b->subs, b->a.followers, b->published);
    char cam[32] = "-"; /* real cameras only */
    if (fp_pids(b->pub, &ncams) != NULL && got > 0)
        snprintf(cam, sizeof(cam), "%.2f", (k1 - k0) * 1e6 / (double)got);
    int k = snprintf(res, cap,
                     " open=%u published=%llu expected=%llu delivered=%llu lost=%llu "
                     "repeated=%llu drained=%d publish_s=%.1f drain_s=%.1f cpu_s=%.2f "
                     "cpu_pct=%.1f cpu_per_event_us=%.2f cam_cpu_per_event_us=%s "
                     "client_cpu_per_event_us=%.2f",
                     fs_open_count(b->subs), (unsigned long long)sent, (unsigned long long)want,
                     (unsigned long long)got, (unsigned long long)lost,
                     (unsigned long long)st->repeated, done, (double)(t1 - t0) / SEC,
                     (double)(t2 - t1) / SEC, c1 - c0, (c1 - c0) * 100 / ((double)(t2 - t0) / SEC),
                     got ? (c1 - c0) * 1e6 / (double)got : -1.0, cam,
                     got ? (s1 - s0) * 1e6 / (double)got : -1.0);
    lat_fields(b, res + k, cap - (size_t)k);
    return lost == 0 && st->repeated == 0 && open0 == b->a.followers ? 0 : 1;
}

/* The server side: the api and cameras (ours), or Nchan's publisher. */
static int bf_setup(bf_t *b)
{
    b->published = calloc(b->a.channels, sizeof(*b->published));
    const char *fmt = "/sub?c=%u";
    if (strcmp(b->a.target, "ours") == 0) {
        b->pid = b->api = fh_spawn_api(b->a.api, b->a.api_args, b->a.napi_args, &b->dst);
        if (b->api < 0)
            return -1;
        b->pub = b->a.sim ? fp_sim(b->ep, &b->dst, b->a.channels)
                          : fp_cameras(b->a.camera, &b->dst, b->a.channels, b->a.camlog);
        fmt = "/logs?camera=cam-%u&follow=1";
    } else {
        b->pid = (pid_t)b->a.pid;
        if (fh_parse_addr(b->a.addr, &b->dst) != 0)
            return -1;
        b->pub = fp_nchan(b->ep, &b->dst, b->a.channels, b->a.pub_conns);
    }
    b->subs = fs_new(b->ep, &b->dst, fmt, b->a.followers, b->a.channels);
    return b->pub != NULL && b->subs != NULL && b->published != NULL ? 0 : -1;
}

static void report(bf_t *b, const char *fields, int rc)
{
    const fs_stats_t *st = fs_stats(b->subs);
    char load[128];
    fh_loadavg(load, sizeof(load));
    char *sp = strchr(load, ' ');
    if (sp != NULL)
        *sp = 0;
    printf("RESULT target=%s scenario=%s label=%s followers=%u channels=%u rate=%g%s gap=%llu "
           "offline=%llu online=%llu end=%llu unparsed=%llu closed=%llu refused=%llu "
           "connect_errs=%llu pub_failures=%llu ok=%d load_end=%s\n",
           b->a.target, b->a.scenario, b->a.label, b->a.followers, b->a.channels, b->a.rate, fields,
           (unsigned long long)st->other[0], (unsigned long long)st->other[1],
           (unsigned long long)st->other[2], (unsigned long long)st->other[3],
           (unsigned long long)st->unparsed, (unsigned long long)st->closed,
           (unsigned long long)st->refused, (unsigned long long)st->connect_errs,
           (unsigned long long)fp_failures(b->pub), rc == 0, load);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static bf_t b;
    if (parse_args(argc, argv, &b.a) != 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    long nofile = fh_raise_nofile();
    if (nofile < (long)b.a.followers + b.a.channels + 64) {
        fprintf(stderr, "bench_follow: open-file limit %ld is too low for %u followers\n", nofile,
                b.a.followers);
        return 2;
    }
    b.ep = epoll_create1(EPOLL_CLOEXEC);
    if (bf_setup(&b) != 0) {
        fprintf(stderr, "bench_follow: could not start the %s side\n", b.a.target);
        return 1;
    }
    char fields[1024] = "";
    int rc = strcmp(b.a.scenario, "idle") == 0 ? run_idle(&b, fields, sizeof(fields))
                                               : run_load(&b, fields, sizeof(fields));
    report(&b, fields, rc);
    fs_free(b.subs);
    fp_free(b.pub);
    if (b.api > 0) {
        kill(b.api, SIGTERM);
        waitpid(b.api, NULL, 0);
    }
    free(b.published);
    return rc;
}
