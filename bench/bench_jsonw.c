/* Throughput of the /logs reply writer (jsonw_records) and of the RFC 3339
 * parser, single thread. Usage: bench_jsonw [records] (default 1000000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n records whose description + timestamp take about `size` bytes: text
 * with one quote and one two-byte UTF-8 character to escape/pass through. */
static record_t **make_records(size_t n, size_t size)
{
    record_t **recs = malloc(n * sizeof(*recs));
    char desc[4096], ts[32];
    size_t dn = size - 24;
    for (size_t i = 0; i < dn; i++)
        desc[i] = (char)('a' + i % 26);
    memcpy(desc + dn / 2, "\"caf\xc3\xa9\"", 7);
    for (size_t i = 0; i < n; i++) {
        rfc3339_format_ms(ts, 1795848269 + (int64_t)(i / 1000), (unsigned)(i % 1000));
        rfc3339_t when;
        size_t e;
        rfc3339_parse(ts, 24, &when, &e);
        recs[i] = record_new(desc, dn, ts, 24, &when);
    }
    return recs;
}

static void bench_records(const char *name, size_t size, size_t n, size_t total,
                          const record_filter_t *f)
{
    record_t **recs = make_records(n, size);
    buf_t b = BUF_INIT;
    double best = 1e9;
    size_t bytes = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        for (size_t done = 0; done < total; done += n) {
            buf_reset(&b);
            jsonw_records(&b, recs, n, f);
        }
        double t = now() - t0;
        best = t < best ? t : best;
        bytes = b.len * (total / n);
    }
    printf("jsonw_records %-12s %9zu rec %8.2f M rec/s %8.1f MB/s out\n", name, total,
           (double)total / best / 1e6, (double)bytes / best / 1e6);
    buf_free(&b);
    for (size_t i = 0; i < n; i++)
        free(recs[i]);
    free(recs);
}

static void bench_parse(const char *ts, size_t total, int bytewise)
{
    size_t len = strlen(ts), ok = 0;
    double t0 = now();
    for (size_t i = 0; i < total; i++) {
        rfc3339_t out;
        size_t e;
        if (!bytewise) {
            ok += rfc3339_parse(ts, len, &out, &e) == 0;
            continue;
        }
        rfc3339_parser_t p;
        rfc3339_init(&p);
        for (size_t k = 0; k < len; k++)
            rfc3339_feed(&p, (unsigned char)ts[k]);
        ok += rfc3339_finish(&p) == 0;
    }
    double t = now() - t0;
    printf("rfc3339_%-5s %-32s %8.2f M/s %8.1f ns each (%zu ok)\n", bytewise ? "feed" : "parse", ts,
           (double)total / t / 1e6, t / (double)total * 1e9, ok);
}

int main(int argc, char **argv)
{
    size_t total = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    record_filter_t all = {0}, half = {.has_since = true};
    half.since_str = "2026-11-28T06:52:48.500Z"; /* the middle of the 100 B set */
    size_t e;
    rfc3339_parse(half.since_str, strlen(half.since_str), &half.since, &e);

    bench_records("100B", 100, total, total, &all);
    bench_records("100B since", 100, total, total, &half);
    bench_records("1KiB", 1024, total / 5, total, &all);
    bench_parse("2026-11-28T06:44:29.120Z", total * 5, 0);
    bench_parse("2026-11-28T06:44:29.120Z", total * 5, 1);
    bench_parse("2026-11-28t06:44:29.123456789-05:30", total * 5, 0);
    return 0;
}
