/* HTTP/1.1 request parser (runtime/http1.h). Runs every tests/cases/http1/
 * vector (format: tests/cases/http1/README.md) whole, byte by byte and
 * split in two at every byte: each run plays the api's part (head, body,
 * then the next pipelined request from the bytes left) and writes a
 * transcript, which must be the same for every split and match the
 * vector's. Then the cases built in code: the head and field limits. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "http1.h"
#include "http1_script.h"

/* Runs in whole, byte by byte and at every 2-way split; all must agree.
 * The whole run's transcript is left in *whole. */
static void run_splits(const char *name, buf_t *whole, const char *in, size_t len)
{
    buf_t r = BUF_INIT;
    size_t *ones = malloc((len + 1) * sizeof *ones);

    script_run(whole, in, len, NULL, 0);
    for (size_t i = 0; i < len; i++)
        ones[i] = i + 1;
    script_run(&r, in, len, ones, len ? len - 1 : 0);
    CHECK(script_eq(whole, &r), "%s: byte by byte differs:\n%.*s", name, (int)r.len, r.data);
    for (size_t i = 0; i <= len; i++) {
        script_run(&r, in, len, &i, 1);
        CHECK(script_eq(whole, &r), "%s: split at %zu differs:\n%.*s", name, i, (int)r.len, r.data);
    }
    free(ones);
    buf_free(&r);
}

static void run_vector(const char *path)
{
    script_vec_t v;
    buf_t got = BUF_INIT;

    if (script_load(path, &v) < 0) {
        CHECK(0, "%s: unreadable or no '# = ' line", path);
        return;
    }
    run_splits(path, &got, v.input.data ? v.input.data : "", v.input.len);
    if (getenv("HTTP1_VERBOSE"))
        printf("== %s\n%.*s", path, (int)got.len, got.data);
    CHECK(script_match(&got, &v), "%s: transcript\n%.*swant\n%.*s", path, (int)got.len, got.data,
          (int)v.want.len, v.want.data);
    script_free(&v);
    buf_free(&got);
}

static void run_vectors(void)
{
    check_each_case("tests/cases/http1", run_vector, 20);
}

/* A head of exactly `size` bytes: a GET with one padding field. */
static void sized_head(buf_t *b, size_t size)
{
    static const char pre[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    buf_reset(b);
    buf_puts(b, pre);
    while (b->len < size - 4)
        buf_putc(b, 'a');
    buf_puts(b, "\r\n\r\n");
}

/* Checks that in[0..len) gives `want` whole and at every split. */
static void expect(const char *name, const buf_t *in, const char *want)
{
    buf_t got = BUF_INIT;
    run_splits(name, &got, in->data, in->len);
    CHECK(got.len >= strlen(want) && !memcmp(got.data, want, strlen(want)), "%s:\n%.*s", name,
          (int)got.len, got.data);
    buf_free(&got);
}

static void test_head_limit(void)
{
    buf_t b = BUF_INIT;
    char want[64];

    sized_head(&b, HTTP1_HEAD_MAX);
    CHECK(b.len == HTTP1_HEAD_MAX);
    expect("head at the limit", &b, "req GET / 1.1\n");
    sized_head(&b, HTTP1_HEAD_MAX + 1);
    snprintf(want, sizeof want, "error 431 %d ", HTTP1_HEAD_MAX);
    expect("head over the limit", &b, want);
    b.len = HTTP1_HEAD_MAX; /* exactly the limit, unfinished: wait */
    expect("head cut at the limit", &b, "more\n");
    buf_free(&b);
}

static void test_field_limit(void)
{
    buf_t b = BUF_INIT;
    char want[64];
    size_t last = 0;

    for (int n = HTTP1_FIELDS_MAX; n <= HTTP1_FIELDS_MAX + 1; n++) {
        buf_reset(&b);
        buf_puts(&b, "GET / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 1; i < n; i++) {
            last = b.len;
            buf_printf(&b, "X-F%d: %d\r\n", i, i);
        }
        buf_puts(&b, "\r\n");
        snprintf(want, sizeof want, "error 431 %zu ", last);
        expect(n > HTTP1_FIELDS_MAX ? "33 fields" : "32 fields", &b,
               n > HTTP1_FIELDS_MAX ? want : "req GET / 1.1\n");
    }
    buf_free(&b);
}

/* A chunked POST whose body is `body`. */
static void chunked_post(buf_t *b, const char *body, size_t *start)
{
    buf_reset(b);
    buf_puts(b, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    *start = b->len;
    buf_puts(b, body);
}

static void test_chunk_limits(void)
{
    buf_t b = BUF_INIT, ext = BUF_INIT, got = BUF_INIT;
    size_t start;
    char want[64];

    for (int over = 0; over < 2; over++) { /* a chunk line of 4096 (4097) bytes */
        buf_reset(&ext);
        buf_puts(&ext, "1;x=");
        while (ext.len < HTTP1_CHUNK_LINE_MAX - 2 + (size_t)over)
            buf_putc(&ext, 'e');
        buf_puts(&ext, "\r\na\r\n0\r\n\r\n");
        chunked_post(&b, ext.data, &start);
        script_run(&got, b.data, b.len, NULL, 0);
        snprintf(want, sizeof want, "error 400 %zu ", start + HTTP1_CHUNK_LINE_MAX);
        CHECK(over ? strstr(got.data, want) != NULL : strstr(got.data, "body a\ndone") != NULL,
              "chunk line %d:\n%s", over, got.data);
    }
    for (int over = 0; over < 2; over++) { /* trailers of 8192 (8193) bytes */
        buf_reset(&ext);
        buf_puts(&ext, "0\r\nX-T: ");
        while (ext.len < 3 + HTTP1_TRAILERS_MAX - 4 + (size_t)over)
            buf_putc(&ext, 't');
        buf_puts(&ext, "\r\n\r\n");
        chunked_post(&b, ext.data, &start);
        script_run(&got, b.data, b.len, NULL, 0);
        snprintf(want, sizeof want, "error 431 %zu ", start + 3 + HTTP1_TRAILERS_MAX);
        CHECK(over ? strstr(got.data, want) != NULL : strstr(got.data, "done") != NULL,
              "trailers %d:\n%s", over, got.data);
    }
    buf_free(&b);
    buf_free(&ext);
    buf_free(&got);
}

static void test_api(void)
{
    static const char req[] = "POST /a HTTP/1.1\r\nHost: h\r\nX-Long-Name:  v v \r\n"
                              "Content-Length: 3\r\n\r\nabc";
    http1_parser_t p;
    size_t used, len;
    buf_t body = BUF_INIT;

    http1_init(&p);
    CHECK(http1_feed_body(&p, "x", 1, &used, NULL, NULL) == HTTP1_ERROR && p.err.status == 500);
    http1_init(&p);
    CHECK(http1_feed_head(&p, req, sizeof req - 1, &used) == HTTP1_HEAD_DONE);
    CHECK(used == sizeof req - 4, "head used %zu", used);
    const char *v = http1_field(&p.head, req, "x-long-NAME", &len);
    CHECK(v && len == 3 && !memcmp(v, "v v", 3));
    CHECK(http1_field(&p.head, req, "x-long", &len) == NULL);
    CHECK(http1_body_left(&p) == 3);
    CHECK(http1_feed_head(&p, "GET", 3, &len) == HTTP1_HEAD_DONE && len == 0, "head again");
    CHECK(http1_feed_body(&p, req + used, 2, &len, script_on_data, &body) == HTTP1_MORE);
    CHECK(http1_body_left(&p) == 1 && body.len == 2);
    CHECK(http1_feed_body(&p, req + used + 2, 1, &len, script_on_data, &body) == HTTP1_BODY_DONE);
    CHECK(http1_body_left(&p) == 0 && body.len == 3 && p.pos == sizeof req - 1);
    buf_free(&body);
}

static void test_http1_built(void)
{
    test_head_limit();
    test_field_limit();
    test_chunk_limits();
    test_api();
}

int main(void)
{
    run_vectors();
    test_http1_built();
    return check_report();
}
