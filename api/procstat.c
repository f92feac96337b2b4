/* The process metrics in Prometheus' standard names (the names its client
 * libraries use on Linux): resident and virtual memory, CPU seconds, open
 * and maximum file descriptors, start time. Read from /proc at each scrape;
 * a value that cannot be read is left out rather than shown wrong. A leaf
 * of metrics.c. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics.h"

static void gauge(buf_t *b, const char *name, const char *type, const char *help, double v)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", name, help, name, type, name, v);
}

/* The system's boot time (s since the epoch), from /proc/stat; 0 unknown. */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    double bt = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "btime %lf", &bt) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return bt;
}

/* /proc/self/stat: utime, stime (ticks), starttime (ticks after boot),
 * vsize (bytes), rss (pages). Fields counted after the command's ')'. */
static void from_stat(buf_t *b)
{
    char s[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f != NULL ? fread(s, 1, sizeof(s) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    s[n] = '\0';
    const char *p = strrchr(s, ')');
    unsigned long long ut, st, start, vsize;
    long long rss;
    if (p == NULL || sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
                            "%*d %*d %*d %llu %llu %lld",
                            &ut, &st, &start, &vsize, &rss) != 5)
        return;
    double tick = (double)sysconf(_SC_CLK_TCK), bt = boot_time();
    gauge(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.",
          (double)(ut + st) / tick);
    gauge(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          (double)rss * (double)sysconf(_SC_PAGESIZE));
    gauge(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          (double)vsize);
    if (bt > 0)
        gauge(b, "process_start_time_seconds", "gauge",
              "Start time of the process since unix epoch in seconds.", bt + (double)start / tick);
}

/* Entries of /proc/self/fd, less the one reading it; -1 unknown. */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = -1;
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

void procstat_text(buf_t *b)
{
    from_stat(b);
    long fds = open_fds();
    if (fds >= 0)
        gauge(b, "process_open_fds", "gauge", "Number of open file descriptors.", (double)fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        gauge(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
              rl.rlim_cur == RLIM_INFINITY ? 1e308 : (double)rl.rlim_cur);
}
