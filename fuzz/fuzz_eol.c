/* EOL stream decoder (runtime/eol.h), differential against itself:
 * the body fed whole and fed in fuzzer-chosen chunks must give the same
 * records or the same error; every record is valid UTF-8 without NUL; the
 * encoder's output for the decoded records decodes to the same records;
 * decoding line by line (eol_decode_line) agrees with the stream.
 *
 * Input: byte 0 = flags: bits 0-2 how many chunk-length bytes follow (the
 * split points, used cyclically; 0 = a zero-length feed), bit 6 "numbered"
 * (1.2: eol_decoder_number, with the `first` that bits 3-5 pick from
 * FIRSTS; each record's seq then joins its strings, and the line-by-line
 * check, which knows no previous record, is left out), bit 7 "expand":
 * in the body, 0xFF c stands for the previous byte repeated c*300 times, so
 * the fuzzer reaches the 65536-byte line limit with small inputs, and chunk
 * lengths are scaled (c*257+1) so long bodies are not fed byte by byte. The
 * rest is the body. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "eol.h"

#define BODY_MAX (2 * EOL_LINE_MAX + 8192) /* room for two long lines */

/* The `first`s bit 6 can choose (make_seeds.py maps the vectors' onto them). */
static const uint64_t FIRSTS[8] = {
    1, 5, 10, 100, 12345, EOL_SEQ_MAX - 5, EOL_SEQ_MAX - 1, EOL_SEQ_MAX + 1};
static uint64_t first; /* this input's `first`; 0: not numbered */

typedef struct result {
    int ok;
    uint64_t count;
    buf_t recs; /* "desc\0ts\0" per record */
    eol_error_t err;
} result_t;

static void on_record(void *ctx, const eol_record_t *rec)
{
    result_t *r = ctx;
    rfc3339_t w;
    size_t at;

    FUZZ_CHECK(fuzz_utf8_ok(rec->description, rec->description_len), "description UTF-8/NUL");
    FUZZ_CHECK(fuzz_utf8_ok(rec->timestamp, rec->timestamp_len), "timestamp UTF-8/NUL");
    FUZZ_CHECK(rec->description[rec->description_len] == '\0', "description not terminated");
    FUZZ_CHECK(rec->timestamp[rec->timestamp_len] == '\0', "timestamp not terminated");
    FUZZ_CHECK(rfc3339_parse(rec->timestamp, rec->timestamp_len, &w, &at) == 0 &&
                   w.sec == rec->when.sec && w.frac_off == rec->when.frac_off &&
                   w.frac_len == rec->when.frac_len && w.leap == rec->when.leap,
               "record's when differs from rfc3339_parse(timestamp)");
    buf_append(&r->recs, rec->description, rec->description_len + 1);
    buf_append(&r->recs, rec->timestamp, rec->timestamp_len + 1);
    FUZZ_CHECK(first ? rec->seq >= first && rec->seq <= EOL_SEQ_MAX : rec->seq == 0, "seq %llu",
               (unsigned long long)rec->seq);
    if (first)
        buf_printf(&r->recs, "%llu%c", (unsigned long long)rec->seq, '\0');
}

/* Feeds body in chunks of the lengths in cuts[0..ncuts), cyclically. */
static void decode(result_t *r, const uint8_t *body, size_t len, const uint8_t *cuts, size_t ncuts,
                   int scale)
{
    eol_decoder_t *d = eol_decoder_new(on_record, r);
    size_t from = 0, k = 0;
    int rc = 0;

    if (first)
        eol_decoder_number(d, first);

    buf_reset(&r->recs);
    while (ncuts && from < len) {
        size_t n = scale ? cuts[k++ % ncuts] * 257u + 1 : cuts[k++ % ncuts];
        if (n > len - from)
            n = len - from;
        rc |= eol_feed(d, (const char *)body + from, n);
        from += n;
        if (n == 0 && from < len) /* a zero-length feed, then one byte */
            rc |= eol_feed(d, (const char *)body + from++, 1);
    }
    if (from < len)
        rc |= eol_feed(d, (const char *)body + from, len - from);
    rc |= eol_finish(d);
    r->ok = rc == 0;
    r->count = eol_count(d);
    r->err = *eol_error(d);
    FUZZ_CHECK(r->ok == (r->err.reason == NULL), "ok=%d but reason=%s", r->ok, r->err.reason);
    FUZZ_CHECK(r->ok || eol_feed(d, "x", 1) == -1, "feed after an error must fail");
    FUZZ_CHECK(r->ok || r->err.offset <= len, "error offset %llu past the body (%zu)",
               (unsigned long long)r->err.offset, len);
    eol_decoder_free(d);
}

static void same(const result_t *a, const result_t *b, const char *what)
{
    FUZZ_CHECK(a->ok == b->ok, "%s: ok %d vs %d (%s / %s)", what, a->ok, b->ok,
               a->err.reason ? a->err.reason : "-", b->err.reason ? b->err.reason : "-");
    FUZZ_CHECK(a->count == b->count, "%s: count", what);
    FUZZ_CHECK(a->recs.len == b->recs.len &&
                   (!a->recs.len || !memcmp(a->recs.data, b->recs.data, a->recs.len)),
               "%s: records differ", what);
    if (!a->ok)
        FUZZ_CHECK(a->err.line == b->err.line && a->err.offset == b->err.offset &&
                       !strcmp(a->err.reason, b->err.reason),
                   "%s: error %llu:%llu %s vs %llu:%llu %s", what, (unsigned long long)a->err.line,
                   (unsigned long long)a->err.offset, a->err.reason,
                   (unsigned long long)b->err.line, (unsigned long long)b->err.offset,
                   b->err.reason);
}

/* Re-encodes the records of r and checks they decode to the same. */
static void round_trip(const result_t *r)
{
    buf_t enc = BUF_INIT;
    result_t back = {0};
    const char *p = r->recs.data, *end = p ? p + r->recs.len : p;
    uint64_t n = 0;

    while (p < end) {
        const char *ts = p + strlen(p) + 1, *seq = ts + strlen(ts) + 1;
        if (first) {
            eol_encode_record_seq(&enc, p, strlen(p), ts, strlen(ts), strtoull(seq, NULL, 10));
            p = seq + strlen(seq) + 1;
        } else {
            eol_encode_record(&enc, p, strlen(p), ts, strlen(ts));
            p = seq;
        }
        n++;
    }
    eol_encode_end(&enc, n);
    decode(&back, (const uint8_t *)enc.data, enc.len, NULL, 0, 0);
    FUZZ_CHECK(back.ok, "encoded records do not decode: %llu:%llu %s",
               (unsigned long long)back.err.line, (unsigned long long)back.err.offset,
               back.err.reason);
    FUZZ_CHECK(back.count == n, "round trip count");
    FUZZ_CHECK(back.recs.len == r->recs.len &&
                   (!n || !memcmp(back.recs.data, r->recs.data, r->recs.len)),
               "round trip records differ");
    buf_free(&enc);
    buf_free(&back.recs);
}

/* eol_decode_line, one line at a time (the camera's store and --input json
 * read that way), agrees with the stream: the lines before the stream's
 * first error decode to the same records, and the line with that error, if
 * it is a complete line and not an EOL line (whose count differs on its
 * own), fails at the same byte for the same reason. */
static void per_line(const uint8_t *body, size_t len, const result_t *r)
{
    result_t got = {0};
    eol_decoder_t *d = eol_decoder_new(on_record, &got);
    uint64_t line = 1, stop = r->ok ? UINT64_MAX : r->err.line;

    for (size_t off = 0; off < len && line <= stop && body[off] != 'E'; line++) {
        const uint8_t *nl = memchr(body + off, '\n', len - off);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - (body + off)) + 1;
        int rc = eol_decode_line(d, (const char *)body + off, n, line, off);
        const eol_error_t *e = eol_error(d);
        if (line < stop)
            FUZZ_CHECK(rc == 0, "line %llu: %s", (unsigned long long)line, e->reason);
        else
            FUZZ_CHECK(rc != 0 && e->line == r->err.line && e->offset == r->err.offset &&
                           !strcmp(e->reason, r->err.reason),
                       "line %llu: %s at %llu, the stream says %s at %llu",
                       (unsigned long long)line, rc ? e->reason : "ok",
                       (unsigned long long)e->offset, r->err.reason,
                       (unsigned long long)r->err.offset);
        off += n;
    }
    FUZZ_CHECK(got.recs.len == r->recs.len &&
                   (!got.recs.len || !memcmp(got.recs.data, r->recs.data, got.recs.len)),
               "per-line records differ from the stream's");
    eol_decoder_free(d);
    buf_free(&got.recs);
}

/* Applies the 0xFF c repeat escape. */
static void expand(buf_t *out, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n && out->len < BODY_MAX; i++) {
        if (s[i] != 0xff || i + 1 == n) {
            buf_putc(out, (char)s[i]);
            continue;
        }
        char c = out->len ? out->data[out->len - 1] : ' ';
        for (size_t k = (size_t)s[++i] * 300; k > 0 && out->len < BODY_MAX; k--)
            buf_putc(out, c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t ncuts = data[0] & 7;
    first = data[0] & 0x40 ? FIRSTS[data[0] >> 3 & 7] : 0;
    if (size < 1 + ncuts)
        return 0;
    const uint8_t *cuts = data + 1, *body = data + 1 + ncuts;
    size_t len = size - 1 - ncuts;
    buf_t big = BUF_INIT;
    if (data[0] & 0x80) {
        expand(&big, body, len);
        body = (const uint8_t *)big.data;
        len = big.len;
    }

    result_t whole = {0}, split = {0};
    decode(&whole, body, len, NULL, 0, 0);
    static const uint8_t zero = 0; /* no chunk lengths: byte by byte */
    decode(&split, body, len, ncuts ? cuts : &zero, ncuts ? ncuts : 1, data[0] & 0x80);
    same(&whole, &split, "whole vs split");
    round_trip(&whole);
    if (!first)
        per_line(body, len, &whole);
    buf_free(&whole.recs);
    buf_free(&split.recs);
    buf_free(&big);
    return 0;
}
