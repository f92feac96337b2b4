/* Records: one allocation, exact `since`, and since-then-limit selection
 * (explicit cases plus a comparison with a naive reference). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "check.h"

static record_t *mk(const char *desc, const char *ts)
{
    rfc3339_t when;
    size_t e;
    if (rfc3339_parse(ts, strlen(ts), &when, &e) < 0) {
        printf("bad test timestamp %s\n", ts);
        exit(1);
    }
    return record_new(desc, strlen(desc), ts, strlen(ts), &when);
}

static record_filter_t filter(uint32_t limit, const char *since)
{
    record_filter_t f = {.limit = limit};
    size_t e;
    if (since) {
        f.has_since = true;
        f.since_str = since;
        if (rfc3339_parse(since, strlen(since), &f.since, &e) < 0)
            exit(1);
    }
    return f;
}

/* Collects the selected records' descriptions as "a,b,c". */
typedef struct sel {
    char out[4096];
} sel_t;

static void collect(void *ctx, const record_t *r)
{
    sel_t *s = ctx;
    if (s->out[0])
        strcat(s->out, ",");
    strcat(s->out, r->description);
}

static void test_new(void)
{
    rfc3339_t when = {.sec = 7, .frac_off = 20, .frac_len = 1};
    record_t *r = record_new("a\0b", 3, "2025-01-01T00:00:00.5Z", 22, &when);
    CHECK(r->description == (char *)(r + 1), "strings follow the struct");
    CHECK(r->description_len == 3 && memcmp(r->description, "a\0b", 4) == 0, "desc");
    CHECK(r->timestamp_len == 22 && strcmp(record_ts(r), "2025-01-01T00:00:00.5Z") == 0, "ts");
    CHECK(r->when.sec == 7 && r->when.frac_off == 20 && r->when.frac_len == 1, "when");
    free(r);
    r = record_new("", 0, "", 0, &when);
    CHECK(r->description[0] == '\0' && record_ts(r)[0] == '\0', "empty strings");
    free(r);
}

static void test_after(void)
{
    record_t *r = mk("x", "2025-01-01T00:00:00.25Z");
    record_filter_t f = filter(0, NULL);
    CHECK(record_after(r, &f), "no since");
    f = filter(0, "2025-01-01T00:00:00.25Z");
    CHECK(!record_after(r, &f), "equal is not after");
    f = filter(0, "2025-01-01T00:00:00.2500000Z");
    CHECK(!record_after(r, &f), "equal with zeros");
    f = filter(0, "2025-01-01T00:00:00.2499999999999999999Z");
    CHECK(record_after(r, &f), "just before");
    f = filter(0, "2025-01-01T00:00:00.2500000000000000001Z");
    CHECK(!record_after(r, &f), "just after");
    f = filter(0, "2025-01-01T01:00:00.25+01:00");
    CHECK(!record_after(r, &f), "offset, equal");
    f = filter(0, "2024-12-31T23:59:59.9-00:00");
    CHECK(record_after(r, &f), "offset, before");
    free(r);
}

static void test_select(void)
{
    const char *ts[] = {"2025-01-01T00:00:03Z", "2025-01-01T00:00:01Z", "2025-01-01T00:00:02Z",
                        "2025-01-01T00:00:05Z", "2025-01-01T00:00:04Z"};
    const char *names[] = {"a", "b", "c", "d", "e"};
    record_t *recs[5];
    for (int i = 0; i < 5; i++)
        recs[i] = mk(names[i], ts[i]);
    struct {
        uint32_t limit;
        const char *since, *want;
        size_t n;
    } cases[] = {
        {0, NULL, "a,b,c,d,e", 5},
        {2, NULL, "d,e", 5},
        {9, NULL, "a,b,c,d,e", 5},
        {1, NULL, "e", 5},
        {0, "2025-01-01T00:00:02Z", "a,d,e", 5},
        {2, "2025-01-01T00:00:02Z", "d,e", 5},
        {1, "2025-01-01T00:00:04Z", "d", 5},
        {3, "2025-01-01T00:00:01.5Z", "c,d,e", 5},
        {0, "2025-01-01T00:00:05Z", "", 5},
        {0, NULL, "", 0},
        {3, "2000-01-01T00:00:00Z", "", 0},
        {2, "2025-01-01T00:00:00Z", "b,c", 3},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        record_filter_t f = filter(cases[k].limit, cases[k].since);
        sel_t s = {{0}};
        size_t got = record_select(recs, cases[k].n, &f, collect, &s);
        size_t want_n = cases[k].want[0] ? (strlen(cases[k].want) + 1) / 2 : 0;
        CHECK(strcmp(s.out, cases[k].want) == 0 && got == want_n, "case %zu: %s (%zu), want %s", k,
              s.out, got, cases[k].want);
    }
    for (int i = 0; i < 5; i++)
        free(recs[i]);
}

/* Random arrays against a naive two-pass reference. */
static void test_random(void)
{
    enum { N = 40 };
    char ts[N][32], desc[N][24];
    record_t *recs[N];
    int bad = 0;
    srand(42);
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(rand() % N);
        for (size_t i = 0; i < n; i++) {
            snprintf(ts[i], sizeof(ts[i]), "2025-01-01T00:00:%02d.%dZ", rand() % 10, rand() % 3);
            snprintf(desc[i], sizeof(desc[i]), "%zu", i);
            recs[i] = mk(desc[i], ts[i]);
        }
        char since[32];
        snprintf(since, sizeof(since), "2025-01-01T00:00:%02d.%dZ", rand() % 10, rand() % 3);
        record_filter_t f = filter((uint32_t)(rand() % 6), rand() % 3 ? since : NULL);
        size_t idx[N], m = 0;
        for (size_t i = 0; i < n; i++)
            if (!f.has_since || strcmp(ts[i], since) > 0) /* same length: text order */
                idx[m++] = i;
        size_t from = f.limit && m > f.limit ? m - f.limit : 0;
        sel_t want = {{0}}, got = {{0}};
        for (size_t j = from; j < m; j++)
            collect(&want, recs[idx[j]]);
        size_t c = record_select(recs, n, &f, collect, &got);
        bad += c != m - from || strcmp(want.out, got.out) != 0;
        for (size_t i = 0; i < n; i++)
            free(recs[i]);
    }
    CHECK(bad == 0, "%d random mismatches", bad);
}

int main(void)
{
    test_new();
    test_after();
    test_select();
    test_random();
    return check_report();
}
