/* Query strings, ids and Bearer values: accept and reject cases. */
#include <stdio.h>
#include <string.h>

#include "query.h"
#include "check.h"

static query_t parse(const char *s)
{
    query_t q;
    query_parse(s, strlen(s), &q);
    return q;
}

static int streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* True when the query parses with no error at all. */
static int clean(const char *s)
{
    query_t q = parse(s);
    return q.camera_err == NULL && q.other_err == NULL;
}

static void test_split_and_decode(void)
{
    query_t q = parse("");
    CHECK(clean("") && !q.has_camera && !q.has_timeout && !q.has_limit && !q.has_since);
    CHECK(clean("&&&") && clean("=x") && clean("a") && clean("a=1&a=2&a"));
    CHECK(clean("foo=1&foo=2&bar=%41%4a"));

    q = parse("camera=abc");
    CHECK(q.has_camera && streq(q.camera, "abc") && q.camera_err == NULL);
    q = parse("camera=a%2Db%2dc");
    CHECK(q.has_camera && streq(q.camera, "a-b-c"));
    q = parse("c%61mer%61=x");
    CHECK(q.has_camera && streq(q.camera, "x"));
    q = parse("x=1&camera=A.b_9-z&y");
    CHECK(q.has_camera && streq(q.camera, "A.b_9-z") && q.other_err == NULL);

    /* '+' is a literal plus, not a space; a decoded '&' or '=' is data. */
    q = parse("camera=a+b");
    CHECK(!q.has_camera && streq(q.camera_err, "bad camera id"));
    q = parse("camera=a%26b");
    CHECK(!q.has_camera && streq(q.camera_err, "bad camera id"));
    q = parse("camera=a=b");
    CHECK(!q.has_camera && streq(q.camera_err, "bad camera id"));
    q = parse("camera=a%00");
    CHECK(!q.has_camera && q.camera_err != NULL);

    /* Names are compared exactly after decoding. */
    CHECK(clean("Camera=%20") && clean("cameraa=%20") && clean("request_idx=%20"));
    CHECK(clean("camera%3D=x"));
}

static void test_bad_escape(void)
{
    query_t q = parse("foo=%zz&camera=x");
    CHECK(streq(q.other_err, "bad %-escape in query") && q.camera_err == NULL);
    CHECK(q.has_camera && streq(q.camera, "x"));

    q = parse("camera=%zz&timeout=5");
    CHECK(streq(q.camera_err, "bad %-escape in camera") && q.other_err == NULL);
    CHECK(!q.has_camera && q.has_timeout && q.timeout_ms == 5000);

    q = parse("camera=ab%4");
    CHECK(streq(q.camera_err, "bad %-escape in camera") && !q.has_camera);
    q = parse("camera=ab%");
    CHECK(streq(q.camera_err, "bad %-escape in camera"));
    q = parse("camera=%4&limit=3");
    CHECK(q.camera_err != NULL && q.has_limit && q.limit == 3);
    q = parse("cam%zzera=x&camera=y");
    CHECK(streq(q.other_err, "bad %-escape in query") && streq(q.camera, "y"));
    CHECK(!clean("x=%") && !clean("%") && !clean("%g0") && !clean("a=%0g") && !clean("a=%%41"));
    /* A bad-escaped camera still counts: a second one is a repeat. */
    q = parse("camera=%zz&camera=x");
    CHECK(streq(q.camera_err, "bad %-escape in camera") && !q.has_camera);
}

static void test_camera_ids(void)
{
    char s[128];
    query_t q = parse("camera=");
    CHECK(streq(q.camera_err, "empty camera id") && !q.has_camera);
    q = parse("camera");
    CHECK(streq(q.camera_err, "empty camera id"));
    q = parse("camera=a&camera=b");
    CHECK(streq(q.camera_err, "repeated parameter camera") && q.other_err == NULL);
    q = parse("camera=a&camera=a");
    CHECK(streq(q.camera_err, "repeated parameter camera"));

    snprintf(s, sizeof s, "camera=%064d", 7);
    q = parse(s);
    CHECK(q.has_camera && strlen(q.camera) == 64);
    snprintf(s, sizeof s, "camera=%065d", 7);
    q = parse(s);
    CHECK(!q.has_camera && streq(q.camera_err, "bad camera id"));

    q = parse("request_id=r-1.2_x");
    CHECK(q.has_request_id && streq(q.request_id, "r-1.2_x") && q.camera_err == NULL);
    q = parse("request_id=");
    CHECK(!q.has_request_id && streq(q.other_err, "bad request_id") && q.camera_err == NULL);
    q = parse("request_id=a&request_id=b");
    CHECK(streq(q.other_err, "repeated parameter request_id"));

    CHECK(query_valid_id("default", 7) && query_valid_id("a", 1) && query_valid_id("-._", 3));
    CHECK(!query_valid_id("", 0) && !query_valid_id("a b", 3) && !query_valid_id("a/b", 3));
    CHECK(!query_valid_id("caf\xc3\xa9", 5) && !query_valid_id("a\0", 2));
    memset(s, 'x', sizeof s);
    CHECK(query_valid_id(s, 64) && !query_valid_id(s, 65) && !query_valid_id(s, 128));
}

static int timeout_ms(const char *v, uint32_t *ms)
{
    char s[512];
    snprintf(s, sizeof s, "timeout=%s", v);
    query_t q = parse(s);
    *ms = q.timeout_ms;
    return q.other_err == NULL && q.has_timeout;
}

static void test_timeout(void)
{
    static const struct {
        const char *v;
        uint32_t ms;
    } ok[] = {
        {"0.1", 100},         {"0.1001", 101},      {"0.10000000000000000000001", 101},
        {"30", 30000},        {"2.5", 2500},        {"300", 300000},
        {"300.0000", 300000}, {"299.9999", 300000}, {"0000000000000000000000030", 30000},
        {"1.000", 1000},      {"0.1234", 124},
    };
    static const char *const range[] = {
        "0",
        "0.0",
        "0.09999",
        "0.0999999999999999999",
        "300.0001",
        "300.00000000000000001",
        "301",
        "99999999999999999999999999999999",
        "18446744073709551617",
    };
    static const char *const syntax[] = {"",    ".5",  "5.",    "1e3",  "-1",   "+1",
                                         "1,5", "nan", "1.2.3", "%201", "1%20", "0x10"};
    uint32_t ms;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int good = timeout_ms(ok[i].v, &ms);
        CHECK(good && ms == ok[i].ms);
        if (!good || ms != ok[i].ms)
            fprintf(stderr, "  timeout=%s -> %u\n", ok[i].v, ms);
    }
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        char s[128];
        snprintf(s, sizeof s, "timeout=%s", range[i]);
        query_t q = parse(s);
        CHECK(!q.has_timeout && streq(q.other_err, "timeout must be between 0.1 and 300 seconds"));
    }
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++) {
        CHECK(!timeout_ms(syntax[i], &ms));
    }
    query_t q = parse("timeout=5&timeout=5");
    CHECK(streq(q.other_err, "repeated parameter timeout"));
    q = parse("timeout");
    CHECK(!q.has_timeout && q.other_err != NULL);
}

static void test_limit(void)
{
    query_t q = parse("limit=1");
    CHECK(q.has_limit && q.limit == 1);
    q = parse("limit=1000000");
    CHECK(q.has_limit && q.limit == 1000000);
    q = parse("limit=0001000000");
    CHECK(q.has_limit && q.limit == 1000000);
    static const char *const bad[] = {"limit=0", "limit=1000001", "limit=000",
                                      "limit=99999999999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q = parse(bad[i]);
        CHECK(!q.has_limit && streq(q.other_err, "limit must be between 1 and 1000000"));
    }
    static const char *const syntax[] = {"limit=",    "limit",    "limit=1.0", "limit=-1",
                                         "limit=1e3", "limit= 1", "limit=%31%"};
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++) {
        q = parse(syntax[i]);
        CHECK(!q.has_limit && q.other_err != NULL && q.camera_err == NULL);
    }
    q = parse("limit=%31%30");
    CHECK(q.has_limit && q.limit == 10);
    q = parse("limit=1&limit=2");
    CHECK(streq(q.other_err, "repeated parameter limit"));
}

static void test_since(void)
{
    query_t q = parse("since=2026-11-28T06:44:29.120Z");
    CHECK(q.has_since && streq(q.since, "2026-11-28T06:44:29.120Z") && q.other_err == NULL);
    CHECK(q.since_t.sec == 1795848269 && q.since_t.frac_len == 2);
    /* '+' stays a plus, so an offset can be written either way. */
    q = parse("since=2026-11-28T07:44:29%2B01:00");
    CHECK(q.has_since && streq(q.since, "2026-11-28T07:44:29+01:00"));
    CHECK(q.since_t.sec == 1795848269);
    q = parse("since=2026-11-28T07:44:29+01:00");
    CHECK(q.has_since && q.since_t.sec == 1795848269);
    q = parse("since=2026-11-28t06:44:29z");
    CHECK(q.has_since);

    static const char *const bad[] = {"since=",
                                      "since",
                                      "since=yesterday",
                                      "since=2025-02-29T00:00:00Z",
                                      "since=2026-11-28T06:44:29",
                                      "since=2026-11-28 06:44:29Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q = parse(bad[i]);
        CHECK(!q.has_since && streq(q.other_err, "bad since: expected an RFC 3339 date-time"));
    }
    char s[600] = "since=2026-11-28T06:44:29.";
    size_t n = strlen(s);
    memset(s + n, '1', 300);
    strcpy(s + n + 300, "Z");
    q = parse(s);
    CHECK(!q.has_since && streq(q.other_err, "since is too long"));
    /* Exactly SINCE_MAX bytes is fine. */
    s[n + SINCE_MAX - 21] = 'Z';
    s[n + SINCE_MAX - 20] = '\0';
    q = parse(s);
    CHECK(q.has_since && strlen(q.since) == SINCE_MAX);
    q = parse("since=2026-11-28T06:44:29Z&since=2026-11-28T06:44:29Z");
    CHECK(streq(q.other_err, "repeated parameter since"));
}

static void test_all_together(void)
{
    query_t q =
        parse("camera=cam1&timeout=2.5&limit=10&since=2026-01-01T00:00:00Z&request_id=r1&x=y");
    CHECK(q.camera_err == NULL && q.other_err == NULL);
    CHECK(q.has_camera && q.has_timeout && q.has_limit && q.has_since && q.has_request_id);
    CHECK(q.timeout_ms == 2500 && q.limit == 10 && streq(q.request_id, "r1"));
    /* The first problem per slot is kept. */
    q = parse("limit=0&timeout=x");
    CHECK(streq(q.other_err, "limit must be between 1 and 1000000"));
    /* Not NUL-terminated: only len bytes count. */
    query_parse("camera=abcdef", 9, &q);
    CHECK(q.has_camera && streq(q.camera, "ab"));
    query_parse(NULL, 0, &q);
    CHECK(q.camera_err == NULL && !q.has_camera);
}

static int bearer(const char *v, const char *want)
{
    const char *tok;
    size_t n;
    if (query_bearer(v, strlen(v), &tok, &n) < 0)
        return want == NULL;
    return want != NULL && n == strlen(want) && memcmp(tok, want, n) == 0;
}

static void test_bearer(void)
{
    CHECK(bearer("Bearer abc", "abc"));
    CHECK(bearer("bearer   abc", "abc"));
    CHECK(bearer("BEARER x", "x"));
    CHECK(bearer("BeArEr 0123456789abcdef=+/~!", "0123456789abcdef=+/~!"));
    /* Optional white space around the field value is not part of it. */
    CHECK(bearer("Bearer abc ", "abc"));
    CHECK(bearer("Bearer abc\t", "abc"));
    CHECK(bearer("Bearer abc \t \t", "abc"));
    CHECK(bearer(" Bearer a", "a"));
    CHECK(bearer("\tBearer a", "a"));
    CHECK(bearer(" \t Bearer  abc\t ", "abc"));
    static const char *const bad[] = {"",
                                      "Bearer",
                                      "Bearer ",
                                      "Bearer \t",
                                      "Bearer a b",
                                      "Basic abc",
                                      "Bearerabc",
                                      "Bearer\tabc",
                                      "\tBearer\ta",
                                      "Bearer a\x7f",
                                      "Bearer a\t\x7f",
                                      "Bearer \xc3\xa9",
                                      "Bearer a\n",
                                      "Bearer a\r",
                                      "Bearer a \n",
                                      "Bearer a\tb",
                                      " ",
                                      "\t",
                                      "Bearer a \x0b",
                                      "\nBearer a",
                                      "\x0b Bearer a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(bearer(bad[i], NULL));
    const char *tok = "x";
    size_t n;
    CHECK(query_bearer("Bearer ab", 8, &tok, &n) == 0 && n == 1 && *tok == 'a');
    /* The length is the token's, not the value's, whatever trails it. */
    CHECK(query_bearer("Bearer ab \t", 11, &tok, &n) == 0 && n == 2 && tok[0] == 'a');
    CHECK(query_bearer("Bearer ab   x", 10, &tok, &n) == 0 && n == 2 && tok[1] == 'b');
}

/* 1.2: epoch, first, after, stale, follow. */
static void test_numbers(void)
{
    query_t q = parse("camera=c&epoch=3fa9c1d2e4b5a6f7&first=1");
    CHECK(q.has_epoch && streq(q.epoch, "3fa9c1d2e4b5a6f7") && q.has_first && q.first == 1);
    CHECK(q.other_err == NULL);
    q = parse("first=9007199254740992");
    CHECK(q.has_first && q.first == 9007199254740992ULL && q.other_err == NULL);
    q = parse("first=9007199254740993");
    CHECK(!q.has_first && streq(q.err[QP_FIRST], "first must be between 1 and 2^53"));
    q = parse("first=0");
    CHECK(!q.has_first && streq(q.err[QP_FIRST], "first must be between 1 and 2^53"));
    q = parse("first=99999999999999999999999999");
    CHECK(!q.has_first && q.err[QP_FIRST] != NULL);
    CHECK(!clean("first=") && !clean("first=-1") && !clean("first=1.0") && !clean("first=1e3"));
    CHECK(!clean("epoch=") && !clean("epoch=a:b") && !clean("epoch=a&epoch=a"));
    q = parse("epoch=a%2Fb");
    CHECK(!q.has_epoch && streq(q.err[QP_EPOCH], "bad epoch") && q.camera_err == NULL);
    q = parse("after=e1:0");
    CHECK(q.has_after && streq(q.after_epoch, "e1") && q.after_seq == 0);
    q = parse("after=e1%3A41");
    CHECK(q.has_after && streq(q.after_epoch, "e1") && q.after_seq == 41);
    q = parse("after=e1:9007199254740992");
    CHECK(q.has_after && q.after_seq == 9007199254740992ULL);
    q = parse("after=e1:9007199254740993");
    CHECK(!q.has_after && streq(q.err[QP_AFTER], "bad after: SEQ must be at most 2^53"));
    CHECK(!clean("after=e1") && !clean("after=:4") && !clean("after=e1:") && !clean("after=e1:-1"));
    CHECK(!clean("after=e/1:4") && !clean("after=e1:4:5") && !clean("after=e1:4&after=e1:4"));
    CHECK(!clean("after=e1:%204"));
    q = parse("camera=c&epoch=e1");
    CHECK(q.has_epoch &&
          streq(q.err[QP_FIRST], "missing first: a numbering camera sends epoch and first"));
    CHECK(q.other_err == NULL && query_error(&q, QP_BIT(QP_EPOCH)) == NULL);
    q = parse("first=3");
    CHECK(q.has_first && !q.has_epoch && q.other_err == NULL);
}

static void test_switches(void)
{
    query_t q = parse("stale=1&follow=0");
    CHECK(q.stale && !q.follow && q.other_err == NULL);
    q = parse("stale=0&follow=1");
    CHECK(!q.stale && q.follow && q.other_err == NULL);
    CHECK(!clean("stale=") && !clean("stale") && !clean("stale=true") && !clean("stale=01"));
    CHECK(!clean("follow=2") && !clean("follow=yes") && !clean("stale=1&stale=1"));
    q = parse("follow=on");
    CHECK(streq(q.err[QP_FOLLOW], "bad follow: expected 0 or 1"));
    q = parse("stale=%31");
    CHECK(q.stale && q.other_err == NULL);
}

int main(void)
{
    test_split_and_decode();
    test_bad_escape();
    test_camera_ids();
    test_timeout();
    test_limit();
    test_since();
    test_all_together();
    test_bearer();
    test_numbers();
    test_switches();
    return check_report();
}
