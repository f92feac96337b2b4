/* EOL stream decoder and encoder. Runs every tests/cases/eol/ vector
 * (format: tests/cases/eol/README.md) whole, one byte at a time, split in
 * two at every byte and in three at a sample of byte pairs; every run must
 * give the same records or the same error. Then the cases built in code:
 * the line limit, the nesting limit and the encoder round trip. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eol.h"
#include "check.h"

/* What one run produced: records as "desc\0ts\0..." (neither holds a NUL),
 * or the error. */
typedef struct result {
    int ok;
    uint64_t count;
    buf_t recs;
    eol_error_t err;
    int when_bad; /* rec->when differs from rfc3339_parse(rec->timestamp) */
} result_t;

/* The vector being run is a numbered upload with this `first` (0: not). */
static uint64_t numbered_first;

static void on_record(void *ctx, const eol_record_t *rec)
{
    result_t *r = ctx;
    rfc3339_t w;
    size_t at;

    buf_append(&r->recs, rec->description, rec->description_len + 1);
    buf_append(&r->recs, rec->timestamp, rec->timestamp_len + 1);
    if (numbered_first) /* its seq as a third string */
        buf_printf(&r->recs, "%" PRIu64 "%c", rec->seq, '\0');
    else if (rec->seq != 0)
        r->when_bad = 1;
    if (strlen(rec->description) != rec->description_len ||
        strlen(rec->timestamp) != rec->timestamp_len ||
        rfc3339_parse(rec->timestamp, rec->timestamp_len, &w, &at) != 0 || w.sec != rec->when.sec ||
        w.frac_off != rec->when.frac_off || w.frac_len != rec->when.frac_len ||
        w.leap != rec->when.leap)
        r->when_bad = 1;
}

/* Feeds body split at cuts[0..n) (ascending offsets). */
static void run(result_t *r, const char *body, size_t len, const size_t *cuts, int n)
{
    eol_decoder_t *d = eol_decoder_new(on_record, r);
    size_t from = 0;

    if (numbered_first)
        eol_decoder_number(d, numbered_first);
    int rc = 0;

    buf_reset(&r->recs);
    r->when_bad = 0;
    for (int i = 0; i <= n; i++) {
        size_t to = i < n ? cuts[i] : len;
        rc |= eol_feed(d, body + from, to - from);
        from = to;
    }
    rc |= eol_finish(d);
    r->ok = rc == 0;
    r->count = eol_count(d);
    r->err = *eol_error(d);
    CHECK(r->ok == (r->err.reason == NULL), "ok without reason");
    CHECK(eol_feed(d, "x", 1) == -1 || r->ok, "feed after error must fail");
    CHECK(r->ok || eol_error(d)->offset == r->err.offset, "first error kept");
    eol_decoder_free(d);
}

static int same(const result_t *a, const result_t *b)
{
    if (a->ok != b->ok || a->count != b->count || a->recs.len != b->recs.len ||
        (a->recs.len && memcmp(a->recs.data, b->recs.data, a->recs.len)) || b->when_bad)
        return 0;
    return a->ok || (a->err.line == b->err.line && a->err.offset == b->err.offset &&
                     strcmp(a->err.reason, b->err.reason) == 0);
}

/* Runs body whole, byte by byte and split in two and three; every run must
 * match the whole one, which is left in *whole. */
static void run_splits(const char *name, result_t *whole, const char *body, size_t len)
{
    result_t r = {0};
    size_t cuts[3];
    size_t *ones = malloc((len + 1) * sizeof *ones);

    run(whole, body, len, NULL, 0);
    for (size_t i = 0; i < len; i++)
        ones[i] = i;
    run(&r, body, len, ones, (int)len);
    CHECK(same(whole, &r), "%s: byte by byte differs", name);
    free(ones);
    for (size_t i = 0; i <= len; i++) {
        cuts[0] = i;
        run(&r, body, len, cuts, 1);
        CHECK(same(whole, &r), "%s: split at %zu differs", name, i);
    }
    uint32_t seed = 12345;
    for (int k = 0; k < 300; k++) {
        seed = seed * 1103515245 + 12345;
        size_t a = (seed >> 8) % (len + 1);
        seed = seed * 1103515245 + 12345;
        size_t b = (seed >> 8) % (len + 1);
        cuts[0] = a < b ? a : b;
        cuts[1] = a < b ? b : a;
        run(&r, body, len, cuts, 2);
        CHECK(same(whole, &r), "%s: split at %zu,%zu differs", name, cuts[0], cuts[1]);
    }
    buf_free(&r.recs);
}

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies s[0..n) into out, decoding the vector escape \xHH (lower case). */
static void unescape(buf_t *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hexv(s[i + 2]) >= 0 &&
            hexv(s[i + 3]) >= 0) {
            buf_putc(out, (char)(hexv(s[i + 2]) << 4 | hexv(s[i + 3])));
            i += 3;
        } else {
            buf_putc(out, s[i]);
        }
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    buf_t b = BUF_INIT;
    char tmp[4096];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    buf_putc(&b, '\0');
    *len = b.len - 1;
    return b.data;
}

/* Checks one vector file against its header. */
static void run_vector(const char *path)
{
    size_t len;
    char *text = slurp(path, &len), *s = text;
    buf_t want = BUF_INIT, body = BUF_INIT, reason = BUF_INIT;
    int want_ok = -1;
    uint64_t n = 0, line = 0, off = 0;
    result_t r = {0};

    CHECK(text != NULL, "%s: unreadable", path);
    if (!text)
        return;
    while (s[0] == '#') { /* header lines */
        char *nl = strchr(s, '\n');
        size_t ll = nl ? (size_t)(nl - s) : strlen(s);
        if (sscanf(s, "# expect: ok %" SCNu64, &n) == 1)
            want_ok = 1;
        else if (sscanf(s, "# expect: error %" SCNu64 " %" SCNu64, &line, &off) == 2)
            want_ok = 0;
        else if (sscanf(s, "# numbered: %" SCNu64, &numbered_first) == 1)
            ;
        else if (!strncmp(s, "# desc: ", 8) || !strncmp(s, "# ts: ", 6) ||
                 !strncmp(s, "# seq: ", 7)) {
            size_t k = s[2] == 'd' ? 8 : s[3] == 'e' ? 7 : 6;
            unescape(&want, s + k, ll - k);
            buf_putc(&want, '\0');
        } else if (!strncmp(s, "# reason: ", 10))
            unescape(&reason, s + 10, ll - 10);
        s += ll + (nl != NULL);
    }
    unescape(&body, s, len - (size_t)(s - text));
    CHECK(numbered_first || !strstr(path, "/seq_") || strstr(path, "unnumbered"),
          "%s: a seq_ vector without '# numbered:'", path);
    CHECK(want_ok >= 0, "%s: no '# expect:' line", path);
    run_splits(path, &r, body.data ? body.data : "", body.len);
    if (getenv("EOL_VERBOSE")) /* to review the reasons by eye */
        printf("%s: %s\n", path, r.ok ? "ok" : r.err.reason);
    if (want_ok == 1) {
        CHECK(r.ok, "%s: error line %" PRIu64 " offset %" PRIu64 ": %s", path, r.err.line,
              r.err.offset, r.err.reason);
        CHECK(r.count == n, "%s: %" PRIu64 " records, want %" PRIu64, path, r.count, n);
        CHECK(r.recs.len == want.len && (!want.len || !memcmp(r.recs.data, want.data, want.len)),
              "%s: records differ", path);
    } else if (want_ok == 0) {
        CHECK(!r.ok, "%s: accepted, want error", path);
        CHECK(r.ok || (r.err.line == line && r.err.offset == off),
              "%s: error line %" PRIu64 " offset %" PRIu64 " (%s), want %" PRIu64 " %" PRIu64, path,
              r.err.line, r.err.offset, r.err.reason, line, off);
        CHECK(r.ok || !reason.len || strstr(r.err.reason, reason.data), "%s: reason '%s'", path,
              r.err.reason);
    }
    buf_free(&r.recs);
    buf_free(&want);
    buf_free(&body);
    buf_free(&reason);
    free(text);
    numbered_first = 0;
}

static void run_vectors(void)
{
    check_each_case("tests/cases/eol", run_vector, 40);
}

/* Runs a large body whole, in 1500-byte chunks and split at a few offsets
 * (every split would take too long). */
static void run_big(const char *name, result_t *whole, const buf_t *b, const size_t *at, int nat)
{
    result_t r = {0};
    size_t cuts[64];
    int n = 0;

    run(whole, b->data, b->len, NULL, 0);
    for (size_t i = 1500; i < b->len && n < 64; i += 1500)
        cuts[n++] = i;
    run(&r, b->data, b->len, cuts, n);
    CHECK(same(whole, &r), "%s: 1500-byte chunks differ", name);
    for (int i = 0; i < nat; i++) {
        run(&r, b->data, b->len, &at[i], 1);
        CHECK(same(whole, &r), "%s: split at %zu differs", name, at[i]);
    }
    buf_free(&r.recs);
}

/* A record line of exactly `content` bytes (padding the description), then
 * `end` and the EOL line. */
static void record_of(buf_t *b, size_t content, const char *end)
{
    static const char head[] = "{\"description\":\"",
                      tail[] = "\",\"timestamp\":\"2026-01-01T00:00:00Z\"}";
    buf_puts(b, head);
    for (size_t i = sizeof head + sizeof tail - 2; i < content; i++)
        buf_putc(b, 'a');
    buf_puts(b, tail);
    buf_puts(b, end);
}

static void test_line_limit(void)
{
    const char *ends[] = {"\n", "\r\n"};
    for (int e = 0; e < 2; e++) {
        for (size_t extra = 0; extra < 2; extra++) {
            buf_t b = BUF_INIT;
            result_t r = {0};
            size_t at[] = {EOL_LINE_MAX - 1, EOL_LINE_MAX, EOL_LINE_MAX + 1};
            record_of(&b, EOL_LINE_MAX + extra, ends[e]);
            buf_puts(&b, "EOL 1\n");
            run_big("record line limit", &r, &b, at, 3);
            if (!extra)
                CHECK(r.ok && r.count == 1, "65536-byte line: %s", r.err.reason);
            else
                CHECK(!r.ok && r.err.line == 1 && r.err.offset == EOL_LINE_MAX &&
                          strstr(r.err.reason, "longer"),
                      "65537-byte line: %s at %" PRIu64, r.err.reason, r.err.offset);
            buf_free(&b);
            buf_free(&r.recs);
        }
    }
    for (size_t extra = 0; extra < 2; extra++) { /* the EOL line too */
        buf_t b = BUF_INIT;
        result_t r = {0};
        record_of(&b, 100, "\n");
        size_t start = b.len;
        buf_puts(&b, "EOL ");
        while (b.len - start < EOL_LINE_MAX - 1 + extra)
            buf_putc(&b, '0');
        buf_puts(&b, "1\n");
        size_t at[] = {start + EOL_LINE_MAX - 1, start + EOL_LINE_MAX};
        run_big("EOL line limit", &r, &b, at, 2);
        if (!extra)
            CHECK(r.ok && r.count == 1, "65536-byte EOL line: %s", r.err.reason);
        else
            CHECK(!r.ok && r.err.line == 2 && r.err.offset == start + EOL_LINE_MAX,
                  "65537-byte EOL line: %s at %" PRIu64, r.err.reason, r.err.offset);
        buf_free(&b);
        buf_free(&r.recs);
    }
}

/* `depth` nested arrays (or objects) in an extra member. */
static void test_depth(void)
{
    for (int obj = 0; obj < 2; obj++) {
        for (int depth = EOL_JSON_DEPTH; depth <= EOL_JSON_DEPTH + 1; depth++) {
            buf_t b = BUF_INIT;
            result_t r = {0};
            buf_puts(&b, "{\"description\":\"d\",\"x\":");
            size_t first = b.len;
            for (int i = 0; i < depth; i++)
                buf_puts(&b, obj ? "{\"k\":" : "[");
            buf_puts(&b, "1");
            for (int i = 0; i < depth; i++)
                buf_puts(&b, obj ? "}" : "]");
            buf_puts(&b, ",\"timestamp\":\"2026-01-01T00:00:00Z\"}\nEOL 1\n");
            run_splits("depth", &r, b.data, b.len);
            size_t bad = first + (size_t)EOL_JSON_DEPTH * (obj ? 5 : 1);
            if (depth == EOL_JSON_DEPTH)
                CHECK(r.ok && r.count == 1, "depth %d: %s", depth, r.err.reason);
            else
                CHECK(!r.ok && r.err.offset == bad && strstr(r.err.reason, "nesting"),
                      "depth %d: %s at %" PRIu64 ", want %zu", depth, r.err.reason, r.err.offset,
                      bad);
            buf_free(&b);
            buf_free(&r.recs);
        }
    }
}

static void test_round_trip(void)
{
    static const char *desc[] = {"", "motion detected", "q\"b\\s/ </script>",
                                 "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e", "\x7f"};
    static const char *ts[] = {"2026-11-28T06:44:29.120Z", "1990-12-31t23:59:60z",
                               "2024-02-29T12:00:00.000000001+05:30"};
    buf_t b = BUF_INIT, want = BUF_INIT, ctl = BUF_INIT, big = BUF_INIT;
    result_t r = {0};
    size_t at[] = {1, 100, 1000};
    uint64_t n = 0;

    for (int c = 1; c < 0x20; c++)
        buf_putc(&ctl, (char)c);
    for (int i = 0; i < 5000; i++)
        buf_putc(&big, (char)('a' + i % 26));
    for (int i = 0; i < 7; i++) {
        const char *d = i < 5 ? desc[i] : i == 5 ? ctl.data : big.data;
        const char *t = ts[i % 3];
        eol_encode_record(&b, d, strlen(d), t, strlen(t));
        buf_append(&want, d, strlen(d) + 1);
        buf_append(&want, t, strlen(t) + 1);
        n++;
    }
    eol_encode_end(&b, n);
    CHECK(b.len > 7 && !memcmp(b.data + b.len - 6, "EOL 7\n", 6), "end line");
    run_big("round trip", &r, &b, at, 3);
    CHECK(r.ok && r.count == n, "round trip: %s at %" PRIu64, r.err.reason, r.err.offset);
    CHECK(r.recs.len == want.len && !memcmp(r.recs.data, want.data, want.len),
          "round trip records differ");
    buf_reset(&b);
    eol_encode_end(&b, 0);
    run(&r, b.data, b.len, NULL, 0);
    CHECK(r.ok && r.count == 0 && !strcmp(b.data, "EOL 0\n"), "empty stream");
    buf_free(&b);
    buf_free(&want);
    buf_free(&ctl);
    buf_free(&big);
    buf_free(&r.recs);
}

/* eol_decode_line: one line at a time, positions in the caller's terms, a
 * bad line never spoils the next. */
static void test_decode_line(void)
{
    static const struct {
        const char *line, *reason;
        size_t at; /* offset of the error within the line */
    } bad[] = {
        {"{\"description\":\"a\",\"timestamp\":\"2026-01-01T00:00:00Z\"", "incomplete", 0},
        {"EOL\n", "an EOL line", 0},
        {"EOL 0\n", "an EOL line", 0},
        {"EOL 3\n", "EOL count", 4},
        {"{\"description\":\"a\",\"timestamp\":\"2026-01-01T00:00:00Z\"}\n{", "more than one", 0},
        {"{\"description\":\"a\",\"timestamp\":\"2026-13-01T00:00:00Z\"}\n", "RFC 3339", 38},
        {"{\"description\":1,\"timestamp\":\"2026-01-01T00:00:00Z\"}\n", "not a string", 15},
        {"\xff\n", "neither", 0},
        {"\n", "blank", 0},
        {"", "incomplete", 0},
    };
    const char *good =
        "{\"description\":\"d\\u00e9\",\"x\":[1],\"timestamp\":\"2026-01-01T00:00:00Z\"}\r\n";
    result_t r = {0};
    eol_decoder_t *d = eol_decoder_new(on_record, &r);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *l = bad[i].line;
        buf_reset(&r.recs);
        int rc = eol_decode_line(d, l, strlen(l), 7, 1000);
        const eol_error_t *e = eol_error(d);
        CHECK(rc == -1 && e->reason && strstr(e->reason, bad[i].reason), "line %zu: %s", i,
              e->reason ? e->reason : "accepted");
        CHECK(e->line == 7 && e->offset == 1000 + bad[i].at, "line %zu at %" PRIu64 ":%" PRIu64, i,
              e->line, e->offset);
        buf_reset(&r.recs);
        rc = eol_decode_line(d, good, strlen(good), 8, 2000);
        CHECK(rc == 0 && eol_count(d) == 1 && r.recs.len == strlen("d\xc3\xa9") + 1 + 21,
              "good line after bad %zu", i);
        CHECK(!memcmp(r.recs.data, "d\xc3\xa9", 4), "decoded description");
    }
    buf_t big = BUF_INIT;
    record_of(&big, EOL_LINE_MAX + 1, "\n");
    CHECK(eol_decode_line(d, big.data, big.len, 3, 10) == -1 &&
              strstr(eol_error(d)->reason, "longer") && eol_error(d)->offset == 10 + EOL_LINE_MAX,
          "long line at %" PRIu64, eol_error(d)->offset);
    buf_free(&big);
    eol_decoder_free(d);
    buf_free(&r.recs);
}

/* eol_encode_record_seq writes "seq" last; a numbered decoder reads it back. */
static void test_seq_round_trip(void)
{
    buf_t b = BUF_INIT;
    result_t r = {0};

    eol_encode_record_seq(&b, "a", 1, "2026-01-01T00:00:00Z", 20, 7);
    eol_encode_record_seq(&b, "b", 1, "2026-01-01T00:00:01Z", 20, EOL_SEQ_MAX);
    eol_encode_end(&b, 2);
    CHECK(strstr(b.data, "\"timestamp\":\"2026-01-01T00:00:00Z\",\"seq\":7}\n") != NULL, "%s",
          b.data);
    numbered_first = 7;
    run(&r, b.data, b.len, NULL, 0);
    CHECK(r.ok && r.count == 2 && r.recs.len > 0, "numbered round trip: %s", r.err.reason);
    CHECK(!memcmp(r.recs.data + r.recs.len - 17, "9007199254740991", 17), "the largest seq");
    numbered_first = 8; /* 7 is below first */
    run(&r, b.data, b.len, NULL, 0);
    CHECK(!r.ok && strstr(r.err.reason, "below first"), "first=8: %s", r.err.reason);
    numbered_first = 0;
    buf_free(&b);
    buf_free(&r.recs);
}

static void run_generated(void)
{
    test_seq_round_trip();
    test_line_limit();
    test_depth();
    test_round_trip();
    test_decode_line();
}

int main(void)
{
    run_vectors();
    run_generated();
    return check_report();
}
