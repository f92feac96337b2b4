/* The bench programs' pieces: a tiny HTTP/1.1 client and /proc readers
 * (fleet_http.c), starting the api under test (fleet_spawn.c), and the epoll
 * loop that drives bench_fleet's simulated cameras and operators
 * (fleet_loop.c). Test-side code only: nothing here is linked into the api. */
#ifndef FLEET_H
#define FLEET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* HTTP (fleet_http.c) ------------------------------------------------------------ */

typedef struct fh_resp {
    int status;
    size_t body_off, body_len, total; /* total = head + body bytes */
    bool close;                       /* Connection: close */
} fh_resp_t;

/** Parses one response at the start of b[0..n): 1 complete, 0 need more,
 * -1 not HTTP (or chunked, which the api never sends). */
int fh_parse(const char *b, size_t n, fh_resp_t *r);
/** A non-blocking TCP socket bound to `src` (0 = any; port chosen at connect
 * time) with its connect to `dst` started. -1 and errno on failure. */
int fh_connect(const struct sockaddr_in *dst, in_addr_t src);
/** Blocking GET on *fd (reconnects when *fd < 0 or the connection broke);
 * the body goes to out (NUL-terminated, cut to cap). Status or -1. */
int fh_get(int *fd, const struct sockaddr_in *dst, const char *path, char *out, size_t cap);
uint64_t fh_now_ns(void);
/** A "Field:   N kB" line of /proc/PID/status, in kB; -1 if absent. */
long fh_proc_kb(pid_t pid, const char *field);
/** utime + stime of /proc/PID/stat in seconds (utime alone in *user unless
 * NULL); -1 on error. */
double fh_proc_cpu(pid_t pid, double *user);
/** Raises RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long fh_raise_nofile(void);

/* The api under test (fleet_spawn.c) ------------------------------------------------ */

/** "IPv4:PORT" into *dst; -1 if it is not that. */
int fh_parse_addr(const char *s, struct sockaddr_in *dst);
/** Starts `api --listen 127.0.0.1:0 --quiet ARGS...` (killed when the bench
 * dies), waits for its "listening on" line and fills *dst. Pid or -1. */
pid_t fh_spawn_api(const char *api, const char *const *args, int nargs, struct sockaddr_in *dst);
/** /proc/loadavg's line, or "?". */
void fh_loadavg(char *out, size_t cap);

/* The loop (fleet_loop.c) ---------------------------------------------------------- */

enum { EP_CONTROL, EP_STATS, EP_LOGS, EP__COUNT };
#define FL_CODES 600 /* status codes 100..599; 0 = transport error */

/** What a loop saw; sent whole from a camera process to the parent. */
typedef struct fl_stats {
    uint64_t codes[EP__COUNT][FL_CODES];
    uint64_t opened;       /* connections whose connect completed */
    uint64_t connect_errs; /* connects that failed */
    uint64_t drops;        /* connections the server closed or reset */
    uint64_t first_polls;  /* cameras that sent their first poll */
    uint64_t issue_ns;     /* time to issue every camera's first poll */
} fl_stats_t;

typedef struct fl_config {
    struct sockaddr_in dst;
    unsigned nsrc;         /* source addresses 127.0.0.2 .. 127.0.0.(1+nsrc) */
    unsigned first_camera; /* cam-<first> .. cam-<first+n-1> */
    unsigned cameras;      /* total in the fleet (operators pick among them) */
    unsigned records;      /* K: records per /send-stats */
    unsigned inflight;     /* connects in progress at once */
    uint64_t *lat_ns;      /* operators: one latency per /logs, up to lat_cap */
    size_t lat_cap, lat_n;
} fl_config_t;

typedef struct fl_loop fl_loop_t;

/** A loop of `ncams` cameras (from cfg->first_camera) or `nops` operators. */
fl_loop_t *fl_new(fl_config_t *cfg, unsigned ncams, unsigned nops);
/** Runs until `until_ns` (monotonic) or, if ctl >= 0, until ctl is readable;
 * operators stop sending at `until_ns`. */
void fl_run(fl_loop_t *l, uint64_t until_ns, int ctl);
/** Runs until every camera has sent its first poll (or failed). */
void fl_issue(fl_loop_t *l, uint64_t until_ns);
fl_stats_t *fl_stats(fl_loop_t *l);
void fl_free(fl_loop_t *l);

/* Other processes to watch (fleet_watch.c) --------------------------------------- */

/* The bench's phase points: before the fleet, the fleet idle, the end of the
 * idle period, after the /logs load. */
enum { FW_BEFORE, FW_IDLE, FW_IDLE_END, FW_LOADED, FW_PHASES };

/** "LABEL=PID"; 0, or -1 if malformed or too many. */
int fw_add(const char *spec);
void fw_sample(int phase);
/** One text line and RESULT fields (" LABEL_x=...") per label, summed. */
void fw_report(buf_t *text, buf_t *result, unsigned cameras, double idle_s, size_t nlogs);

#endif
