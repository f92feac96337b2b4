/* Input lines -> events, for stdin and a followed file alike. With
 * --input text (the default) a line is the description, stamped on
 * arrival; with --input json a line is a record line of the EOL stream
 * carrying its own timestamp, checked by the generated decoder. */
#include "camera.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "eol.h"
#include "log.h"
#include "rfc3339.h"

void lines_init(lines_t *l, const char *name, uint64_t off, uint64_t seq)
{
    buf_reset(&l->line);
    l->dropped = false;
    l->name = name;
    l->off = l->start = off;
    l->seq = seq;
}

void lines_drop(lines_t *l)
{
    buf_reset(&l->line);
    l->dropped = false;
    l->start = l->off;
}

/* Cuts the description d[0..*len) (valid UTF-8) until its record line,
 * with timestamp `ts` and room for the longest "seq" (1.2), fits in
 * EOL_LINE_MAX. JSON escaping can make the line up to 6 times longer than
 * the text, and the encoder decides which bytes it escapes: measure the
 * real thing. Returns 1 when it cut, 0 when it fitted, -1 when even an
 * empty description does not (a huge timestamp). */
static int fit_line(char *d, size_t *len, const char *ts, size_t ts_len)
{
    buf_t enc = BUF_INIT;
    int cut = 0;

    /* A character escapes to at most 6 bytes: short texts need no measuring. */
    if (*len * 6 + ts_len <= EOL_LINE_MAX - 128)
        return 0;
    for (;;) {
        buf_reset(&enc);
        eol_encode_record_seq(&enc, d, *len, ts, ts_len, EOL_SEQ_MAX);
        size_t line = enc.len - 1; /* without its "\n" */
        if (line <= EOL_LINE_MAX)
            break;
        if (*len == 0) {
            cut = -1;
            break;
        }
        /* Scale by the overshoot; a few rounds at most, as escapes vary. */
        size_t n = (size_t)((uint64_t)*len * EOL_LINE_MAX / line);
        *len = text_boundary(d, *len, n < *len ? n : *len - 1);
        d[*len] = '\0';
        cut = 1;
    }
    buf_free(&enc);
    return cut;
}

/* --input text: repaired, fitted, stamped. */
static void text_line(camera_t *cam, lines_t *l)
{
    buf_t d = BUF_INIT;

    if (l->dropped) /* the keep-cut may have split a character: not the input's fault */
        l->line.len = text_cut_raw(l->line.data, l->line.len);
    size_t bad = text_repair(&d, l->line.data, l->line.len);
    if (bad)
        log_msg(LOGL_WARN, "%s line %" PRIu64 ": %zu invalid UTF-8 sequence(s) replaced by U+FFFD",
                l->name, l->seq, bad);
    char stamp[28];
    rfc3339_format_us(stamp, 0, 0); /* every stamp the camera makes has this length */
    if ((d.len > 0 && fit_line(d.data, &d.len, stamp, strlen(stamp)) > 0) || l->dropped)
        log_msg(LOGL_WARN, "%s line %" PRIu64 ": too long, truncated to %zu bytes", l->name, l->seq,
                d.len);
    source_emit_text(cam, d.data ? d.data : "", d.len);
    buf_free(&d);
}

static void on_json(void *ctx, const eol_record_t *r)
{
    *(record_t **)ctx =
        record_new(r->description, r->description_len, r->timestamp, r->timestamp_len, &r->when);
}

/* The camera keeps arrival order and each event's own timestamp; `since`
 * filters by instant, so a reader following with since=<newest> would not
 * see an event that arrives later with an older stamp. Said once. */
static void check_order(camera_t *cam, lines_t *l, const record_t *rec)
{
    size_t n = ring_count(cam->ring);
    const record_t *prev = n ? ring_get(cam->ring, n - 1) : NULL;

    if (prev == NULL || rfc3339_cmp(record_ts(rec), &rec->when, record_ts(prev), &prev->when) >= 0)
        return;
    log_msg(cam->src.disorder_told ? LOGL_DEBUG : LOGL_WARN,
            "%s line %" PRIu64 ": timestamp %s is before the previous event's (%s); kept in "
            "arrival order%s",
            l->name, l->seq, record_ts(rec), record_ts(prev),
            cam->src.disorder_told ? "" : " (further ones are logged at debug level)");
    cam->src.disorder_told = true;
}

/* --input json: exactly one valid record line, or reported and skipped. */
static void json_line(camera_t *cam, lines_t *l)
{
    source_t *s = &cam->src;

    if (l->dropped) {
        log_msg(LOGL_WARN,
                "%s line %" PRIu64 " offset %" PRIu64 ": line longer than %d bytes; skipped",
                l->name, l->seq, l->start + EOL_LINE_MAX, EOL_LINE_MAX);
        return;
    }
    buf_putc(&l->line, '\n'); /* the decoder wants the line with its ending */
    if (s->dec == NULL)
        s->dec = eol_decoder_new(on_json, &s->json_rec);
    if (eol_decode_line(s->dec, l->line.data, l->line.len, l->seq, l->start) != 0) {
        const eol_error_t *e = eol_error(s->dec);
        free(s->json_rec); /* NULL: the callback runs only for a valid line */
        s->json_rec = NULL;
        log_msg(LOGL_WARN, "%s line %" PRIu64 " offset %" PRIu64 ": %s; skipped", l->name, e->line,
                e->offset, e->reason);
        return;
    }
    record_t *rec = s->json_rec;
    s->json_rec = NULL;
    size_t len = rec->description_len;
    int cut = fit_line(rec->description, &len, record_ts(rec), rec->timestamp_len);
    if (cut < 0) {
        log_msg(LOGL_WARN, "%s line %" PRIu64 ": timestamp too long to send with a seq; skipped",
                l->name, l->seq);
        free(rec);
        return;
    }
    if (cut > 0)
        log_msg(LOGL_WARN,
                "%s line %" PRIu64 ": too long with its seq, description cut to %zu bytes", l->name,
                l->seq, len);
    rec->description_len = (uint32_t)len;
    if (s->skip == 0) /* a skipped one is stored already: no news about order */
        check_order(cam, l, rec);
    source_emit_record(cam, rec);
}

/* A complete line (without its LF). Empty lines are skipped in both modes. */
static void line_done(camera_t *cam, lines_t *l)
{
    l->seq++;
    if (!cam->cfg.input_json && l->line.len > 0 && l->line.data[l->line.len - 1] == '\r')
        l->line.len--; /* json: the decoder takes CR LF itself */
    bool empty = l->line.len == 0 || (l->line.len == 1 && l->line.data[0] == '\r');
    if (!empty || l->dropped) {
        if (cam->cfg.input_json)
            json_line(cam, l);
        else
            text_line(cam, l);
    }
    buf_reset(&l->line);
    l->dropped = false;
}

/* Adds bytes of the current line, keeping at most SOURCE_LINE_KEEP of them. */
static void add_bytes(lines_t *l, const char *p, size_t n)
{
    size_t room = SOURCE_LINE_KEEP - l->line.len;
    if (n > room) {
        n = room;
        l->dropped = true;
    }
    buf_append(&l->line, p, n);
}

void lines_feed(camera_t *cam, const char *p, size_t n)
{
    lines_t *l = &cam->src.in;

    for (const char *end = p + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        add_bytes(l, p, len);
        l->off += len + (nl != NULL);
        if (!nl)
            break;
        line_done(cam, l);
        l->start = l->off;
        p = nl + 1;
    }
}

void lines_end(camera_t *cam)
{
    lines_t *l = &cam->src.in;
    if (l->line.len > 0 || l->dropped)
        line_done(cam, l);
    l->start = l->off;
}
