/* JSON writer: exact escapes, cJSON round trips of tricky strings, errors
 * and the /logs array. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonw.h"
#include "check.h"

static void exact(const char *in, size_t n, const char *want)
{
    buf_t b = BUF_INIT;
    jsonw_string(&b, in, n);
    CHECK(b.len == strlen(want) && strcmp(b.data, want) == 0, "got %s, want %s", b.data, want);
    buf_free(&b);
}

static void test_exact(void)
{
    exact("", 0, "\"\"");
    exact("abc", 3, "\"abc\"");
    exact("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    exact("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    exact("\x01\x1f\x0b\x7f", 4, "\"\\u0001\\u001f\\u000b\x7f\"");
    exact("\0", 1, "\"\\u0000\"");
    exact("caf\xc3\xa9 \xf0\x9f\x93\xb7", 10, "\"caf\xc3\xa9 \xf0\x9f\x93\xb7\"");
    exact("/ </script>", 11, "\"/ </script>\"");
    /* Specials at each position of an 8-byte block and across block ends. */
    for (size_t at = 0; at < 20; at++) {
        char in[20], want[64];
        memset(in, 'x', sizeof(in));
        in[at] = '"';
        snprintf(want, sizeof(want), "\"%.*s\\\"%.*s\"", (int)at, "xxxxxxxxxxxxxxxxxxxx",
                 (int)(19 - at), "xxxxxxxxxxxxxxxxxxxx");
        exact(in, sizeof(in), want);
    }
}

/* Byte-at-a-time reference for jsonw_string. */
static void ref_string(buf_t *b, const unsigned char *s, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        const char *sh = c == '"'    ? "\\\""
                         : c == '\\' ? "\\\\"
                         : c == '\n' ? "\\n"
                         : c == '\r' ? "\\r"
                         : c == '\t' ? "\\t"
                         : c == '\b' ? "\\b"
                         : c == '\f' ? "\\f"
                                     : NULL;
        if (sh)
            buf_puts(b, sh);
        else if (c < 0x20)
            buf_printf(b, "\\u%04x", c);
        else
            buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
}

/* Random bytes biased to the edges of the escape classes (and bytes with the
 * high bit set, which the word-at-a-time scan must not mistake). */
static void test_vs_reference(void)
{
    static const unsigned char pick[] = {0x00, 0x01, 0x08, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b,
                                         0x5c, 0x5d, 0x7f, 0x80, 0xa0, 0xa2, 0xdc, 0xff, 'a'};
    unsigned char in[40];
    int bad = 0;
    srand(1);
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t)(rand() % 40);
        for (size_t i = 0; i < n; i++)
            in[i] = rand() % 4 ? 'a' + rand() % 26 : pick[rand() % sizeof(pick)];
        buf_t got = BUF_INIT, want = BUF_INIT;
        jsonw_string(&got, (const char *)in, n);
        ref_string(&want, in, n);
        bad += got.len != want.len || memcmp(got.data, want.data, got.len) != 0;
        bad += jsonw_string_len((const char *)in, n) != got.len; /* a /logs length */
        buf_free(&got);
        buf_free(&want);
    }
    CHECK(bad == 0, "%d mismatches with the reference", bad);
}

/* Writes s as a JSON string, parses it back with cJSON: same bytes. */
static void round_trip(const char *s, size_t n)
{
    buf_t b = BUF_INIT;
    jsonw_string(&b, s, n);
    cJSON *j = cJSON_ParseWithLength(b.data, b.len);
    int ok =
        j && cJSON_IsString(j) && strlen(j->valuestring) == n && memcmp(j->valuestring, s, n) == 0;
    CHECK(ok, "round trip of %zu bytes: %s", n, b.data);
    cJSON_Delete(j);
    buf_free(&b);
}

static void test_round_trip(void)
{
    const char *cases[] = {
        "plain",
        "quote \" backslash \\ slash /",
        "\\\\\\\"\"\"",
        "tab\tnewline\ncr\rbs\bff\f",
        ("\x01\x02\x03\x04\x05\x06\x07\x0b\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
         "\x1a\x1b\x1c\x1d\x1e\x1f"),
        "del \x7f end",
        "\xe2\x80\xa8 line separator \xe2\x80\xa9",
        "\xef\xbb\xbf bom, \xf4\x8f\xbf\xbf max, \xc2\x80 min",
        "\\u0041 is not an escape here",
        "ends with backslash \\",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        round_trip(cases[i], strlen(cases[i]));
    /* Every byte 1..0x7F, and long strings with sparse specials. */
    char all[127];
    for (int c = 1; c < 128; c++)
        all[c - 1] = (char)c;
    round_trip(all, sizeof(all));
    static char big[70000];
    srand(7);
    for (size_t i = 0; i < sizeof(big) - 1; i++) {
        int r = rand() % 64;
        big[i] = r == 0   ? '"'
                 : r == 1 ? '\n'
                 : r == 2 ? '\\'
                 : r == 3 ? '\x02'
                          : (char)('a' + r % 26);
    }
    round_trip(big, sizeof(big) - 1);
}

static void test_error(void)
{
    buf_t b = BUF_INIT;
    jsonw_error(&b, "bad \"since\"");
    CHECK(strcmp(b.data, "{\"error\":\"bad \\\"since\\\"\"}") == 0, "%s", b.data);
    buf_free(&b);
    jsonw_error_about(&b, "camera not connected", "cam-1");
    CHECK(strcmp(b.data, "{\"error\":\"camera not connected\",\"camera\":\"cam-1\"}") == 0, "%s",
          b.data);
    buf_free(&b);
    jsonw_error_about(&b, "x", NULL);
    CHECK(strcmp(b.data, "{\"error\":\"x\"}") == 0, "%s", b.data);
    buf_free(&b);
}

static record_t *mk(const char *desc, size_t dn, const char *ts)
{
    rfc3339_t when;
    size_t e;
    if (rfc3339_parse(ts, strlen(ts), &when, &e) < 0)
        exit(1);
    return record_new(desc, dn, ts, strlen(ts), &when);
}

static void test_records(void)
{
    record_t *recs[3] = {mk("motion \"A\"\n", 11, "2026-11-28T06:44:29.120Z"),
                         mk("caf\xc3\xa9", 5, "2026-11-28T06:44:39Z"),
                         mk("", 0, "2026-11-28t06:44:40.5+01:00")};
    record_filter_t all = {0};
    buf_t b = BUF_INIT;
    jsonw_records(&b, recs, 0, &all);
    CHECK(strcmp(b.data, "[]") == 0, "%s", b.data);
    buf_reset(&b);
    jsonw_records(&b, recs, 3, &all);
    const char *want = "[{\"description\":\"motion \\\"A\\\"\\n\",\"timestamp\":"
                       "\"2026-11-28T06:44:29.120Z\"},{\"description\":\"caf\xc3\xa9\","
                       "\"timestamp\":\"2026-11-28T06:44:39Z\"},{\"description\":\"\","
                       "\"timestamp\":\"2026-11-28t06:44:40.5+01:00\"}]";
    CHECK(strcmp(b.data, want) == 0, "%s", b.data);
    cJSON *j = cJSON_Parse(b.data);
    CHECK(cJSON_GetArraySize(j) == 3, "array of 3");
    cJSON *d = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "description");
    CHECK(cJSON_IsString(d) && strcmp(d->valuestring, "motion \"A\"\n") == 0, "desc 0");
    cJSON_Delete(j);

    record_filter_t f = {.limit = 1};
    buf_reset(&b);
    jsonw_records(&b, recs, 3, &f);
    CHECK(strcmp(b.data,
                 "[{\"description\":\"\",\"timestamp\":\"2026-11-28t06:44:40.5+01:00\"}]") == 0,
          "%s", b.data);
    f = (record_filter_t){.has_since = true, .since_str = "2026-11-28T06:44:39Z"};
    size_t e;
    rfc3339_parse(f.since_str, strlen(f.since_str), &f.since, &e);
    buf_reset(&b);
    jsonw_records(&b, recs, 3, &f);
    CHECK(strcmp(b.data, "[]") == 0, "since after all (the last one is 05:44:40.5Z): %s", b.data);
    for (int i = 0; i < 3; i++) { /* what a /logs reply announces (api/relay/body.c) */
        buf_reset(&b);
        jsonw_record(&b, recs[i]);
        CHECK(jsonw_record_len(recs[i]) == b.len && recs[i]->json_len == b.len, "%zu: %s",
              jsonw_record_len(recs[i]), b.data);
    }
    buf_free(&b);
    for (int i = 0; i < 3; i++)
        free(recs[i]);
}

int main(void)
{
    test_exact();
    test_vs_reference();
    test_round_trip();
    test_error();
    test_records();
    return check_report();
}
