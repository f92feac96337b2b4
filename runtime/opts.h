/* Command-line values shared by both programs. Each parser returns 0, or -1
 * with one line (no newline) written into err; main prints it and exits 2. */
#ifndef OPTS_H
#define OPTS_H

#include <stddef.h>
#include <stdint.h>

/** Seconds with an optional fraction ("10", "0.25"), as milliseconds rounded
 * up, within [min_ms, max_ms]. */
int opts_seconds(const char *flag, const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *ms,
                 char *err, size_t errlen);

/** A decimal integer within [min, max]. */
int opts_uint(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
              size_t errlen);

/** "HOST:PORT" (IPv4 dotted quad, "localhost", or "[v6]"); port 0..65535. */
int opts_hostport(const char *flag, const char *s, char *host, size_t hostlen, uint16_t *port,
                  char *err, size_t errlen);

#endif
