/* Command-line values shared by both programs. Each parser returns 0, or -1
 * with one line (no newline) written into err; main prints it and exits 2. */
#ifndef OPTS_H
#define OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Seconds with an optional fraction ("10", "0.25"), as milliseconds rounded
 * up, within [min_ms, max_ms]. */
int opts_seconds(const char *flag, const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *ms,
                 char *err, size_t errlen);

/** The shortest duration a flag takes, other than 0 (the contract: a
 * program may refuse values below 0.1 other than 0). */
#define OPTS_DURATION_MIN_MS 100
/** A duration flag: seconds as opts_seconds, fractions allowed, at least
 * 0.1 s, or 0 when `zero_ok`; at most max_ms. */
int opts_duration(const char *flag, const char *s, bool zero_ok, uint64_t max_ms, uint64_t *ms,
                  char *err, size_t errlen);

/** A decimal integer within [min, max]. */
int opts_uint(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
              size_t errlen);

/** "HOST:PORT" (IPv4 dotted quad, "localhost", or "[v6]"); port 0..65535. */
int opts_hostport(const char *flag, const char *s, char *host, size_t hostlen, uint16_t *port,
                  char *err, size_t errlen);

/** TCP keep-alive on a connection: first probe after `idle_s` s without
 * traffic, then every `intvl_s` s; dead after `count` unanswered probes. */
typedef struct opts_keepalive {
    bool on;
    unsigned idle_s, intvl_s, count;
} opts_keepalive_t;

/** --tcp-keepalive of both programs: "IDLE,INTVL,CNT" (whole seconds
 * 1..32767, probes 1..127: the kernel's limits), or "0" or "off" for none. */
int opts_keepalive(const char *flag, const char *s, opts_keepalive_t *ka, char *err, size_t errlen);
/** Seconds from the last byte heard until a dead peer is given up:
 * idle + intvl * count (0 when off). */
unsigned opts_keepalive_dead_s(const opts_keepalive_t *ka);

#endif
