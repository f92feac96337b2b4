/* Host code for spec/http1.rl: the HTTP/1.1 request parser (runtime/http1.h).
 * Every piece of state lives in http1_parser_t, so input can come in any
 * chunks; spans are offsets from the head's first byte, so nothing is
 * copied. An action that finds a refusal records it with http1_fail and
 * stops the machine (fbreak); the feed functions then report it. Each
 * section of the message (head, chunk-size line, trailers) ends before
 * h->limit: the feed functions cut the input there. A byte the grammar
 * refuses is named by http1_reason from where the machine was. */
#include <string.h>

#include "http1.h"

#define HTTP1_STR_(x) #x
#define HTTP1_STR(x) HTTP1_STR_(x)

/* Offset of input byte `at` from the head's first byte. */
#define OFF(at) (h->pos + (uint64_t)((const char *)(at)-buf))

/* What the parser is reading (h->stage). */
enum { ST_HEAD, ST_BODY, ST_LENGTH, ST_CHUNK_LINE, ST_DATA, ST_DATA_END, ST_TRAILERS, ST_DONE,
       ST_ERROR };
/* Where in the message the machine is (h->where): names a refusal. */
enum {
    W_START, W_METHOD, W_TARGET, W_PATH, W_VERSION, W_RL_END, W_CR, W_FIELD_START, W_NAME,
    W_VALUE, W_CSIZE, W_CEXT, W_DATA_END, W_TRAILER_START, W_TRAILER_NAME, W_TRAILER_VALUE
};
/* The field whose value is being read (h->field_kind). */
enum { K_OTHER, K_HOST, K_CL, K_TE, K_CONN, K_EXP };
/* h->flags: what the fields so far said. */
enum { F_HOST = 1, F_CLOSE = 2, F_KA = 4, F_EXPECT = 8, F_TE_VALUE = 16 };

/* Records a refusal (the first one only). Returns -1. */
static int http1_fail(http1_parser_t *h, int status, const char *reason, uint64_t off)
{
    if (!h->err.status)
        h->err = (http1_error_t){status, reason, off};
    return -1;
}

/* Why a byte the grammar refuses ends the request, from where the machine
 * was. Sets *status (400 unless the byte says more). */
static const char *http1_value_reason(const http1_parser_t *h, unsigned char c, int *status)
{
    int ctl = c < 0x20 || c == 0x7f;
    if (c == 0)
        return "NUL in field value";
    /* A value that ends early ("chunk", "100-cont") is another coding or
     * expectation too; an empty Transfer-Encoding is malformed. */
    int other = !ctl || (c == '\r' && (h->field_kind == K_EXP || (h->flags & F_TE_VALUE)));
    if (h->field_kind == K_TE && other) {
        *status = 501;
        return "transfer coding other than chunked";
    }
    if (h->field_kind == K_EXP && other) {
        *status = 417;
        return "expectation other than 100-continue";
    }
    if (ctl && c != '\r')
        return "control byte in field value";
    return h->field_kind == K_CL     ? "invalid Content-Length (digits only)"
           : h->field_kind == K_CONN ? "invalid Connection value"
           : h->field_kind == K_TE   ? "invalid Transfer-Encoding"
                                     : "invalid byte in field value";
}

static const char *http1_reason(const http1_parser_t *h, unsigned char c, int *status)
{
    int blank = c == ' ' || c == '\t';
    *status = 400;
    if (c == '\n' && h->where != W_DATA_END)
        return "bare LF (lines end in CRLF)";
    switch (h->where) {
    case W_START:
        return blank ? "whitespace before the request line" : "invalid method";
    case W_METHOD:
        return "malformed request line: bad method or separator";
    case W_TARGET:
        if (c == '*')
            return "asterisk-form target refused (origin-form only)";
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            return "absolute-form or authority-form target refused (origin-form only)";
        return c == ' ' || c == '\r' ? "malformed request line: no target"
                                     : "request target must start with /";
    case W_PATH:
        return "invalid byte in request target";
    case W_VERSION:
        return "invalid HTTP version";
    case W_RL_END:
        return "malformed request line: CRLF expected after the version";
    case W_CR:
        return "bare CR (not followed by LF)";
    case W_FIELD_START:
        return blank ? "line starts with whitespace (obs-fold refused)"
               : c == ':' ? "empty field name"
                          : "invalid byte in field name";
    case W_NAME:
        return blank ? "whitespace before the colon" : c == '\r' ? "field line without a colon"
                                                                  : "invalid byte in field name";
    case W_VALUE:
        return http1_value_reason(h, c, status);
    case W_CSIZE:
        return "invalid chunk size";
    case W_CEXT:
        return "invalid chunk extension";
    case W_DATA_END:
        return "missing CRLF after chunk data";
    default:
        return blank ? "trailer line starts with whitespace (obs-fold refused)"
                     : "invalid trailer field";
    }
}

static void http1_refuse(http1_parser_t *h, unsigned char c, uint64_t off)
{
    int status;
    const char *why = http1_reason(h, c, &status);
    http1_fail(h, status, why, off);
}

static void http1_colon(http1_parser_t *h, uint64_t off, unsigned kind)
{
    h->name_len = (uint32_t)off - h->name_mark;
    h->mark = h->vend = (uint32_t)off + 1;
    h->field_kind = kind;
    h->where = W_VALUE;
}

/* A framing field's name has been read: refuses what conflicts with the
 * fields before it (RFC 9112 6.1, 6.3; RFC 9110 7.2). */
static int http1_framing(http1_parser_t *h, uint64_t off, unsigned kind)
{
    const char *why = NULL;
    if (kind == K_HOST && (h->flags & F_HOST))
        why = "more than one Host field";
    else if ((kind == K_CL && h->head.chunked) || (kind == K_TE && h->head.has_length))
        why = "both Content-Length and Transfer-Encoding";
    else if (kind == K_TE && h->head.chunked)
        why = "Transfer-Encoding repeated (chunked applied twice)";
    else if (kind == K_TE && h->head.minor == 0)
        why = "Transfer-Encoding in an HTTP/1.0 request";
    if (why)
        return http1_fail(h, 400, why, off);
    h->flags |= kind == K_HOST ? F_HOST : 0;
    http1_colon(h, off, kind);
    return 0;
}

static int http1_field_start(http1_parser_t *h, uint64_t off)
{
    if (h->head.nfields == HTTP1_FIELDS_MAX)
        return http1_fail(h, 431, "more than " HTTP1_STR(HTTP1_FIELDS_MAX) " header fields", off);
    h->name_mark = (uint32_t)off;
    h->where = W_NAME;
    return 0;
}

static void http1_field_done(http1_parser_t *h)
{
    unsigned n = h->head.nfields++;
    h->head.fields[n].name = (http1_span_t){h->name_mark, h->name_len};
    h->head.fields[n].value = (http1_span_t){h->mark, h->vend - h->mark};
    h->where = W_FIELD_START;
}

static void http1_target_end(http1_parser_t *h, uint64_t off)
{
    if (h->head.has_query)
        h->head.query.len = (uint32_t)off - h->head.query.off;
    else
        h->head.path.len = (uint32_t)off - h->head.path.off;
    h->where = W_VERSION;
}

/* One more digit of a Content-Length (base 10) or chunk size (base 16),
 * kept within 63 bits. */
static int http1_digit(http1_parser_t *h, unsigned base, unsigned char c, uint64_t off)
{
    unsigned d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (h->acc > ((uint64_t)INT64_MAX - d) / base)
        return http1_fail(h, 400, base == 10 ? "Content-Length too large" : "chunk size too large",
                          off);
    h->acc = h->acc * base + d;
    return 0;
}

static int http1_cl_end(http1_parser_t *h, uint64_t off)
{
    if (h->head.has_length && h->head.length != h->acc)
        return http1_fail(h, 400, "differing Content-Length values", off);
    h->head.has_length = true;
    h->head.length = h->acc;
    return 0;
}

/* The blank line ending the head: checks what needs the whole head and
 * sets up the body's framing. */
static void http1_head_done(http1_parser_t *h, uint64_t off)
{
    http1_head_t *hd = &h->head;
    hd->keep_alive = !(h->flags & F_CLOSE) && (hd->minor == 1 || (h->flags & F_KA));
    hd->expect_continue = (h->flags & F_EXPECT) && hd->minor == 1;
    h->stage = ST_BODY;
}

/* The LF of a chunk-size line: data follows, or the trailers. */
static int http1_size_done(http1_parser_t *h, uint64_t off)
{
    if (h->acc == 0) {
        h->stage = ST_TRAILERS;
        h->where = W_TRAILER_START;
        h->limit = off + 1 + HTTP1_TRAILERS_MAX;
        return 0;
    }
    h->stage = ST_DATA;
    h->left = h->acc;
    h->limit = UINT64_MAX; /* the data is counted, its CRLF checked by chunk_end */
    return 1;
}

%%{
machine http1_fsm;
access h->;
alphtype unsigned char;

action cr { h->where = W_CR; }
action lead_done { h->where = W_START; }
action method_start {
    h->where = W_METHOD;
    h->head.method.off = (uint32_t)OFF(fpc);
}
action method_end {
    h->head.method.len = (uint32_t)OFF(fpc) - h->head.method.off;
    h->where = W_TARGET;
}
action path_start {
    h->where = W_PATH;
    h->head.path.off = (uint32_t)OFF(fpc);
}
action query_start {
    h->head.path.len = (uint32_t)OFF(fpc) - h->head.path.off;
    h->head.has_query = true;
    h->head.query.off = (uint32_t)OFF(fpc) + 1;
}
action target_end { http1_target_end(h, OFF(fpc)); }
action v_major {
    if (fc != '1') {
        http1_fail(h, 505, "HTTP version not supported (1.0 and 1.1 only)", OFF(fpc));
        fbreak;
    }
}
action v_minor {
    if (fc > '1') {
        http1_fail(h, 505, "HTTP version not supported (1.0 and 1.1 only)", OFF(fpc));
        fbreak;
    }
    h->head.minor = fc - '0';
    h->where = W_RL_END;
}
action rl_done { h->where = W_FIELD_START; }

action field_start {
    if (http1_field_start(h, OFF(fpc)) < 0)
        fbreak;
}
action c_gen { http1_colon(h, OFF(fpc), K_OTHER); }
action c_host { if (http1_framing(h, OFF(fpc), K_HOST) < 0) fbreak; }
action c_cl { if (http1_framing(h, OFF(fpc), K_CL) < 0) fbreak; }
action c_te { if (http1_framing(h, OFF(fpc), K_TE) < 0) fbreak; }
action c_conn { http1_colon(h, OFF(fpc), K_CONN); }
action c_exp { http1_colon(h, OFF(fpc), K_EXP); }
action vstart { h->mark = (uint32_t)OFF(fpc); }
action vend { h->vend = (uint32_t)OFF(fpc); }
action cl_begin { h->acc = 0; }
action cl_digit {
    if (http1_digit(h, 10, fc, OFF(fpc)) < 0)
        fbreak;
}
action cl_end {
    if (http1_cl_end(h, OFF(fpc)) < 0)
        fbreak;
}
action te_begin { h->flags |= F_TE_VALUE; }
action te_end { h->head.chunked = true; }
action conn_close { h->flags |= F_CLOSE; }
action conn_ka { h->flags |= F_KA; }
action exp_100 { h->flags |= F_EXPECT; }
action field_done { http1_field_done(h); }
action head_done {
    http1_head_done(h, OFF(fpc));
    fbreak;
}

action size_digit {
    if (http1_digit(h, 16, fc, OFF(fpc)) < 0)
        fbreak;
}
action ext_start { h->where = W_CEXT; }
action size_done {
    if (http1_size_done(h, OFF(fpc)))
        fnext chunk_end;
    else
        fnext trailers;
    fbreak;
}
action data_done {
    h->stage = ST_CHUNK_LINE;
    h->where = W_CSIZE;
    h->acc = 0;
    h->limit = OFF(fpc) + 1 + HTTP1_CHUNK_LINE_MAX;
    fnext chunked;
    fbreak;
}
action trailer_start { h->where = W_TRAILER_NAME; }
action c_trailer { h->where = W_TRAILER_VALUE; }
action trailer_done { h->where = W_TRAILER_START; }
action body_done {
    h->stage = ST_DONE;
    fbreak;
}

action e_main { http1_refuse(h, fc, OFF(fpc)); }

include "http1.rl";

write data;
}%%

/* Runs the machine over [p, pe) of the call's input `buf`; returns where
 * it stopped (pe, or just past the byte that ended a section). */
static const char *http1_exec(http1_parser_t *h, const char *buf, const char *from,
                              const char *to)
{
    const unsigned char *p = (const unsigned char *)from, *pe = (const unsigned char *)to;
    const unsigned char *eof = NULL;
    %% write exec;
    (void)eof;
    if (h->cs == http1_fsm_error && !h->err.status) /* the error action covers every state */
        http1_fail(h, 400, "malformed request", OFF(p));
    return (const char *)p;
}

void http1_init(http1_parser_t *h)
{
    memset(h, 0, sizeof *h);
    h->stage = ST_HEAD;
    h->where = W_START;
    h->limit = HTTP1_HEAD_MAX;
    %% write init;
}

/* Runs the current section's machine over buf[*at, len), cut at h->limit.
 * Returns -1 on a refusal, 1 when the section ended, 0 when the input ran
 * out. */
static int http1_run(http1_parser_t *h, const char *buf, size_t len, size_t *at, int st,
                     const char *why)
{
    uint64_t off = h->pos + *at, room = h->limit > off ? h->limit - off : 0;
    size_t n = len - *at < room ? len - *at : (size_t)room;
    unsigned char before = h->stage;

    if (n == 0 && *at < len)
        return http1_fail(h, st, why, off);
    *at = (size_t)(http1_exec(h, buf, buf + *at, buf + *at + n) - buf);
    if (h->err.status)
        return -1;
    if (h->stage != before)
        return 1;
    if (*at < len) /* stopped at the limit with input left */
        return http1_fail(h, st, why, h->pos + *at);
    return 0;
}

/* Ends a call: advances pos past what was used. */
static int http1_ret(http1_parser_t *h, int rc, size_t used, size_t *usedp)
{
    if (rc == HTTP1_ERROR) {
        h->stage = ST_ERROR;
        used = h->err.offset >= h->pos ? (size_t)(h->err.offset - h->pos) : 0;
    }
    h->pos += used;
    *usedp = used;
    return rc;
}

int http1_feed_head(http1_parser_t *h, const char *buf, size_t len, size_t *used)
{
    size_t at = 0;
    int rc;

    if (h->stage == ST_ERROR) {
        *used = 0;
        return HTTP1_ERROR;
    }
    if (h->stage != ST_HEAD) {
        *used = 0;
        return HTTP1_HEAD_DONE;
    }
    rc = http1_run(h, buf, len, &at, 431,
                   "request head larger than " HTTP1_STR(HTTP1_HEAD_MAX) " bytes");
    if (rc < 0)
        return http1_ret(h, HTTP1_ERROR, 0, used);
    if (rc == 0)
        return http1_ret(h, HTTP1_MORE, len, used);
    if (h->head.chunked) { /* stage ST_BODY: set up the body's framing */
        h->stage = ST_CHUNK_LINE;
        h->where = W_CSIZE;
        h->cs = http1_fsm_en_chunked;
        h->limit = h->pos + at + HTTP1_CHUNK_LINE_MAX;
    } else if (h->head.has_length && h->head.length) {
        h->stage = ST_LENGTH;
        h->left = h->head.length;
    } else {
        h->stage = ST_DONE;
    }
    return http1_ret(h, HTTP1_HEAD_DONE, at, used);
}

/* Hands up to h->left bytes of buf[*at, len) to on_data. */
static void http1_data(http1_parser_t *h, const char *buf, size_t len, size_t *at,
                       http1_on_data on_data, void *ctx)
{
    size_t n = len - *at < h->left ? len - *at : (size_t)h->left;
    if (n && on_data)
        on_data(ctx, buf + *at, n);
    *at += n;
    h->left -= n;
}

int http1_feed_body(http1_parser_t *h, const char *buf, size_t len, size_t *used,
                    http1_on_data on_data, void *ctx)
{
    size_t at = 0;

    if (h->stage == ST_ERROR || h->stage == ST_HEAD) {
        if (h->stage == ST_HEAD)
            http1_fail(h, 500, "http1_feed_body before the head is complete", h->pos);
        return http1_ret(h, HTTP1_ERROR, 0, used);
    }
    while (h->stage != ST_DONE) {
        if (h->stage == ST_LENGTH || h->stage == ST_DATA) {
            http1_data(h, buf, len, &at, on_data, ctx);
            if (h->left)
                break; /* the input ran out */
            if (h->stage == ST_LENGTH) {
                h->stage = ST_DONE;
                break;
            }
            h->stage = ST_DATA_END;
            h->where = W_DATA_END;
            continue;
        }
        int trailers = h->stage == ST_TRAILERS;
        int rc = http1_run(h, buf, len, &at, trailers ? 431 : 400,
                           trailers ? "trailer section larger than " HTTP1_STR(HTTP1_TRAILERS_MAX)
                                      " bytes"
                                    : "chunk line longer than " HTTP1_STR(HTTP1_CHUNK_LINE_MAX)
                                      " bytes");
        if (rc < 0)
            return http1_ret(h, HTTP1_ERROR, 0, used);
        if (rc == 0)
            break;
    }
    return http1_ret(h, h->stage == ST_DONE ? HTTP1_BODY_DONE : HTTP1_MORE, at, used);
}
