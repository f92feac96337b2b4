/* JSON writer for replies. Strings are the hot path (every /logs reply is
 * mostly two strings per record): runs of bytes needing no escape are found
 * eight at a time and copied at once. */
#include "jsonw.h"

#include <stdint.h>
#include <string.h>

/* Short escape letter for a byte, 'u' for \u00XX, 0 when the byte is copied
 * as is (0x7F and all bytes >= 0x80: input is valid UTF-8). */
static const char esc[256] = {
    ['\b'] = 'b',  ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"',
    ['\\'] = '\\', [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
    [0x05] = 'u',  [0x06] = 'u', [0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u', [0x0F] = 'u',
    [0x10] = 'u',  [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',
    [0x16] = 'u',  [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u',
    [0x1C] = 'u',  [0x1D] = 'u', [0x1E] = 'u', [0x1F] = 'u',
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Marks (high bit) the bytes of w that are < 0x20, '"' or '\\'. Bytes above
 * the first marked one may be marked falsely (borrows), never below it. */
static uint64_t specials(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), s = w ^ (ONES * '\\');
    return ((w - ONES * 0x20) | (q - ONES) | (s - ONES)) & ~w & HIGHS;
}

/* Length of the leading run of s[0..n) that needs no escaping. */
static size_t safe_run(const unsigned char *s, size_t n)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t m = specials(w);
        if (m)
            return i + (size_t)(__builtin_ctzll(m) >> 3);
    }
#endif
    while (i < n && !esc[s[i]])
        i++;
    return i;
}

void jsonw_string(buf_t *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;

    buf_reserve(b, 6 * n + 2); /* worst case: every byte as \u00XX */
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0;;) {
        size_t run = safe_run(s + i, n - i);
        memcpy(o, s + i, run);
        o += run;
        i += run;
        if (i == n)
            break;
        unsigned char c = s[i++];
        *o++ = '\\';
        *o++ = esc[c];
        if (esc[c] == 'u') {
            memcpy(o, "00", 2);
            o[2] = hex[c >> 4];
            o[3] = hex[c & 15];
            o += 4;
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

size_t jsonw_string_len(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = n + 2;
    for (size_t i = 0;;) {
        i += safe_run(s + i, n - i);
        if (i == n)
            return len;
        len += esc[s[i++]] == 'u' ? 5 : 1;
    }
}

void jsonw_error_about(buf_t *b, const char *reason, const char *camera)
{
    buf_append(b, "{\"error\":", 9);
    jsonw_string(b, reason, strlen(reason));
    if (camera != NULL) {
        buf_append(b, ",\"camera\":", 10);
        jsonw_string(b, camera, strlen(camera));
    }
    buf_putc(b, '}');
}

void jsonw_error(buf_t *b, const char *reason)
{
    jsonw_error_about(b, reason, NULL);
}

typedef struct records_ctx {
    buf_t *b;
    size_t count;
} records_ctx_t;

void jsonw_record(buf_t *b, const record_t *r)
{
    buf_append(b, "{\"description\":", 15);
    jsonw_string(b, r->description, r->description_len);
    buf_append(b, ",\"timestamp\":", 13);
    jsonw_string(b, record_ts(r), r->timestamp_len);
    buf_putc(b, '}');
}

size_t jsonw_record_len(record_t *r)
{
    if (r->json_len != 0) /* never 0 once known: at least {"description":"","timestamp":""} */
        return r->json_len;
    size_t len = 29 + jsonw_string_len(r->description, r->description_len) +
                 jsonw_string_len(record_ts(r), r->timestamp_len);
    if (len <= UINT32_MAX) /* else (no upload makes one) computed each time */
        r->json_len = (uint32_t)len;
    return len;
}

static void put_record(void *ctx, const record_t *r)
{
    records_ctx_t *c = ctx;
    if (c->count++)
        buf_putc(c->b, ',');
    jsonw_record(c->b, r);
}

void jsonw_records(buf_t *b, record_t *const *recs, size_t n, const record_filter_t *f)
{
    records_ctx_t c = {b, 0};
    buf_putc(b, '[');
    record_select(recs, n, f, put_record, &c);
    buf_putc(b, ']');
}
