/* RFC 3339 parser: accepted and rejected strings with exact error offsets, a
 * calendar sweep against timegm(), byte-at-a-time vs whole string, exact
 * comparison and formatting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rfc3339.h"
#include "check.h"

static int64_t tg(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm);
}

/* Parses s byte by byte: returns 0 with *out, or -1 with *err_at, like
 * rfc3339_parse. */
static int parse_bytewise(const char *s, size_t len, rfc3339_t *out, size_t *err_at)
{
    rfc3339_parser_t p;
    rfc3339_init(&p);
    for (size_t i = 0; i < len; i++) {
        if (rfc3339_feed(&p, (unsigned char)s[i]) < 0) {
            *err_at = i;
            return -1;
        }
    }
    if (rfc3339_finish(&p) < 0) {
        *err_at = len;
        return -1;
    }
    *out = p.out;
    return 0;
}

/* Parses both ways, checks they agree, returns the whole-string result. */
static int parse2(const char *s, rfc3339_t *out, size_t *err_at)
{
    size_t len = strlen(s), e1 = 9999, e2 = 9999;
    rfc3339_t o1 = {0}, o2 = {0};
    int r1 = rfc3339_parse(s, len, &o1, &e1), r2 = parse_bytewise(s, len, &o2, &e2);
    CHECK(r1 == r2, "%s: whole %d, bytewise %d", s, r1, r2);
    if (r1 == 0 && r2 == 0)
        CHECK(o1.sec == o2.sec && o1.frac_off == o2.frac_off && o1.frac_len == o2.frac_len &&
                  o1.leap == o2.leap,
              "%s: results differ", s);
    else if (r1 < 0 && r2 < 0)
        CHECK(e1 == e2, "%s: err_at whole %zu, bytewise %zu", s, e1, e2);
    *out = o1;
    *err_at = e1;
    return r1;
}

static void accept(const char *s, int64_t sec, unsigned frac_off, unsigned frac_len)
{
    rfc3339_t t;
    size_t e = 0;
    int r = parse2(s, &t, &e);
    CHECK(r == 0, "%s rejected at %zu", s, e);
    if (r != 0)
        return;
    CHECK(t.sec == sec, "%s: sec %lld, want %lld", s, (long long)t.sec, (long long)sec);
    CHECK(t.frac_len == frac_len && (frac_len == 0 || t.frac_off == frac_off),
          "%s: frac %u+%u, want %u+%u", s, t.frac_off, t.frac_len, frac_off, frac_len);
    /* Second 60 (bytes 17-18 of the fixed layout) and only it is a leap second. */
    unsigned leap = s[17] == '6';
    CHECK(t.leap == leap, "%s: leap %u, want %u", s, t.leap, leap);
}

static void reject(const char *s, size_t at)
{
    rfc3339_t t;
    size_t e = 0;
    int r = parse2(s, &t, &e);
    CHECK(r < 0 && e == at, "%s: r=%d err_at=%zu, want %zu", s, r, e, at);
}

static void test_accept(void)
{
    accept("1970-01-01T00:00:00Z", 0, 0, 0);
    accept("2000-01-01T00:00:00Z", 946684800, 0, 0);
    accept("0000-01-01T00:00:00Z", -62167219200LL, 0, 0);
    accept("9999-12-31T23:59:59Z", 253402300799LL, 0, 0);
    accept("2026-11-28T06:44:29.120Z", tg(2026, 11, 28, 6, 44, 29), 20, 2);
    accept("2026-11-28t06:44:29z", tg(2026, 11, 28, 6, 44, 29), 0, 0);
    accept("2024-02-29T12:00:00Z", tg(2024, 2, 29, 12, 0, 0), 0, 0);
    accept("2000-02-29T12:00:00Z", tg(2000, 2, 29, 12, 0, 0), 0, 0);
    accept("2025-04-30T00:00:00Z", tg(2025, 4, 30, 0, 0, 0), 0, 0);
    accept("2025-01-31T00:00:00Z", tg(2025, 1, 31, 0, 0, 0), 0, 0);
    /* Offsets: local time minus offset. */
    accept("2025-06-01T12:00:00+05:30", tg(2025, 6, 1, 6, 30, 0), 0, 0);
    accept("2025-06-01T12:00:00-23:59", tg(2025, 6, 2, 11, 59, 0), 0, 0);
    accept("2025-06-01T12:00:00+00:00", tg(2025, 6, 1, 12, 0, 0), 0, 0);
    accept("2025-06-01T12:00:00-00:00", tg(2025, 6, 1, 12, 0, 0), 0, 0);
    accept("2025-06-01T00:00:00+23:59", tg(2025, 5, 31, 0, 1, 0), 0, 0);
    /* Leap second: the second it precedes, flagged; at any hour with minute 59. */
    accept("2016-12-31T23:59:60Z", tg(2017, 1, 1, 0, 0, 0), 0, 0);
    accept("2017-01-01T00:59:60+01:00", tg(2017, 1, 1, 0, 0, 0), 0, 0);
    /* Offsets are whole minutes: local hh:59:60 is second 60 of a UTC minute. */
    accept("2017-01-01T05:59:60+05:30", tg(2017, 1, 1, 0, 30, 0), 0, 0);
    accept("2016-12-31T15:59:60-08:00", tg(2017, 1, 1, 0, 0, 0), 0, 0);
    accept("2025-03-10T07:59:60.5Z", tg(2025, 3, 10, 8, 0, 0), 20, 1);
    /* Fractions: trailing zeros dropped, any length. */
    accept("2025-01-01T00:00:00.500Z", tg(2025, 1, 1, 0, 0, 0), 20, 1);
    accept("2025-01-01T00:00:00.000Z", tg(2025, 1, 1, 0, 0, 0), 0, 0);
    accept("2025-01-01T00:00:00.0Z", tg(2025, 1, 1, 0, 0, 0), 0, 0);
    accept("2025-01-01T00:00:00.000000000000000000000000000001Z", tg(2025, 1, 1, 0, 0, 0), 20, 30);
    accept("2025-01-01T00:00:00.1234567890123456789012345678900000+01:00",
           tg(2024, 12, 31, 23, 0, 0), 20, 29);
}

static void test_reject(void)
{
    reject("", 0);
    reject("2025", 4);
    reject("2025-02-29T00:00:00Z", 9); /* the '9': 2025-02-2 is a valid prefix */
    reject("2024-02-30T00:00:00Z", 8); /* February never has a day 3x */
    reject("1900-02-29T00:00:00Z", 9);
    reject("2025-04-31T00:00:00Z", 9);
    reject("2025-01-32T00:00:00Z", 9);
    reject("2025-01-00T00:00:00Z", 9);
    reject("2025-01-4", 8);
    reject("2024-13-01T00:00:00Z", 6);
    reject("2024-00-01T00:00:00Z", 6);
    reject("2024-2-01T00:00:00Z", 5);
    reject("2024-01-01T24:00:00Z", 12);
    reject("2024-01-01T30:00:00Z", 11);
    reject("2024-01-01T23:60:00Z", 14);
    reject("2024-01-01T23:58:60Z", 17); /* 6x seconds only at minute 59 */
    reject("2024-01-01T23:59:61Z", 18);
    reject("2024-01-01T23:59:70Z", 17);
    reject("2024-01-01 23:59:00Z", 10);
    reject("2024-01-01T23:59:00", 19);
    reject("2024-01-01T23:59:00.Z", 20);
    reject("2024-01-01T23:59:00.", 20);
    reject("2024-01-01T23:59:00+24:00", 21);
    reject("2024-01-01T23:59:00+23:60", 23);
    reject("2024-01-01T23:59:00+2300", 22);
    reject("2024-01-01T23:59:00+23:0", 24);
    reject("2024-01-01T23:59:00ZZ", 20);
    reject("2024-01-01T23:59:00Z ", 20);
    reject("2024-01-01T23:59:00z\n", 20);
    reject("+2024-01-01T23:59:00Z", 0);
    reject("20245-01-01T23:59:00Z", 4);
    reject("2024-01-01T23:59Z", 16);
    reject("2024-01-01T23:59:00,5Z", 19);
}

static int dim(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d[m - 1] + (m == 2 && leap);
}

/* Every day 1999-01-01..2101-12-31 against timegm; the day just past each
 * month's end is rejected where its first impossible digit is. */
static void test_sweep(void)
{
    char s[64];
    int bad = 0;
    for (int y = 1999; y <= 2101; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= dim(y, m) + 1; d++) {
                int h = (d * 7) % 24, mi = (m * 13 + d) % 60, se = (y + d) % 60;
                snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, se);
                rfc3339_t t;
                size_t e = 0;
                int r = parse2(s, &t, &e);
                if (d <= dim(y, m)) {
                    int ok = r == 0 && t.sec == tg(y, m, d, h, mi, se);
                    if (!ok)
                        printf("sweep: %s accepted=%d sec=%lld\n", s, r == 0, (long long)t.sec);
                    bad += !ok;
                    continue;
                }
                /* Past the end: 29 Feb or 31 -> the units digit; 30 Feb and 32 -> the '3'
                 * unless 3 is a valid tens digit for the month (32 in a 31-day month). */
                size_t at = (d == 30 && m == 2) ? 8 : 9;
                if (r == 0 || e != at)
                    printf("sweep: %s accepted=%d err_at=%zu\n", s, r == 0, e);
                bad += r == 0 || e != at;
            }
        }
    }
    CHECK(bad == 0, "%d sweep mismatches", bad);
}

/* True when s[0..k) can be completed into a valid date-time with the tail of
 * one of a few valid strings (a witness that it is a valid prefix). */
static int completable(const char *s, size_t k)
{
    static const char *tails[] = {
        "2024-02-29T23:59:60.5+23:59", "2023-01-31T00:00:00Z",   "2023-01-01T19:09:59-00:00",
        "2023-04-30T12:30:45z",        "2023-01-10T20:50:00.0Z", "2023-12-01t03:00:00.25+00:00",
    };
    char buf[128];
    rfc3339_t t;
    size_t e;
    memcpy(buf, s, k);
    buf[k] = 'Z'; /* a complete string, or one inside a fraction */
    if (rfc3339_parse(buf, k, &t, &e) == 0 || rfc3339_parse(buf, k + 1, &t, &e) == 0)
        return 1;
    for (size_t j = 0; j < sizeof(tails) / sizeof(tails[0]); j++) {
        size_t n = strlen(tails[j]);
        if (k > n)
            continue;
        memcpy(buf + k, tails[j] + k, n - k);
        if (rfc3339_parse(buf, n, &t, &e) == 0)
            return 1;
    }
    return 0;
}

/* Every single-byte substitution of valid strings: feeding byte by byte
 * agrees with the whole-string parse (parse2 checks that), the error is not
 * before the change, and what precedes the error is a valid prefix. */
static void test_mutations(void)
{
    const char *base[] = {"2024-02-29T23:59:60.25-08:30", "1999-12-31t00:00:00z",
                          "2023-04-30T10:59:59.5+00:00"};
    char s[64];
    int bad = 0;
    for (size_t k = 0; k < sizeof(base) / sizeof(base[0]); k++) {
        size_t n = strlen(base[k]);
        for (size_t i = 0; i < n; i++) {
            for (int c = 1; c < 256; c++) {
                memcpy(s, base[k], n + 1);
                s[i] = (char)c;
                rfc3339_t t;
                size_t e;
                if (parse2(s, &t, &e) == 0)
                    continue;
                /* A witness past the error byte would prove the error late. */
                if (e >= i && completable(s, e) && (e == n || !completable(s, e + 1)))
                    continue;
                printf("mutation: %s err_at=%zu (change at %zu)\n", s, e, i);
                bad++;
            }
        }
    }
    CHECK(bad == 0, "%d mutation mismatches", bad);
}

static int cmp(const char *a, const char *b)
{
    rfc3339_t ta, tb;
    size_t e;
    if (rfc3339_parse(a, strlen(a), &ta, &e) < 0 || rfc3339_parse(b, strlen(b), &tb, &e) < 0)
        return 99;
    return rfc3339_cmp(a, &ta, b, &tb);
}

static void test_cmp(void)
{
    CHECK(cmp("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z") == 0, "equal");
    CHECK(cmp("2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00.500000Z") == 0, "zeros");
    CHECK(cmp("2025-01-01T00:00:00Z", "2025-01-01T00:00:00.000Z") == 0, "no fraction");
    CHECK(cmp("2025-01-01T00:00:00.1Z", "2025-01-01T00:00:00.10000000000000000001Z") < 0, "long");
    CHECK(cmp("2025-01-01T00:00:00.10000000000000000001Z", "2025-01-01T00:00:00.1Z") > 0, "long");
    CHECK(cmp("2025-01-01T00:00:00.09Z", "2025-01-01T00:00:00.1Z") < 0, "digitwise");
    CHECK(cmp("2025-01-01T00:00:00.999999Z", "2025-01-01T00:00:01Z") < 0, "carry");
    CHECK(cmp("2025-01-01T05:30:00+05:30", "2025-01-01T00:00:00Z") == 0, "offset");
    CHECK(cmp("2025-01-01T05:30:00.1+05:30", "2025-01-01T00:00:00Z") > 0, "offset frac");
    CHECK(cmp("1969-12-31T23:59:59.5Z", "1970-01-01T00:00:00Z") < 0, "negative");
}

/* Instants in UTC order, leap seconds included: each row is one instant
 * written in several ways (offsets, case, trailing zeros); every string must
 * equal the others of its row and order against every other row by position,
 * both ways round. */
static const char *const utc_order[][4] = {
    {"2016-12-31T23:59:59Z", "2017-01-01T00:59:59+01:00", "2016-12-31T15:59:59-08:00"},
    {"2016-12-31T23:59:59.9Z", "2016-12-31t23:59:59.900z"},
    {"2016-12-31T23:59:59.999999999Z", "2017-01-01T05:29:59.999999999+05:30"},
    {"2016-12-31T23:59:60Z", "2017-01-01T00:59:60+01:00", "2016-12-31T15:59:60-08:00",
     "2017-01-01T09:59:60.000+10:00"},
    {"2016-12-31T23:59:60.000000001Z", "2016-12-31T23:59:60.0000000010-00:00"},
    {"2016-12-31T23:59:60.2Z", "2017-01-01T00:59:60.2+01:00"},
    {"2016-12-31T23:59:60.25Z"},
    {"2016-12-31T23:59:60.5Z", "2017-01-01T00:59:60.50+01:00"},
    {"2016-12-31T23:59:60.999999999Z", "2016-12-31T22:59:60.999999999-01:00"},
    {"2017-01-01T00:00:00Z", "2017-01-01T01:00:00+01:00", "2016-12-31T16:00:00-08:00"},
    {"2017-01-01T00:00:00.000000001Z"},
    {"2017-01-01T00:00:00.2Z", "2017-01-01T00:00:00.200Z"},
    {"2017-01-01T00:00:00.3Z"},
    {"2017-01-01T00:00:00.5Z"},
    {"2017-01-01T00:00:01Z", "2017-01-01T01:00:01+01:00"},
    /* The next minute's :00, within a day. */
    {"2025-03-10T07:59:59.999999999Z"},
    {"2025-03-10T07:59:60Z", "2025-03-10T08:59:60+01:00"},
    {"2025-03-10T07:59:60.9Z"},
    {"2025-03-10T08:00:00Z", "2025-03-10T08:30:00+00:30"},
    /* A half-hour offset puts second 60 in UTC minute 29. */
    {"2025-03-10T08:29:59.9Z"},
    {"2025-03-10T13:59:60+05:30", "2025-03-10T07:59:60-00:30"},
    {"2025-03-10T08:30:00Z", "2025-03-10T14:00:00+05:30"},
};

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void test_cmp_leap(void)
{
    size_t rows = sizeof(utc_order) / sizeof(utc_order[0]);
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < rows; j++) {
            int want = (i > j) - (i < j);
            for (size_t a = 0; a < 4 && utc_order[i][a]; a++) {
                for (size_t b = 0; b < 4 && utc_order[j][b]; b++) {
                    const char *x = utc_order[i][a], *y = utc_order[j][b];
                    int got = cmp(x, y);
                    CHECK(got != 99 && sign(got) == want, "cmp(%s, %s) = %d, want %d", x, y, got,
                          want);
                }
            }
        }
    }
    /* The cases: nothing of second 60 is at or after the next day's :00. */
    CHECK(cmp("2017-01-01T00:00:00Z", "2016-12-31T23:59:60Z") > 0, "next day after leap");
    CHECK(cmp("2017-01-01T00:00:00.2Z", "2016-12-31T23:59:60.5Z") > 0, "no fold");
    CHECK(cmp("2016-12-31T23:59:60.5Z", "2017-01-01T00:00:00.3Z") < 0, "no fold");
}

static void fmt(int64_t sec, unsigned ms, const char *want)
{
    char out[25];
    rfc3339_format_ms(out, sec, ms);
    CHECK(strcmp(out, want) == 0, "%lld.%u: %s, want %s", (long long)sec, ms, out, want);
    rfc3339_t t;
    size_t e;
    CHECK(rfc3339_parse(out, strlen(out), &t, &e) == 0 && t.sec == sec, "%s: reparse", out);
}

static void fmt_us(int64_t sec, unsigned us, const char *want)
{
    char out[28];
    const int64_t lo = -62167219200LL, hi = 253402300799LL; /* the clamp */
    rfc3339_format_us(out, sec, us);
    CHECK(strcmp(out, want) == 0, "%lld.%06u: %s, want %s", (long long)sec, us, out, want);
    rfc3339_t t;
    size_t e;
    sec = sec < lo ? lo : sec > hi ? hi : sec;
    CHECK(rfc3339_parse(out, strlen(out), &t, &e) == 0 && t.sec == sec, "%s: reparse", out);
}

/* Microsecond stamps: fixed width, clamped, and ordered like the instants
 * they name (the camera's stamps must compare exactly in `since`). */
static void test_format_us(void)
{
    fmt_us(0, 0, "1970-01-01T00:00:00.000000Z");
    fmt_us(1795848269, 120034, "2026-11-28T06:44:29.120034Z");
    fmt_us(951782400, 7, "2000-02-29T00:00:00.000007Z");
    fmt_us(-1, 999999, "1969-12-31T23:59:59.999999Z");
    fmt_us(5, 1000000, "1970-01-01T00:00:05.999999Z");
    fmt_us(-62167219201LL, 5, "0000-01-01T00:00:00.000000Z");
    fmt_us(253402300800LL, 0, "9999-12-31T23:59:59.999999Z");
    char a[28], b[28];
    rfc3339_t ta, tb;
    size_t e;
    for (unsigned us = 0; us < 2000000; us += 7919) {
        rfc3339_format_us(a, 1795848269 + us / 1000000, us % 1000000);
        rfc3339_format_us(b, 1795848269 + (us + 1) / 1000000, (us + 1) % 1000000);
        int ok =
            rfc3339_parse(a, strlen(a), &ta, &e) == 0 && rfc3339_parse(b, strlen(b), &tb, &e) == 0;
        if (!ok || rfc3339_cmp(a, &ta, b, &tb) >= 0 || strlen(a) != 27) {
            CHECK(0, "%s !< %s", a, b);
            break;
        }
    }
}

static void test_format(void)
{
    fmt(0, 0, "1970-01-01T00:00:00.000Z");
    fmt(1795848269, 120, "2026-11-28T06:44:29.120Z");
    fmt(951782400, 7, "2000-02-29T00:00:00.007Z");
    fmt(-1, 999, "1969-12-31T23:59:59.999Z");
    fmt(-62167219200LL, 0, "0000-01-01T00:00:00.000Z");
    fmt(253402300799LL, 999, "9999-12-31T23:59:59.999Z");
    for (int64_t s = -5000000000LL; s < 5000000000LL; s += 86399 * 37 + 13) {
        char out[25];
        time_t tt = (time_t)s;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char want[96];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.042Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        rfc3339_format_ms(out, s, 42);
        if (strcmp(out, want) != 0) {
            CHECK(0, "%lld: %s, want %s", (long long)s, out, want);
            break;
        }
    }
}

int main(void)
{
    test_accept();
    test_reject();
    test_sweep();
    test_mutations();
    test_cmp();
    test_cmp_leap();
    test_format();
    test_format_us();
    return check_report();
}
