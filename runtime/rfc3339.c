/* The parts of rfc3339.h that are not the machine (that is gen/rfc3339.c):
 * exact comparison and formatting. */
#include "rfc3339.h"

#include <string.h>

int rfc3339_cmp(const char *as, const rfc3339_t *a, const char *bs, const rfc3339_t *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    /* Same `sec`: the leap second is the one inserted just before it. */
    if (a->leap != b->leap)
        return a->leap ? -1 : 1;
    /* Both fractions end in a non-zero digit (trailing zeros were dropped),
     * so when the common prefix is equal the longer one is the later. */
    uint32_t n = a->frac_len < b->frac_len ? a->frac_len : b->frac_len;
    int c = n ? memcmp(as + a->frac_off, bs + b->frac_off, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (a->frac_len > b->frac_len) - (a->frac_len < b->frac_len);
}

/* Inverse of days_from_civil (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

/* Writes "YYYY-MM-DDTHH:MM:SS" for `sec` (already clamped); returns the end. */
static char *put_datetime(char *o, int64_t sec)
{
    int64_t days = (sec >= 0 ? sec : sec - 86399) / 86400, tod = sec - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    o = put2(put2(o, y / 100), y % 100);
    *o++ = '-';
    o = put2(o, m);
    *o++ = '-';
    o = put2(o, d);
    *o++ = 'T';
    o = put2(o, (int)(tod / 3600));
    *o++ = ':';
    o = put2(o, (int)(tod / 60 % 60));
    *o++ = ':';
    return put2(o, (int)(tod % 60));
}

/* Writes `sec`.`frac` with `digits` fraction digits and a 'Z', clamped to what
 * four year digits can say: 0000-01-01 .. 9999-12-31. */
static void format_frac(char *out, int64_t sec, uint32_t frac, int digits)
{
    const int64_t lo = -62167219200, hi = 253402300799;
    uint32_t max = digits == 3 ? 999 : 999999;
    if (frac > max)
        frac = max;
    if (sec < lo) {
        sec = lo;
        frac = 0;
    } else if (sec > hi) {
        sec = hi;
        frac = max;
    }
    char *o = put_datetime(out, sec);
    *o++ = '.';
    for (int i = digits - 1; i >= 0; i--, frac /= 10)
        o[i] = (char)('0' + frac % 10);
    o += digits;
    *o++ = 'Z';
    *o = '\0';
}

void rfc3339_format_ms(char out[25], int64_t sec, unsigned msec)
{
    format_frac(out, sec, msec, 3);
}

void rfc3339_format_us(char out[28], int64_t sec, unsigned usec)
{
    format_frac(out, sec, usec, 6);
}
