/* RFC 3339 section 5.6 date-time, as PROTOCOL.md restricts it: calendar
 * validity, lower-case t/z allowed, fraction of any length, second 60 only at
 * minute 59, offset hh 00-23 and mm 00-59. The grammar is spec/rfc3339.rl. */
#ifndef RFC3339_H
#define RFC3339_H

#include <stddef.h>
#include <stdint.h>

/** An instant on the UTC time line, leap seconds included. The fraction is
 * kept exactly, as the digits of the string it was parsed from:
 * `frac_off`/`frac_len` locate them in that string, with trailing zeros
 * already left out. A leap second hh:59:60 has the `sec` of the second it
 * precedes (hh+1:00:00) and `leap` set: it comes after every instant of
 * hh:59:59 and before that next second (rfc3339_cmp). */
typedef struct rfc3339 {
    int64_t sec; /* seconds since 1970-01-01T00:00:00Z, offset applied */
    uint32_t frac_off, frac_len;
    uint32_t leap; /* 1: second 60, the extra second just before `sec` */
} rfc3339_t;

/** Incremental parser state; feed the string byte by byte (the EOL decoder
 * feeds it the decoded bytes of a JSON string). */
typedef struct rfc3339_parser {
    int cs;
    uint32_t n; /* bytes fed so far */
    int year, mon, mday, hour, min, sec, off_sign, off_h, off_m;
    rfc3339_t out;
} rfc3339_parser_t;

void rfc3339_init(rfc3339_parser_t *p);
/** Feeds one byte. Returns 0, or -1 when the bytes fed so far are no longer a
 * prefix of a valid date-time (that byte is the culprit). */
int rfc3339_feed(rfc3339_parser_t *p, unsigned char c);
/** Ends the input. Returns 0 and fills p->out, or -1 if incomplete. */
int rfc3339_finish(rfc3339_parser_t *p);

/** Parses a whole string. Returns 0 and fills *out, or -1 with *err_at set to
 * the offset of the first byte that makes it invalid (len when incomplete). */
int rfc3339_parse(const char *s, size_t len, rfc3339_t *out, size_t *err_at);

/** Compares two instants, each with the string it was parsed from:
 * <0, 0, >0 as a is earlier, equal, later, in UTC order (a leap second after
 * the second before it, before the one after it; fractions within it as
 * usual). */
int rfc3339_cmp(const char *as, const rfc3339_t *a, const char *bs, const rfc3339_t *b);

/** Writes `sec`.`msec` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes + NUL). */
void rfc3339_format_ms(char out[25], int64_t sec, unsigned msec);
/** Writes `sec`.`usec` as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (27 bytes + NUL),
 * clamped like rfc3339_format_ms (usec above 999999 counts as 999999). */
void rfc3339_format_us(char out[28], int64_t sec, unsigned usec);

#endif
