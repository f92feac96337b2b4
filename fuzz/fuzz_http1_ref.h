/* fuzz_http1's other reading of the same bytes: picohttpparser for the
 * head and the chunked body, and the framing worked out here from its
 * fields. Included by fuzz_http1.c only. */
#ifndef FUZZ_HTTP1_REF_H
#define FUZZ_HTTP1_REF_H

#include <ctype.h>

static int ref_ieq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != b[i])
            return 0;
    return 1;
}

static size_t ref_rtrim(const char *v, size_t n)
{
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n;
}

static int ref_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Our own rules on an accepted head: spans inside it, tokens, trimmed
 * values without control bytes. */
static void ref_invariants(const http1_head_t *h, const char *base, size_t head_len)
{
    FUZZ_CHECK(h->method.len && h->method.off + h->method.len < head_len, "method span");
    for (uint32_t i = 0; i < h->method.len; i++)
        FUZZ_CHECK(ref_tchar((unsigned char)base[h->method.off + i]), "method not a token");
    FUZZ_CHECK(h->path.len && base[h->path.off] == '/', "path must start with /");
    FUZZ_CHECK(!h->has_query ||
                   (h->query.off == h->path.off + h->path.len + 1 && base[h->query.off - 1] == '?'),
               "query span");
    FUZZ_CHECK(h->minor <= 1 && h->nfields <= HTTP1_FIELDS_MAX, "minor/nfields");
    for (unsigned f = 0; f < h->nfields; f++) {
        http1_span_t n = h->fields[f].name, v = h->fields[f].value;
        FUZZ_CHECK(n.len && n.off + n.len < head_len && v.off + v.len < head_len, "field span");
        FUZZ_CHECK(base[n.off + n.len] == ':', "name not followed by ':'");
        for (uint32_t i = 0; i < n.len; i++)
            FUZZ_CHECK(ref_tchar((unsigned char)base[n.off + i]), "name not a token");
        for (uint32_t i = 0; i < v.len; i++) {
            unsigned char c = (unsigned char)base[v.off + i];
            FUZZ_CHECK((c >= 0x20 && c != 0x7f) || c == '\t', "control byte in value");
        }
        FUZZ_CHECK(!v.len || (base[v.off] != ' ' && base[v.off] != '\t' &&
                              base[v.off + v.len - 1] != ' ' && base[v.off + v.len - 1] != '\t'),
                   "value not trimmed");
    }
}

/* A Content-Length value (digits, as we accepted it) if it fits in 63
 * bits, else UINT64_MAX. */
static uint64_t ref_length(const char *v, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
        if (x > (uint64_t)(INT64_MAX - (v[i] - '0')) / 10)
            return UINT64_MAX;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    return x;
}

/* The framing their fields say (we accepted the head, so they are valid). */
static void ref_framing(const http1_head_t *h, const struct phr_header *hs, size_t nh, int minor)
{
    int has_len = 0, chunked = 0, close = 0, ka = 0, cont = 0;
    uint64_t len = 0;
    for (size_t i = 0; i < nh; i++) {
        const char *v = hs[i].value;
        size_t vn = ref_rtrim(v, hs[i].value_len);
        if (ref_ieq(hs[i].name, hs[i].name_len, "content-length")) {
            has_len = 1;
            len = ref_length(v, vn);
            FUZZ_CHECK(len != UINT64_MAX, "accepted a Content-Length past 2^63-1");
        } else if (ref_ieq(hs[i].name, hs[i].name_len, "transfer-encoding")) {
            chunked = ref_ieq(v, vn, "chunked");
        } else if (ref_ieq(hs[i].name, hs[i].name_len, "expect")) {
            cont |= ref_ieq(v, vn, "100-continue");
        } else if (ref_ieq(hs[i].name, hs[i].name_len, "connection")) {
            for (size_t a = 0, b; a < vn; a = b + 1) {
                for (b = a; b < vn && v[b] != ','; b++)
                    ;
                size_t s = a, e = b;
                while (s < e && (v[s] == ' ' || v[s] == '\t'))
                    s++;
                e = s + ref_rtrim(v + s, e - s);
                close |= ref_ieq(v + s, e - s, "close");
                ka |= ref_ieq(v + s, e - s, "keep-alive");
            }
        }
    }
    FUZZ_CHECK(h->has_length == has_len && (!has_len || h->length == len), "Content-Length");
    FUZZ_CHECK(h->chunked == chunked, "chunked");
    FUZZ_CHECK(h->keep_alive == (!close && (minor == 1 || ka)), "keep-alive");
    FUZZ_CHECK(h->expect_continue == (cont && minor == 1), "100-continue");
}

/* A head we accepted (head_len bytes of in[0..len)) against picohttpparser. */
static void ref_head(const http1_head_t *h, const char *in, size_t len, size_t head_len)
{
    struct phr_header hs[HTTP1_FIELDS_MAX];
    size_t nh = HTTP1_FIELDS_MAX, ml, pl;
    const char *m, *path;
    int minor, r = phr_parse_request(in, len, &m, &ml, &path, &pl, &minor, hs, &nh, 0);

    if (r < 0) { /* they skip one empty line before the request line, we skip any */
        FUZZ_CHECK(r == -1 && len >= 4 && !memcmp(in, "\r\n\r\n", 4),
                   "we accept a head picohttpparser refuses (%d)", r);
        return;
    }
    FUZZ_CHECK((size_t)r == head_len, "head length %zu, picohttpparser %d", head_len, r);
    FUZZ_CHECK(m == in + h->method.off && ml == h->method.len, "method");
    size_t target = h->path.len + (h->has_query ? 1 + h->query.len : 0);
    FUZZ_CHECK(path == in + h->path.off && pl == target, "target");
    FUZZ_CHECK(minor == (int)h->minor && nh == h->nfields, "minor or field count");
    for (size_t i = 0; i < nh; i++) {
        FUZZ_CHECK(hs[i].name == in + h->fields[i].name.off &&
                       hs[i].name_len == h->fields[i].name.len,
                   "field %zu name", i);
        FUZZ_CHECK(ref_rtrim(hs[i].value, hs[i].value_len) == h->fields[i].value.len &&
                       (!hs[i].value_len || hs[i].value == in + h->fields[i].value.off),
                   "field %zu value", i);
    }
    ref_framing(h, hs, nh, minor);
}

/* A chunked body we accepted (body_used bytes of in[0..len), decoding to
 * data) against phr_decode_chunked. */
static void ref_chunked(const char *in, size_t len, size_t body_used, const buf_t *data)
{
    struct phr_chunked_decoder d = {0};
    char *copy = malloc(len ? len : 1);
    size_t n = len;

    memcpy(copy, in, len);
    d.consume_trailer = 1;
    ssize_t r = phr_decode_chunked(&d, copy, &n);
    if (r == -1) /* they refuse chunk sizes of more than 16 hex digits */
        FUZZ_CHECK(d._hex_count == (char)(2 * sizeof(size_t)), "we accept a body they refuse");
    else
        FUZZ_CHECK(r >= 0 && len - (size_t)r == body_used && n == data->len &&
                       (!n || !memcmp(copy, data->data, n)),
                   "chunked body differs (r %zd, used %zu)", r, body_used);
    free(copy);
}

static void ref_on_data(void *ctx, const char *data, size_t len)
{
    buf_append(ctx, data, len);
}

/* Reads the requests in in[0..len) one after another, comparing each. */
static void ref_requests(const char *in, size_t len)
{
    http1_parser_t p;
    buf_t data = BUF_INIT;
    size_t g = 0, hu, bu;

    while (g < len) {
        http1_init(&p);
        int rc = http1_feed_head(&p, in + g, len - g, &hu);
        if (rc == HTTP1_ERROR) {
            int s = p.err.status;
            FUZZ_CHECK(s == 400 || s == 417 || s == 431 || s == 501 || s == 505, "status %d", s);
            FUZZ_CHECK(p.err.reason && p.err.offset < len - g && hu == p.err.offset, "offset");
            FUZZ_CHECK(s != 431 || p.err.offset <= HTTP1_HEAD_MAX, "431 offset");
            break;
        }
        if (rc == HTTP1_MORE)
            break;
        ref_invariants(&p.head, in + g, hu);
        ref_head(&p.head, in + g, len - g, hu);
        buf_reset(&data);
        rc = http1_feed_body(&p, in + g + hu, len - g - hu, &bu, ref_on_data, &data);
        if (rc == HTTP1_ERROR)
            FUZZ_CHECK(p.head.chunked && (p.err.status == 400 || p.err.status == 431) &&
                           p.err.offset < len - g && p.err.offset == hu + bu,
                       "body refusal %d at %llu", p.err.status, (unsigned long long)p.err.offset);
        if (rc != HTTP1_BODY_DONE)
            break;
        if (p.head.chunked)
            ref_chunked(in + g + hu, len - g - hu, bu, &data);
        else
            FUZZ_CHECK(bu == data.len && bu == (p.head.has_length ? p.head.length : 0) &&
                           (!bu || !memcmp(data.data, in + g + hu, bu)),
                       "Content-Length body");
        g += hu + bu;
    }
    buf_free(&data);
}

#endif
