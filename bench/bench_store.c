/* The camera's --store through the real camera binary: events per second
 * appended from stdin with --fsync always, 1 and never (from the first line
 * written to the camera's exit after EOF, so the final write and sync are
 * included), and the start-up time to recover 10,000 and 1,000,000 stored
 * events (exec to the camera's "events recovered" line).
 *   bench_store [--camera PATH] [--dir DIR] [--events N]
 * DIR (default /tmp) decides the filesystem whose syncs are measured. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eol.h"

#define RUNS 3

typedef struct child {
    pid_t pid;
    int in, err;
    char buf[8192];
    size_t len;
} child_t;

static const char *g_camera, *g_dir = "/tmp";

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Starts the camera with its stdin and stderr on pipes. */
static void spawn(child_t *c, char **argv)
{
    int in[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        exit(1);
    c->len = 0;
    c->pid = fork();
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(err[1], 2);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(err[1]);
    c->in = in[1];
    c->err = err[0];
}

/* Reads stderr until a line holds `needle` (copied to out). Returns 0, or
 * -1 after `timeout` s or at EOF. */
static int wait_line(child_t *c, const char *needle, char *out, size_t n, double timeout)
{
    double end = now() + timeout;
    for (;;) {
        char *nl;
        while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
            *nl = '\0';
            int hit = strstr(c->buf, needle) != NULL;
            if (hit)
                snprintf(out, n, "%.1000s", c->buf);
            c->len -= (size_t)(nl + 1 - c->buf);
            memmove(c->buf, nl + 1, c->len);
            if (hit)
                return 0;
        }
        struct pollfd p = {.fd = c->err, .events = POLLIN};
        int left = (int)((end - now()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0 || c->len == sizeof(c->buf))
            return -1;
        ssize_t r = read(c->err, c->buf + c->len, sizeof(c->buf) - c->len);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
}

static int finish(child_t *c)
{
    int st = 0;
    kill(c->pid, SIGTERM);
    waitpid(c->pid, &st, 0);
    close(c->err);
    if (c->in >= 0)
        close(c->in);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

static char *tmp_store(void)
{
    char *d = xmalloc(strlen(g_dir) + 32);
    sprintf(d, "%s/bench_store.XXXXXX", g_dir);
    if (mkdtemp(d) == NULL) {
        perror(d);
        exit(1);
    }
    return d;
}

/* One run: n stdin lines into a fresh store. Returns events per second. */
static double append_run(const char *policy, const buf_t *lines, uint64_t n, const char *retain)
{
    char *dir = tmp_store(), line[1024];
    char *argv[] = {(char *)g_camera,
                    "--source",
                    "stdin",
                    "--store",
                    dir,
                    "--fsync",
                    (char *)policy,
                    "--retain",
                    (char *)retain,
                    "--server",
                    "http://127.0.0.1:1",
                    "--log-level",
                    "info",
                    NULL};
    child_t c;

    spawn(&c, argv);
    if (wait_line(&c, "events recovered", line, sizeof(line), 10) != 0)
        exit(1);
    double t0 = now();
    for (size_t off = 0; off < lines->len;) {
        ssize_t w = write(c.in, lines->data + off, lines->len - off);
        if (w <= 0)
            exit(1);
        off += (size_t)w;
    }
    close(c.in);
    c.in = -1;
    if (wait_line(&c, "stdin closed", line, sizeof(line), 120) != 0 || finish(&c) != 0)
        exit(1);
    double dt = now() - t0;
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(dir);
    return (double)n / dt;
}

static void make_lines(buf_t *b, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        buf_printf(b, "bench event %08" PRIu64 " motion detected in zone 1\n", i);
}

static void bench_append(uint64_t n)
{
    static const char *policies[] = {"always", "1", "never"};
    static const char *retains[] = {"10000", "1000000"};
    buf_t lines = BUF_INIT;

    make_lines(&lines, n);
    printf("| --fsync | --retain | events | events/s (best of %d) | all runs |\n", RUNS);
    printf("|---|---:|---:|---:|---|\n");
    for (int r = 0; r < 2; r++) {
        for (int p = 0; p < 3; p++) {
            double best = 0, runs[RUNS];
            for (int i = 0; i < RUNS; i++) {
                runs[i] = append_run(policies[p], &lines, n, retains[r]);
                best = runs[i] > best ? runs[i] : best;
            }
            printf("| %s | %s | %" PRIu64 " | %.0f | %.0f %.0f %.0f |\n", policies[p], retains[r],
                   n, best, runs[0], runs[1], runs[2]);
            fflush(stdout);
        }
    }
    buf_free(&lines);
}

/* A store of n events as the camera writes it: segments of ceil(n/4). */
static void write_store(const char *dir, uint64_t n)
{
    uint64_t per = n / 4 + (n % 4 != 0);
    char stamp[28], desc[80], path[4096];
    buf_t b = BUF_INIT;

    for (uint64_t start = 0; start < n; start += per) {
        buf_reset(&b);
        for (uint64_t i = start; i < n && i < start + per; i++) {
            int len = snprintf(desc, sizeof(desc), "stored event %08" PRIu64 " vehicle entered", i);
            rfc3339_format_us(stamp, 1764000000 + (int64_t)(i / 1000000), (unsigned)(i % 1000000));
            eol_encode_record(&b, desc, (size_t)len, stamp, strlen(stamp));
        }
        snprintf(path, sizeof(path), "%s/%020" PRIu64 ".eol", dir, start);
        FILE *f = fopen(path, "w");
        if (f == NULL || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0)
            exit(1);
    }
    buf_free(&b);
}

/* Seconds from exec to the recovery line; *self_ms: what the camera says. */
static double recover_run(const char *dir, uint64_t n, double *self_ms)
{
    char retain[32], line[1024];
    snprintf(retain, sizeof(retain), "%" PRIu64, n);
    char *argv[] = {(char *)g_camera,     "--source",    "stdin", "--store",
                    (char *)dir,          "--retain",    retain,  "--server",
                    "http://127.0.0.1:1", "--log-level", "info",  NULL};
    child_t c;
    double t0 = now();

    spawn(&c, argv);
    if (wait_line(&c, "events recovered", line, sizeof(line), 60) != 0)
        exit(1);
    double dt = now() - t0;
    const char *in = strstr(line, " in ");
    *self_ms = in ? atof(in + 4) : -1;
    char started[1024];
    if (strstr(line, retain) == NULL || wait_line(&c, "starting", started, sizeof(started), 60) ||
        finish(&c) != 0) {
        fprintf(stderr, "recovery of %s events failed: %s\n", retain, line);
        exit(1);
    }
    return dt;
}

static void bench_recover(void)
{
    static const uint64_t sizes[] = {10000, 1000000};
    printf("\n| stored events | exec to recovered, best of %d | the camera's own count | all "
           "runs (s) |\n|---:|---:|---:|---|\n",
           RUNS);
    for (int k = 0; k < 2; k++) {
        char *dir = tmp_store();
        double best = 1e9, self = 0, runs[RUNS], s;
        write_store(dir, sizes[k]);
        for (int i = 0; i < RUNS; i++) {
            runs[i] = recover_run(dir, sizes[k], &s);
            if (runs[i] < best) {
                best = runs[i];
                self = s;
            }
        }
        printf("| %" PRIu64 " | %.3f s | %.0f ms | %.3f %.3f %.3f |\n", sizes[k], best, self,
               runs[0], runs[1], runs[2]);
        fflush(stdout);
        nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
        free(dir);
    }
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    char *self = xmemdup(argv[0], strlen(argv[0]));
    char *def = xmalloc(strlen(argv[0]) + 16);

    sprintf(def, "%s/camera", dirname(self));
    g_camera = def;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--camera") == 0)
            g_camera = argv[i + 1];
        else if (strcmp(argv[i], "--dir") == 0)
            g_dir = argv[i + 1];
        else if (strcmp(argv[i], "--events") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
    }
    signal(SIGPIPE, SIG_IGN);
    printf("camera --store: %s on %s, %" PRIu64 " stdin lines of 54 bytes per run\n\n", g_camera,
           g_dir, n);
    bench_append(n);
    bench_recover();
    free(self);
    free(def);
    return 0;
}
