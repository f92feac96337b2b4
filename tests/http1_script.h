/* Transcripts of HTTP/1.1 parser runs and the vector files that hold the
 * expected ones (tests/cases/http1/README.md). Shared by tests/test_http1.c
 * and fuzz/fuzz_http1.c: a run is rendered as text lines, so runs over
 * different splits of the same bytes compare with one memcmp. */
#ifndef HTTP1_SCRIPT_H
#define HTTP1_SCRIPT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http1.h"

/* Appends s[0..n): printable ASCII as is, a backslash as \\, others \xHH. */
static inline void script_esc(buf_t *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            buf_puts(out, "\\\\");
        else if (c >= 0x20 && c < 0x7f)
            buf_putc(out, (char)c);
        else
            buf_printf(out, "\\x%02x", c);
    }
}

static inline void script_span(buf_t *out, const char *base, http1_span_t s)
{
    script_esc(out, base + s.off, s.len);
}

/* req <method> <path>[?<query>] 1.<minor>, a field line per field, then
 * the framing. */
static inline void script_head(buf_t *out, const http1_head_t *h, const char *base)
{
    buf_puts(out, "req ");
    script_span(out, base, h->method);
    buf_putc(out, ' ');
    script_span(out, base, h->path);
    if (h->has_query) {
        buf_putc(out, '?');
        script_span(out, base, h->query);
    }
    buf_printf(out, " 1.%u\n", h->minor);
    for (unsigned i = 0; i < h->nfields; i++) {
        buf_puts(out, "field ");
        script_span(out, base, h->fields[i].name);
        buf_puts(out, ": ");
        script_span(out, base, h->fields[i].value);
        buf_putc(out, '\n');
    }
    if (h->chunked)
        buf_puts(out, "frame chunked");
    else if (h->has_length)
        buf_printf(out, "frame length=%" PRIu64, h->length);
    else
        buf_puts(out, "frame none");
    buf_printf(out, " keep-alive=%d continue=%d\n", h->keep_alive, h->expect_continue);
}

static inline void script_body(buf_t *out, buf_t *body, const http1_head_t *h)
{
    if (h->chunked || h->has_length) {
        buf_puts(out, "body ");
        script_esc(out, body->data, body->len);
        buf_putc(out, '\n');
    }
    buf_reset(body);
}

static inline void script_done(buf_t *out, buf_t *body, const http1_head_t *h, size_t used)
{
    script_body(out, body, h);
    buf_printf(out, "done %zu\n", used);
}

static inline void script_more(buf_t *out, buf_t *body, const http1_head_t *h, int in_body)
{
    if (in_body)
        script_body(out, body, h);
    buf_puts(out, "more\n");
}

static inline void script_error(buf_t *out, buf_t *body, const http1_parser_t *p, int in_body)
{
    if (in_body)
        script_body(out, body, &p->head);
    buf_printf(out, "error %d %" PRIu64 " %s\n", p->err.status, p->err.offset,
               p->err.reason ? p->err.reason : "(no reason)");
}

static inline void script_on_data(void *ctx, const char *data, size_t len)
{
    buf_append(ctx, data, len);
}

/* Feeds in[0..len) split at cuts[0..n) (ascending) to a parser, request
 * after request as the api would (head, body, then the next request from
 * the bytes left), and writes the transcript into out. A broken promise of
 * the interface becomes a "violation" line. */
static inline void script_run(buf_t *out, const char *in, size_t len, const size_t *cuts, size_t n)
{
    http1_parser_t p;
    buf_t body = BUF_INIT;
    size_t g = 0, start = 0, piece = 0, used;
    int in_body = 0;

    http1_init(&p);
    buf_reset(out);
    for (;;) {
        size_t end = piece < n ? cuts[piece] : len;
        int rc = in_body ? http1_feed_body(&p, in + g, end - g, &used, script_on_data, &body)
                         : http1_feed_head(&p, in + g, end - g, &used);
        if (used > end - g || (rc == HTTP1_MORE && used != end - g)) {
            buf_printf(out, "violation: rc %d used %zu of %zu\n", rc, used, end - g);
            break;
        }
        g += used;
        if (rc == HTTP1_ERROR) {
            script_error(out, &body, &p, in_body);
            if (http1_feed_head(&p, "x", 1, &used) != HTTP1_ERROR || used != 0)
                buf_puts(out, "violation: error not kept\n");
            break;
        }
        if (rc == HTTP1_HEAD_DONE) {
            script_head(out, &p.head, in + start);
            in_body = 1;
            continue;
        }
        if (rc == HTTP1_BODY_DONE) {
            script_done(out, &body, &p.head, g - start);
            if (g == len)
                break;
            http1_init(&p);
            in_body = 0;
            start = g;
            continue;
        }
        if (piece++ >= n) { /* MORE and the input is over */
            script_more(out, &body, &p.head, in_body);
            break;
        }
    }
    buf_free(&body);
}

/* A transcript line starting "violation:" (every other line starts with a
 * keyword of its own, so input bytes cannot forge one). */
static inline int script_violated(const buf_t *t)
{
    const char *s = t->data ? t->data : "";
    return !strncmp(s, "violation:", 10) || strstr(s, "\nviolation:") != NULL;
}

static inline int script_eq(const buf_t *a, const buf_t *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

/* A vector file: the expected transcript, the reason the error must
 * contain, the input. */
typedef struct script_vec {
    buf_t want, reason, input;
} script_vec_t;

static inline int script_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes the input section: \r \n \\ \xHH are bytes, a line break of
 * the file is nothing (inputs are wrapped for reading), the rest literal. */
static inline void script_input(buf_t *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            continue;
        if (s[i] != '\\' || i + 1 >= n) {
            buf_putc(out, s[i]);
        } else if (s[i + 1] == 'r' || s[i + 1] == 'n' || s[i + 1] == '\\') {
            buf_putc(out, s[i + 1] == 'r' ? '\r' : s[i + 1] == 'n' ? '\n' : '\\');
            i++;
        } else if (s[i + 1] == 'x' && i + 3 < n && script_hex(s[i + 2]) >= 0 &&
                   script_hex(s[i + 3]) >= 0) {
            buf_putc(out, (char)(script_hex(s[i + 2]) << 4 | script_hex(s[i + 3])));
            i += 3;
        } else {
            buf_putc(out, s[i]);
        }
    }
}

static inline int script_load(const char *path, script_vec_t *v)
{
    FILE *f = fopen(path, "rb");
    buf_t text = BUF_INIT;
    char tmp[4096];
    size_t n;

    *v = (script_vec_t){BUF_INIT, BUF_INIT, BUF_INIT};
    if (!f)
        return -1;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(&text, tmp, n);
    fclose(f);
    const char *s = text.data ? text.data : "", *end = s + text.len;
    while (s < end && *s == '#') {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t ll = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (ll >= 4 && !strncmp(s, "# = ", 4)) {
            buf_append(&v->want, s + 4, ll - 4);
            buf_putc(&v->want, '\n');
        } else if (ll >= 10 && !strncmp(s, "# reason: ", 10)) {
            buf_append(&v->reason, s + 10, ll - 10);
        }
        s += ll + (nl != NULL);
    }
    script_input(&v->input, s, (size_t)(end - s));
    buf_free(&text);
    return v->want.len ? 0 : -1;
}

static inline int script_contains(const char *s, size_t n, const char *sub, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(s + i, sub, k))
            return 1;
    return 0;
}

/* The transcript matches: every line equal, except that a wanted
 * "error S O" line matches "error S O <reason>" when the reason contains
 * the vector's. */
static inline int script_match(const buf_t *got, const script_vec_t *v)
{
    const char *g = got->data ? got->data : "", *w = v->want.data;
    const char *ge = g + got->len, *we = w + v->want.len;
    while (w < we && g < ge) {
        const char *wn = memchr(w, '\n', (size_t)(we - w)), *gn = memchr(g, '\n', (size_t)(ge - g));
        size_t wl = (size_t)(wn - w), gl = gn ? (size_t)(gn - g) : (size_t)(ge - g);
        if (wl > 6 && !strncmp(w, "error ", 6)) {
            if (gl <= wl || strncmp(g, w, wl) || g[wl] != ' ')
                return 0;
            if (v->reason.len && !script_contains(g + wl, gl - wl, v->reason.data, v->reason.len))
                return 0;
        } else if (gl != wl || strncmp(g, w, wl)) {
            return 0;
        }
        w = wn + 1;
        g = gn ? gn + 1 : ge;
    }
    return w >= we && g >= ge;
}

static inline void script_free(script_vec_t *v)
{
    buf_free(&v->want);
    buf_free(&v->reason);
    buf_free(&v->input);
}

#endif
