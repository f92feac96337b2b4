/* Host code for spec/eol.rl: the EOL stream push decoder (runtime/eol.h).
 * All state lives in eol_decoder_t so a body can be fed in any chunks;
 * strings are decoded byte-wise into fixed line-sized buffers, so eol_feed
 * never allocates. An action that finds an error records it with eol_fail
 * and stops the machine (fbreak); eol_feed then reports it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "eol.h"

#define STR_(x) #x
#define STR(x) STR_(x)

enum { W_LINE, W_OBJ, W_TAIL, W_EOL, W_AFTER };        /* where: for error reasons */
enum { S_NONE, S_KEY, S_DESC, S_TS };                  /* where decoded bytes go */
enum { M_OTHER, M_DESC = 1, M_TS = 2, M_SEQ = 4 };      /* member being read */

struct eol_decoder {
    int cs, top;
    int stack[EOL_JSON_DEPTH];
    eol_on_record cb;
    void *ctx;
    const unsigned char *chunk; /* current chunk; offsets are base + (p - chunk) */
    uint64_t base, line, line_start, count;
    eol_error_t err; /* err.reason != NULL once malformed */
    unsigned char where, sink, member, seen;
    uint32_t u, un;            /* \u escape: hex digits so far, and how many */
    uint32_t key_len;          /* decoded length; only the first bytes are kept */
    char key[12];
    char cnt[24];              /* decimal record count the EOL count must spell */
    uint8_t cnt_len, cnt_i, cnt_nz;
    bool numbered;             /* eol_decoder_number: records carry "seq" */
    uint64_t first, prev;      /* its `first`; the previous record's seq (0: none) */
    uint64_t seq;              /* the seq being read */
    rfc3339_parser_t tsp;
    eol_record_t rec;
    char desc[EOL_LINE_MAX + 1], ts[EOL_LINE_MAX + 1]; /* decoded <= raw <= line */
};

/* Records the first error only: inner error actions run first, so the most
 * specific reason wins. */
static void eol_fail(eol_decoder_t *d, const unsigned char *at, const char *reason)
{
    if (d->err.reason)
        return;
    d->err.reason = reason;
    d->err.line = d->line;
    d->err.offset = d->base + (uint64_t)(at - d->chunk);
}

/* Reason for a byte (or the end, at == eof) that has no transition. */
static const char *eol_reason(const eol_decoder_t *d, const unsigned char *at,
                              const unsigned char *eof)
{
    if (at == eof)
        return d->where == W_LINE  ? "missing EOL line"
               : d->where == W_EOL ? "incomplete EOL line"
                                   : "stream ends inside a record line (missing EOL line)";
    int nl = *at == '\n' || *at == '\r';
    switch (d->where) {
    case W_LINE:
        return nl ? "blank or whitespace-only line" : "line is neither a JSON object nor EOL";
    case W_OBJ:
        return nl ? "line ends inside the record object" : "invalid JSON syntax";
    case W_TAIL:
        return "expected a line ending after the record object";
    case W_EOL:
        return "malformed EOL line";
    default:
        return "data after EOL line";
    }
}

/* The end of the run of string bytes at p that need no action but copying. */
static const unsigned char *eol_scan(const unsigned char *p, const unsigned char *pe);

static void eol_newline(eol_decoder_t *d, const unsigned char *lf, int where)
{
    d->line++;
    d->line_start = d->base + (uint64_t)(lf - d->chunk) + 1;
    d->where = where;
}

/* Hands decoded string bytes to the current sink. `at` is the input byte
 * that produced them (NULL: s itself is input, byte for byte). Returns -1
 * when the timestamp stops being RFC 3339 (error recorded). */
static int eol_sink(eol_decoder_t *d, const unsigned char *s, size_t n, const unsigned char *at)
{
    switch (d->sink) {
    case S_DESC:
        memcpy(d->desc + d->rec.description_len, s, n);
        d->rec.description_len += n;
        return 0;
    case S_TS:
        for (size_t i = 0; i < n; i++) {
            if (rfc3339_feed(&d->tsp, s[i]) < 0) {
                eol_fail(d, at ? at : s + i, "timestamp is not RFC 3339");
                return -1;
            }
            d->ts[d->rec.timestamp_len++] = (char)s[i];
        }
        return 0;
    case S_KEY:
        for (size_t i = 0; i < n && d->key_len + i < sizeof d->key; i++)
            d->key[d->key_len + i] = (char)s[i];
        d->key_len += n;
        return 0;
    default:
        return 0;
    }
}

/* Decodes a \u escape's code point into UTF-8 for the sink. */
static int eol_sink_cp(eol_decoder_t *d, uint32_t cp, const unsigned char *at)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = 0xc0 | cp >> 6, b[1] = 0x80 | (cp & 0x3f), n = 2;
    } else if (cp < 0x10000) {
        b[0] = 0xe0 | cp >> 12, b[1] = 0x80 | (cp >> 6 & 0x3f), b[2] = 0x80 | (cp & 0x3f), n = 3;
    } else {
        b[0] = 0xf0 | cp >> 18, b[1] = 0x80 | (cp >> 12 & 0x3f);
        b[2] = 0x80 | (cp >> 6 & 0x3f), b[3] = 0x80 | (cp & 0x3f), n = 4;
    }
    return eol_sink(d, b, n, at);
}

/* The byte a one-character escape (\" \\ \/ \b \f \n \r \t) stands for. */
static unsigned char eol_unescape(unsigned char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return c; /* " \\ / */
    }
}

static int eol_hexval(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* One byte of a \u sequence (the grammar has checked it). Returns the code
 * point once complete, else 0 (\u0000 never passes the grammar). */
static uint32_t eol_u_step(eol_decoder_t *d, unsigned char c)
{
    if (c == '\\' || c == 'u')
        return 0;
    d->u = d->u << 4 | (uint32_t)eol_hexval(c);
    if (++d->un == 4 && (d->u < 0xd800 || d->u > 0xdbff))
        return d->u;
    if (d->un == 8)
        return 0x10000 + ((d->u >> 16 & 0x3ff) << 10) + (d->u & 0x3ff);
    return 0;
}

static void eol_key_close(eol_decoder_t *d)
{
    d->member = M_OTHER;
    if (d->key_len == 11 && memcmp(d->key, "description", 11) == 0)
        d->member = M_DESC;
    else if (d->key_len == 9 && memcmp(d->key, "timestamp", 9) == 0)
        d->member = M_TS;
    else if (d->numbered && d->key_len == 3 && memcmp(d->key, "seq", 3) == 0)
        d->member = M_SEQ;
    d->seq = 0;
    d->sink = S_NONE;
}

static void eol_val_open(eol_decoder_t *d)
{
    d->sink = d->member == M_DESC ? S_DESC : d->member == M_TS ? S_TS : S_NONE;
    if (d->member == M_DESC)
        d->rec.description_len = 0;
    if (d->member == M_TS) {
        d->rec.timestamp_len = 0;
        rfc3339_init(&d->tsp);
    }
}

/* A value that is not a string: fine unless it belongs to a required member. */
static int eol_not_str(eol_decoder_t *d, const unsigned char *at)
{
    if (d->member == M_OTHER)
        return 0;
    eol_fail(d, at, d->member == M_DESC ? "description is not a string" : "timestamp is not a string");
    return -1;
}

/* Spells the record count the EOL line must carry ("" for 0: only zeros). */
static void eol_cnt_begin(eol_decoder_t *d)
{
    char tmp[24];
    int n = 0;
    for (uint64_t c = d->count; c; c /= 10)
        tmp[n++] = (char)('0' + c % 10);
    for (int i = 0; i < n; i++)
        d->cnt[i] = tmp[n - 1 - i];
    d->cnt_len = (uint8_t)n;
    d->cnt_i = d->cnt_nz = 0;
}

/* A digit keeps the count possible while it spells the record count after
 * any leading zeros. */
static int eol_cnt_digit(eol_decoder_t *d, unsigned char c)
{
    if (!d->cnt_nz && c == '0')
        return 0;
    d->cnt_nz = 1;
    if (d->cnt_i < d->cnt_len && d->cnt[d->cnt_i] == (char)c) {
        d->cnt_i++;
        return 0;
    }
    return -1;
}

/* The smallest seq the record being read may carry. */
static uint64_t eol_seq_low(const eol_decoder_t *d)
{
    return d->prev >= d->first ? d->prev + 1 : d->first;
}

/* Why no seq can start with the digits read so far, or NULL while some
 * continuation (none or more digits) still lies within [low, EOL_SEQ_MAX]. */
static const char *eol_seq_doomed(const eol_decoder_t *d)
{
    uint64_t low = eol_seq_low(d), lo = d->seq, span = 1;

    if (d->seq > EOL_SEQ_MAX)
        return "seq above 2^53-1";
    for (; low <= EOL_SEQ_MAX && lo <= EOL_SEQ_MAX; lo *= 10, span *= 10) {
        if (lo + span - 1 >= low)
            return NULL; /* [lo, lo+span) holds every continuation this long */
    }
    return d->prev >= d->first ? "seq not above the previous record's seq" : "seq below first";
}

/* A digit of seq: refused once it leaves no valid continuation. */
static int eol_seq_digit(eol_decoder_t *d, unsigned char c, const unsigned char *at)
{
    const char *why;

    d->seq = d->seq > EOL_SEQ_MAX ? d->seq : d->seq * 10 + (uint64_t)(c - '0');
    if ((why = eol_seq_doomed(d)) == NULL)
        return 0;
    eol_fail(d, at, why);
    return -1;
}

/* The byte after seq's last digit: the number is whole. */
static int eol_seq_end(eol_decoder_t *d, const unsigned char *at)
{
    if (d->seq >= eol_seq_low(d)) {
        d->rec.seq = d->seq;
        return 0;
    }
    eol_fail(d, at,
             d->prev >= d->first ? "seq not above the previous record's seq" : "seq below first");
    return -1;
}

%%{
machine eol_fsm;
access d->;
alphtype unsigned char;

action fast {
    const unsigned char *q = eol_scan(fpc + 1, pe);
    if (eol_sink(d, fpc, (size_t)(q - fpc), NULL) < 0)
        fbreak;
    fexec q;
}
action more {
    const unsigned char *q = eol_scan(fpc + 1, pe);
    if (eol_sink(d, fpc + 1, (size_t)(q - fpc - 1), NULL) < 0)
        fbreak;
    fexec q;
}
action skip { fexec eol_scan(fpc + 1, pe); }
action put_byte {
    if (eol_sink(d, fpc, 1, NULL) < 0)
        fbreak;
}
action put_esc {
    unsigned char c = eol_unescape(fc);
    if (eol_sink(d, &c, 1, fpc) < 0)
        fbreak;
}
action u_begin { d->u = d->un = 0; }
action u_step {
    uint32_t cp = eol_u_step(d, fc);
    if (cp && eol_sink_cp(d, cp, fpc) < 0)
        fbreak;
}
action key_open { d->sink = S_KEY; d->key_len = 0; }
action key_close {
    eol_key_close(d);
    if (d->member & d->seen) {
        eol_fail(d, fpc, d->member == M_DESC ? "duplicate description"
                         : d->member == M_TS ? "duplicate timestamp" : "duplicate seq");
        fbreak;
    }
    d->seen |= d->member;
}
action is_seq { d->member == M_SEQ }
action not_seq { d->member != M_SEQ }
action seq_digit {
    if (eol_seq_digit(d, fc, fpc) < 0)
        fbreak;
}
action seq_end {
    if (eol_seq_end(d, fpc) < 0)
        fbreak;
}
action val_open { eol_val_open(d); }
action val_close {
    if (d->sink == S_TS) {
        if (rfc3339_finish(&d->tsp) < 0) {
            eol_fail(d, fpc, "timestamp is not RFC 3339");
            fbreak;
        }
        d->rec.when = d->tsp.out;
        d->ts[d->rec.timestamp_len] = '\0';
    }
    if (d->sink == S_DESC)
        d->desc[d->rec.description_len] = '\0';
    d->sink = S_NONE;
}
action not_str {
    if (eol_not_str(d, fpc) < 0)
        fbreak;
}
action top_arr {
    if (eol_not_str(d, fpc) < 0)
        fbreak;
    fcall n_array;
}
action top_obj {
    if (eol_not_str(d, fpc) < 0)
        fbreak;
    fcall n_object;
}
action call_arr {
    if (d->top >= EOL_JSON_DEPTH) {
        eol_fail(d, fpc, "JSON nesting deeper than " STR(EOL_JSON_DEPTH) " levels");
        fbreak;
    }
    fcall n_array;
}
action call_obj {
    if (d->top >= EOL_JSON_DEPTH) {
        eol_fail(d, fpc, "JSON nesting deeper than " STR(EOL_JSON_DEPTH) " levels");
        fbreak;
    }
    fcall n_object;
}
action ret { fret; }
action obj_open { d->where = W_OBJ; d->seen = 0; d->rec.seq = 0; }
action obj_close {
    if ((d->seen & (M_DESC | M_TS)) != (M_DESC | M_TS)) {
        eol_fail(d, fpc, d->seen & M_DESC ? "missing timestamp" : "missing description");
        fbreak;
    }
    if (d->numbered && !(d->seen & M_SEQ)) {
        eol_fail(d, fpc, "missing seq");
        fbreak;
    }
    d->where = W_TAIL;
}
action rec_done {
    d->count++;
    d->prev = d->rec.seq;
    d->rec.description = d->desc;
    d->rec.timestamp = d->ts;
    if (d->cb)
        d->cb(d->ctx, &d->rec);
    eol_newline(d, fpc, W_LINE);
}
action eol_open { d->where = W_EOL; }
action cnt_begin { eol_cnt_begin(d); }
action cnt_digit {
    if (eol_cnt_digit(d, fc) < 0) {
        eol_fail(d, fpc, "EOL count does not match the number of records");
        fbreak;
    }
}
action cnt_end {
    if (d->cnt_i != d->cnt_len) {
        eol_fail(d, fpc, "EOL count does not match the number of records");
        fbreak;
    }
}
action eol_done { eol_newline(d, fpc, W_AFTER); }

action e_main { eol_fail(d, fpc, eol_reason(d, fpc, eof)); }
action e_utf8 { if (fpc != eof) eol_fail(d, fpc, "invalid UTF-8"); }
action e_esc { if (fpc != eof) eol_fail(d, fpc, "invalid escape in string"); }
action e_uesc {
    if (fpc != eof)
        eol_fail(d, fpc, "invalid \\u escape (bad hex, lone surrogate or \\u0000)");
}
action e_seq {
    if (fpc == eof || *fpc == '\r' || *fpc == '\n')
        ; /* e_main says where the line or the stream ended */
    else if (!d->seq)
        eol_fail(d, fpc, "seq is not a number without sign or leading zero (%x31-39 *DIGIT)");
    else if (*fpc == '.' || (*fpc | 0x20) == 'e')
        eol_fail(d, fpc, "seq is not an integer (no fraction or exponent)");
}
action e_str {
    if (fpc != eof)
        eol_fail(d, fpc, fc < 0x20 ? "raw control character in string" : "invalid UTF-8");
}

include "eol.rl";

write data noentry;
}%%

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const unsigned char *eol_scan_ascii(const unsigned char *p, const unsigned char *pe)
{
#if defined(__SSE2__)
    /* 16 bytes at a time: a signed compare with 0x20 catches both the
     * controls and every byte >= 0x80. */
    const __m128i lo = _mm_set1_epi8(0x20), q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    while (pe - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, lo),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
        int bits = _mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz((unsigned)bits);
        p += 16;
    }
#endif
    while (p < pe && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

#define CONT(c) (((c)&0xc0) == 0x80)

/* Length of the complete, valid UTF-8 sequence at p (same rules as
 * utf8_multi in eol.rl), or 0: the machine then reads it byte by byte. */
static size_t eol_utf8_len(const unsigned char *p, const unsigned char *pe)
{
    size_t room = (size_t)(pe - p);
    unsigned char c = p[0];
    if (c >= 0xc2 && c <= 0xdf)
        return room >= 2 && CONT(p[1]) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return room >= 3 && p[1] >= lo && p[1] <= hi && CONT(p[2]) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return room >= 4 && p[1] >= lo && p[1] <= hi && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    }
    return 0;
}

/* The fast path inside strings: skips what the string loop would accept
 * without leaving its state (plain ASCII, whole valid UTF-8 sequences), so
 * the result never depends on it; it stops at '"', '\\', controls, bad or
 * cut sequences. */
static const unsigned char *eol_scan(const unsigned char *p, const unsigned char *pe)
{
    for (;;) {
        p = eol_scan_ascii(p, pe);
        size_t n = p < pe ? eol_utf8_len(p, pe) : 0;
        if (!n)
            return p;
        p += n;
    }
}

/* Runs the machine over [p, pe) (eof: the end of the stream, or NULL). */
static void eol_exec(eol_decoder_t *d, const unsigned char *p, const unsigned char *pe,
                     const unsigned char *eof)
{
    %% write exec;
    if (d->cs == eol_fsm_error && !d->err.reason) /* error actions cover every state */
        eol_fail(d, p, "invalid stream");
}

/* A new stream whose first byte is byte `offset` of line `line` of the
 * caller's input, so that errors name the caller's position. */
static void eol_restart(eol_decoder_t *d, uint64_t line, uint64_t offset)
{
    d->chunk = NULL;
    d->base = d->line_start = offset;
    d->count = 0;
    d->line = line;
    d->err = (eol_error_t){NULL, 0, 0};
    d->where = W_LINE;
    d->sink = S_NONE;
    d->member = d->seen = 0;
    d->prev = 0;
    %% write init;
}

eol_decoder_t *eol_decoder_new(eol_on_record cb, void *ctx)
{
    eol_decoder_t *d = xmalloc(sizeof *d);
    d->numbered = false;
    d->first = 1;
    d->cb = cb;
    d->ctx = ctx;
    eol_restart(d, 1, 0);
    return d;
}

void eol_decoder_number(eol_decoder_t *d, uint64_t first)
{
    d->numbered = true;
    d->first = first ? first : 1;
}

void eol_decoder_free(eol_decoder_t *d)
{
    free(d);
}

/* The next stretch the machine may read: the rest of the chunk, cut where
 * the current line would pass EOL_LINE_MAX bytes (its line ending may
 * follow). Returns NULL, with the error recorded, at a byte past the limit. */
static const unsigned char *eol_stretch(eol_decoder_t *d, const unsigned char *p,
                                        const unsigned char *pe)
{
    uint64_t used = d->base + (uint64_t)(p - d->chunk) - d->line_start;
    if (used < EOL_LINE_MAX)
        return (uint64_t)(pe - p) < EOL_LINE_MAX - used ? pe : p + (EOL_LINE_MAX - used);
    if (*p == '\n' || (*p == '\r' && used == EOL_LINE_MAX))
        return p + 1;
    eol_fail(d, p, "line longer than " STR(EOL_LINE_MAX) " bytes");
    return NULL;
}

int eol_feed(eol_decoder_t *d, const char *chunk, size_t len)
{
    const unsigned char *p = (const unsigned char *)chunk, *pe = p + len;

    if (d->err.reason)
        return -1;
    d->chunk = p;
    while (p < pe && !d->err.reason) {
        const unsigned char *end = eol_stretch(d, p, pe);
        if (!end)
            break;
        eol_exec(d, p, end, NULL);
        p = end;
    }
    d->base += len;
    return d->err.reason ? -1 : 0;
}

int eol_finish(eol_decoder_t *d)
{
    static const unsigned char none[1];

    if (d->err.reason)
        return -1;
    d->chunk = none;
    eol_exec(d, none, none, none);
    if (!d->err.reason && d->cs < eol_fsm_first_final)
        eol_fail(d, none, eol_reason(d, none, none));
    return d->err.reason ? -1 : 0;
}

int eol_decode_line(eol_decoder_t *d, const char *line, size_t len, uint64_t line_no,
                    uint64_t offset)
{
    eol_restart(d, line_no, offset);
    if (eol_feed(d, line, len) != 0)
        return -1;
    if (d->count == 1 && d->where == W_LINE && d->line_start == offset + len)
        return 0;
    /* Valid as the start of a stream, yet not one record line: an EOL line,
     * a line without its ending, or more than one line. */
    d->err.reason = d->where == W_EOL || d->where == W_AFTER ? "an EOL line, not a record line"
                    : d->count == 0                          ? "incomplete record line"
                                                             : "more than one line";
    d->err.line = line_no;
    d->err.offset = offset;
    return -1;
}

const eol_error_t *eol_error(const eol_decoder_t *d)
{
    return &d->err;
}

uint64_t eol_count(const eol_decoder_t *d)
{
    return d->count;
}
