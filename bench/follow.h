/* bench_follow's pieces (issue 22's benchmark against Nchan): SSE
 * subscribers on one epoll loop (follow_sse.c) and the publishers that
 * stamp each event with its send time (follow_pub.c: lines into real
 * cameras' stdin, or POSTs to Nchan's publisher). Test-side code only. */
#ifndef FOLLOW_H
#define FOLLOW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One event's marker, in the data of its SSE event (Nchan: the whole data;
 * ours: the description): "bench c=<channel> s=<seq> t=<monotonic ns>", and
 * "bench c=<channel> w=<generation>" for the warm-up events that are not
 * measured. Seqs start at 1 per channel. */

/* Subscribers (follow_sse.c) --------------------------------------------------------- */

typedef struct fs_stats {
    uint64_t events;   /* measured events delivered (repeats included) */
    uint64_t repeated; /* a seq at or below one already seen (or out of order) */
    uint64_t skipped;  /* seqs jumped over (lost unless they come late) */
    uint64_t other[4]; /* gap, offline, online, end events */
    uint64_t unparsed; /* message events without a marker, over-long lines */
    uint64_t closed;   /* connections the server closed */
    uint64_t refused;  /* a non-200 status */
    uint64_t connect_errs;
} fs_stats_t;

typedef struct fs_set fs_set_t;

/** `n` subscribers of `path_fmt` (a printf format taking the channel as %u)
 * at dst, follower i on channel i % channels; registered on epoll fd `ep`
 * with data.u64 = index | FS_TAG. NULL on allocation failure. */
fs_set_t *fs_new(int ep, const struct sockaddr_in *dst, const char *path_fmt, unsigned n,
                 unsigned channels);
#define FS_TAG (1ull << 62)
/** Starts connects for followers [0, upto), at most `inflight` without a
 * response head at once; call again (from the loop) until fs_open returns
 * upto. Returns how many have their 200 head. */
unsigned fs_open(fs_set_t *s, unsigned upto, unsigned inflight);
/** One epoll event for a subscriber. `now` is the monotonic receive time. */
void fs_event(fs_set_t *s, uint64_t data, uint32_t events, uint64_t now);
/** Followers [0, upto) still open and holding warm-up generation >= gen. */
unsigned fs_warm(const fs_set_t *s, unsigned upto, unsigned gen);
/** Followers [0, upto) whose channel's events 1..published[ch] all came. */
unsigned fs_complete(const fs_set_t *s, unsigned upto, const uint64_t *published);
/** Missing events at the tail: sum over followers of published - newest seen. */
uint64_t fs_tail_lost(const fs_set_t *s, unsigned upto, const uint64_t *published);
/** Start recording latencies (events before are counted but not timed). */
void fs_record(fs_set_t *s, bool on);
/** The recorded latencies in microseconds, sorted; *n their count. */
uint32_t *fs_latencies(fs_set_t *s, size_t *n);
const fs_stats_t *fs_stats(const fs_set_t *s);
unsigned fs_open_count(const fs_set_t *s);
void fs_free(fs_set_t *s);

/* Simulated cameras (follow_sim.c) --------------------------------------------------- */

typedef struct fm_set fm_set_t;
#define FM_TAG (1ull << 60)
/** `cameras` simulated numbering cameras cam-<i> polling dst, their two
 * connections each on `ep` with data.u64 = (2 i + upload) | FM_TAG. */
fm_set_t *fm_new(int ep, const struct sockaddr_in *dst, unsigned cameras);
/** A new event of camera `cam` (line: its description and a newline). */
int fm_publish(fm_set_t *s, unsigned cam, const char *line, int len);
void fm_event(fm_set_t *s, uint64_t data, uint32_t events);
/** Ends the follow uploads whose `follow` seconds have passed. */
void fm_tick(fm_set_t *s, uint64_t now);
/** Refused requests and broken connections so far. */
uint64_t fm_failures(const fm_set_t *s);
void fm_free(fm_set_t *s);

/* Publishers (follow_pub.c) ------------------------------------------------------------ */

typedef struct fp_pub fp_pub_t;

/** Ours: `cameras` real cameras `camera --server http://dst --id cam-<i>
 * --source stdin`, each stdin a pipe we write lines into; stderr to
 * `log` (a path, "/dev/null" for none). NULL and a message on failure. */
fp_pub_t *fp_cameras(const char *camera, const struct sockaddr_in *dst, unsigned cameras,
                     const char *log);
/** Ours with simulated cameras (follow_sim.c) instead of real ones. */
fp_pub_t *fp_sim(int ep, const struct sockaddr_in *dst, unsigned cameras);
/** Nchan: POST /pub?c=<channel> over `conns` keep-alive connections to dst,
 * registered on `ep` with data.u64 = index | FP_TAG. */
fp_pub_t *fp_nchan(int ep, const struct sockaddr_in *dst, unsigned channels, unsigned conns);
#define FP_TAG (1ull << 61)
/** Publishes warm-up generation `gen` on every channel. */
void fp_warm(fp_pub_t *p, unsigned gen);
/** Publishes seq published[ch] + 1 on channel ch, stamped now; -1 if it
 * could not be written (a full pipe, a broken connection). */
int fp_send(fp_pub_t *p, unsigned ch, uint64_t *published);
/** One epoll event for a Nchan publisher or a simulated camera. */
void fp_event(fp_pub_t *p, uint64_t data, uint32_t events);
/** Time passes (the simulated cameras' follow uploads end). */
void fp_tick(fp_pub_t *p, uint64_t now);
/** Messages written but not answered yet (Nchan), and failures so far. */
unsigned fp_pending(const fp_pub_t *p);
uint64_t fp_failures(const fp_pub_t *p);
/** Process ids of the cameras (ours), to sum their CPU; *n the count. */
const pid_t *fp_pids(const fp_pub_t *p, unsigned *n);
/** Stops the cameras (SIGTERM, wait) or closes the connections. */
void fp_free(fp_pub_t *p);

#endif
