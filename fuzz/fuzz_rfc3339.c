/* RFC 3339 date-time parser (runtime/rfc3339.h) against a reference written
 * here in plain C from PROTOCOL.md: a hand-written validator that reports
 * the first byte after which no valid date-time can follow, and a day count
 * from leap-year arithmetic (not the days_from_civil of the runtime).
 * Accept/reject, err_at, sec, leap and the fraction must agree; feeding byte
 * by byte must equal the whole parse; formatting the instant parses back.
 * Ordering: rfc3339_cmp against a reference that orders by (UTC minute,
 * second 0-60, fraction digits), which is UTC with leap seconds because
 * offsets are whole minutes; checked between the input, variants of it and
 * fixed anchors around a leap second. */
#include <string.h>

#include "common.h"
#include "rfc3339.h"

typedef struct ref_out {
    int64_t sec;
    uint32_t frac_off, frac_len;
    int64_t utc_min;       /* minutes since the epoch, offset applied */
    int second;            /* 0-60, as written */
    const uint8_t *digits; /* the fraction's digits as written, trailing zeros too */
    size_t ndigits;
} ref_out_t;

static int is_leap(int y)
{
    return y % 400 == 0 || (y % 4 == 0 && y % 100 != 0);
}

static int month_days(int y, int m)
{
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m];
}

/* Leap years in [0, y) for y >= 0: multiples of 4, less those of 100,
 * plus those of 400 (year 0 is one). */
static int64_t leaps_before(int64_t y)
{
    return (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}

/* Days from 1970-01-01 to y-m-d, 0 <= y <= 9999: whole years of 365 days,
 * one more per leap year in between, then the months. */
static int64_t ref_days(int y, int m, int d)
{
    static const int before[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = 365 * (int64_t)(y - 1970) + leaps_before(y) - leaps_before(1970);
    return days + before[m] + (m > 2 && is_leap(y)) + d - 1;
}

#define DIG(c) ((c) >= '0' && (c) <= '9')
/* Takes the next byte if cond holds for c; else reports where it fails. */
#define NEXT(cond)                                                                                 \
    do {                                                                                           \
        if (i >= n) {                                                                              \
            *err_at = n;                                                                           \
            return -1;                                                                             \
        }                                                                                          \
        c = s[i];                                                                                  \
        if (!(cond)) {                                                                             \
            *err_at = i;                                                                           \
            return -1;                                                                             \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)

static int ref_parse(const uint8_t *s, size_t n, ref_out_t *out, size_t *err_at)
{
    size_t i = 0;
    int c, y = 0, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;

    for (int k = 0; k < 4; k++) {
        NEXT(DIG(c));
        y = y * 10 + c - '0';
    }
    NEXT(c == '-');
    NEXT(c == '0' || c == '1');
    mo = (c - '0') * 10;
    NEXT(DIG(c) && mo + c - '0' >= 1 && mo + c - '0' <= 12);
    mo += c - '0';
    NEXT(c == '-');
    NEXT(c >= '0' && c <= '3' && (c - '0') * 10 <= month_days(y, mo));
    d = (c - '0') * 10;
    NEXT(DIG(c) && d + c - '0' >= 1 && d + c - '0' <= month_days(y, mo));
    d += c - '0';
    NEXT(c == 'T' || c == 't');
    NEXT(c >= '0' && c <= '2');
    h = (c - '0') * 10;
    NEXT(DIG(c) && h + c - '0' <= 23);
    h += c - '0';
    NEXT(c == ':');
    NEXT(c >= '0' && c <= '5');
    mi = (c - '0') * 10;
    NEXT(DIG(c));
    mi += c - '0';
    NEXT(c == ':');
    NEXT((c >= '0' && c <= '5') || (c == '6' && mi == 59));
    se = (c - '0') * 10;
    NEXT(se == 60 ? c == '0' : DIG(c));
    se += c - '0';
    out->frac_off = out->frac_len = 0;
    out->ndigits = 0;
    if (i < n && s[i] == '.') {
        size_t first = ++i;
        NEXT(DIG(c));
        while (i < n && DIG(s[i]))
            i++;
        out->digits = s + first;
        out->ndigits = i - first;
        for (size_t k = first; k < i; k++)
            if (s[k] != '0')
                out->frac_off = (uint32_t)first, out->frac_len = (uint32_t)(k + 1 - first);
    }
    NEXT(c == 'Z' || c == 'z' || c == '+' || c == '-');
    if (c == '+' || c == '-') {
        sign = c == '-' ? -1 : 1;
        NEXT(c >= '0' && c <= '2');
        oh = (c - '0') * 10;
        NEXT(DIG(c) && oh + c - '0' <= 23);
        oh += c - '0';
        NEXT(c == ':');
        NEXT(c >= '0' && c <= '5');
        om = (c - '0') * 10;
        NEXT(DIG(c));
        om += c - '0';
    }
    if (i < n) {
        *err_at = i;
        return -1;
    }
    out->sec = ref_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
    out->utc_min = ref_days(y, mo, d) * 1440 + h * 60 + mi - sign * (oh * 60 + om);
    out->second = se;
    return 0;
}

/* UTC order, leap seconds included: the minute, then the second within it
 * (a minute with second 60 simply has 61), then the fraction digit by digit,
 * missing digits being zeros. */
static int ref_cmp(const ref_out_t *a, const ref_out_t *b)
{
    if (a->utc_min != b->utc_min)
        return a->utc_min < b->utc_min ? -1 : 1;
    if (a->second != b->second)
        return a->second < b->second ? -1 : 1;
    size_t n = a->ndigits > b->ndigits ? a->ndigits : b->ndigits;
    for (size_t k = 0; k < n; k++) {
        int x = k < a->ndigits ? a->digits[k] : '0', y = k < b->ndigits ? b->digits[k] : '0';
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* Byte by byte through rfc3339_feed/finish must match the whole parse. */
static void check_feed(const uint8_t *s, size_t n, int rc, const rfc3339_t *whole, size_t err_at)
{
    rfc3339_parser_t p;
    size_t i = 0;

    rfc3339_init(&p);
    while (i < n && rfc3339_feed(&p, s[i]) == 0)
        i++;
    if (i < n) {
        FUZZ_CHECK(rc < 0 && err_at == i, "feed fails at %zu, parse: rc %d at %zu", i, rc, err_at);
        return;
    }
    int frc = rfc3339_finish(&p);
    FUZZ_CHECK(frc == rc, "finish %d vs parse %d", frc, rc);
    FUZZ_CHECK(rc < 0 || (p.out.sec == whole->sec && p.out.frac_off == whole->frac_off &&
                          p.out.frac_len == whole->frac_len && p.out.leap == whole->leap),
               "feed result differs from parse");
    FUZZ_CHECK(rc == 0 || err_at == n, "feed incomplete but parse err_at %zu", err_at);
}

/* Formatting the instant (ms precision) and parsing it back keeps sec. */
static void check_format(const char *s, const rfc3339_t *t)
{
    char buf[25];
    rfc3339_t back;
    size_t at;
    unsigned ms = 0;

    if (t->sec < -62167219200LL || t->sec > 253402300799LL)
        return; /* outside 0000..9999 after the offset: format_ms clamps */
    for (uint32_t k = 0; k < 3; k++)
        ms = ms * 10 + (k < t->frac_len ? (unsigned)(s[t->frac_off + k] - '0') : 0);
    rfc3339_format_ms(buf, t->sec, ms);
    FUZZ_CHECK(rfc3339_parse(buf, strlen(buf), &back, &at) == 0, "format gives %s", buf);
    FUZZ_CHECK(back.sec == t->sec, "format %s: sec %lld vs %lld", buf, (long long)back.sec,
               (long long)t->sec);
}

/* Zeros appended to the fraction (or ".000" added where there is none) name
 * the same instant: the copy must parse and compare equal, both ways. The
 * fraction, if any, starts after the fixed 19 bytes "YYYY-MM-DDTHH:MM:SS". */
static void check_zeros(const char *s, size_t n, const rfc3339_t *t)
{
    size_t end = 19;
    int has_frac = n > 19 && s[19] == '.';
    if (has_frac) {
        end = 20;
        while (end < n && s[end] >= '0' && s[end] <= '9')
            end++;
    }
    const char *pad = has_frac ? "000" : ".000";
    size_t k = strlen(pad);
    char *z = malloc(n + k);
    FUZZ_CHECK(z != NULL, "out of memory");
    memcpy(z, s, end);
    memcpy(z + end, pad, k);
    memcpy(z + end + k, s + end, n - end);
    rfc3339_t tz;
    size_t at;
    FUZZ_CHECK(rfc3339_parse(z, n + k, &tz, &at) == 0, "zeros appended: rejected at %zu", at);
    FUZZ_CHECK(tz.sec == t->sec && tz.frac_len == t->frac_len && tz.leap == t->leap,
               "zeros appended: other instant");
    FUZZ_CHECK(rfc3339_cmp(s, t, z, &tz) == 0 && rfc3339_cmp(z, &tz, s, t) == 0,
               "zeros appended: not equal");
    free(z);
}

/* A date-time parsed by the runtime and by the reference. */
typedef struct both {
    const char *s;
    size_t n;
    rfc3339_t t;
    ref_out_t r;
} both_t;

/* Parses s[0..n) both ways; returns 0 when both accept (they must agree). */
static int parse_both(const char *s, size_t n, both_t *b)
{
    size_t at, ref_at;
    b->s = s;
    b->n = n;
    int rc = rfc3339_parse(s, n, &b->t, &at);
    FUZZ_CHECK(rc == ref_parse((const uint8_t *)s, n, &b->r, &ref_at), "accept %.*s: %d", (int)n, s,
               rc);
    return rc;
}

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

/* rfc3339_cmp orders a and b as the reference does, both ways round. */
static void check_order(const both_t *a, const both_t *b)
{
    int want = ref_cmp(&a->r, &b->r);
    int ab = sgn(rfc3339_cmp(a->s, &a->t, b->s, &b->t));
    int ba = sgn(rfc3339_cmp(b->s, &b->t, a->s, &a->t));
    FUZZ_CHECK(ab == want && ba == -want, "cmp(%.*s, %.*s) = %d/%d, reference %d", (int)a->n, a->s,
               (int)b->n, b->s, ab, ba, want);
}

/* Instants around leap seconds, one of them written with an offset. */
static const char *const anchors[] = {
    "2016-12-31T23:59:59.999999999Z", "2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z",
    "2017-01-01T00:59:60.5+01:00",    "2017-01-01T00:00:00Z", "2017-01-01T00:00:00.2Z",
    "2025-03-10T13:59:60+05:30",      "2025-03-10T08:30:00Z", "1970-01-01T00:00:00Z",
};
#define NANCHORS (sizeof(anchors) / sizeof(anchors[0]))

/* The input with its seconds set to 59, 60 and 00, and without its fraction
 * (the ones both parsers accept), the input itself and the anchors: every
 * pair must order as the reference says. */
static void check_ordering(const char *s, size_t n)
{
    static const char secs[3][2] = {{'5', '9'}, {'6', '0'}, {'0', '0'}};
    both_t all[5 + NANCHORS];
    char *buf = malloc(4 * n);
    size_t k = 0;

    FUZZ_CHECK(buf != NULL, "out of memory");
    FUZZ_CHECK(parse_both(s, n, &all[k++]) == 0, "input rejected");
    for (size_t v = 0; v < 3; v++) {
        char *c = buf + v * n;
        memcpy(c, s, n);
        memcpy(c + 17, secs[v], 2);
        k += parse_both(c, n, &all[k]) == 0;
    }
    size_t end = 19; /* the fraction, if any, starts after "YYYY-MM-DDTHH:MM:SS" */
    while (end < n && (s[end] == '.' || (s[end] >= '0' && s[end] <= '9')))
        end++;
    char *c = buf + 3 * n;
    memcpy(c, s, 19);
    memcpy(c + 19, s + end, n - end);
    k += parse_both(c, 19 + n - end, &all[k]) == 0;
    for (size_t a = 0; a < NANCHORS; a++)
        FUZZ_CHECK(parse_both(anchors[a], strlen(anchors[a]), &all[k++]) == 0, "anchor %zu", a);
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++)
            check_order(&all[i], &all[j]);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rfc3339_t got = {0};
    ref_out_t want = {0};
    size_t got_at = (size_t)-1, want_at = (size_t)-1;

    int rc = rfc3339_parse((const char *)data, size, &got, &got_at);
    int wrc = ref_parse(data, size, &want, &want_at);
    FUZZ_CHECK(rc == wrc, "accept %d vs reference %d (reference err_at %zu)", rc, wrc, want_at);
    if (rc < 0) {
        FUZZ_CHECK(got_at == want_at, "err_at %zu vs reference %zu", got_at, want_at);
    } else {
        FUZZ_CHECK(got.sec == want.sec, "sec %lld vs reference %lld", (long long)got.sec,
                   (long long)want.sec);
        FUZZ_CHECK(got.frac_off == want.frac_off && got.frac_len == want.frac_len,
                   "fraction %u+%u vs reference %u+%u", got.frac_off, got.frac_len, want.frac_off,
                   want.frac_len);
        FUZZ_CHECK(got.leap == (want.second == 60), "leap %u, second %d", got.leap, want.second);
        check_format((const char *)data, &got);
        check_zeros((const char *)data, size, &got);
        check_ordering((const char *)data, size);
    }
    check_feed(data, size, rc, &got, got_at);
    return 0;
}
