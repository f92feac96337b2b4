/* Log lines: time, level, program, message, fields; text or JSON. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "jsonw.h"
#include "rfc3339.h"

#define LOG_MSG_MAX 4096

static struct {
    const char *prog;
    enum log_level level;
    enum log_format format;
} L = {"camlogs", LOGL_INFO, LOGF_TEXT};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_setup(const char *prog, enum log_level level, enum log_format format)
{
    L.prog = prog;
    L.level = level;
    L.format = format;
}

int log_parse_level(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_parse_format(const char *s, enum log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = LOGF_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOGF_JSON;
    else
        return -1;
    return 0;
}

bool log_enabled(enum log_level level)
{
    return level <= L.level;
}

/* Text: printable ASCII as is, anything else as \xHH, so one log line is
 * always one line whatever a client sent. */
static void put_text(buf_t *b, const char *s, size_t n, bool json)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* In text a quote is escaped too, so a value cannot close its quotes. */
        if (c >= 0x20 && c < 0x7f && c != '\\' && (json || c != '"'))
            buf_putc(b, (char)c);
        else
            buf_printf(b, "\\x%02x", c);
    }
}

static bool needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s; s++)
        if (*s == ' ' || *s == '"' || (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return true;
    return false;
}

/* JSON: the same printable text as a string literal (valid JSON whatever
 * the bytes were). */
static void put_json(buf_t *b, const char *s, size_t n)
{
    buf_t t = BUF_INIT;
    put_text(&t, s, n, true);
    jsonw_string(b, t.data ? t.data : "", t.len);
    buf_free(&t);
}

/* A number, or a fixed-point one: valid JSON and plain text alike. */
static void put_num(buf_t *b, const log_field_t *f)
{
    if (f->places <= 0 || f->places > 9) {
        buf_printf(b, "%lld", f->num);
        return;
    }
    unsigned long long scale = 1, mag = f->num < 0 ? 0ull - (unsigned long long)f->num
                                                   : (unsigned long long)f->num;
    for (int i = 0; i < f->places; i++)
        scale *= 10;
    buf_printf(b, "%s%llu.%0*llu", f->num < 0 ? "-" : "", mag / scale, f->places, mag % scale);
}

static void put_field(buf_t *b, const log_field_t *f)
{
    if (L.format == LOGF_JSON) {
        buf_putc(b, ',');
        put_json(b, f->key, strlen(f->key));
        buf_putc(b, ':');
        if (f->str != NULL)
            put_json(b, f->str, strlen(f->str));
        else
            put_num(b, f);
        return;
    }
    buf_printf(b, " %s=", f->key);
    if (f->str == NULL) {
        put_num(b, f);
    } else if (needs_quotes(f->str)) {
        buf_putc(b, '"');
        put_text(b, f->str, strlen(f->str), false);
        buf_putc(b, '"');
    } else {
        put_text(b, f->str, strlen(f->str), false);
    }
}

static void vlog(enum log_level level, const log_field_t *fields, size_t n, const char *fmt,
                 va_list ap)
{
    if (!log_enabled(level))
        return;
    char msg[LOG_MSG_MAX], when[28];
    int len = vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t mlen = len < 0 ? 0 : (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rfc3339_format_ms(when, ts.tv_sec, (unsigned)(ts.tv_nsec / 1000000));
    buf_t b = BUF_INIT;
    if (L.format == LOGF_JSON) {
        buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"prog\":", when, level_names[level]);
        put_json(&b, L.prog, strlen(L.prog));
        buf_puts(&b, ",\"msg\":");
        put_json(&b, msg, mlen);
        for (size_t i = 0; i < n; i++)
            put_field(&b, &fields[i]);
        buf_putc(&b, '}');
    } else {
        buf_printf(&b, "%s %s %s: ", when, level_names[level], L.prog);
        put_text(&b, msg, mlen, false);
        for (size_t i = 0; i < n; i++)
            put_field(&b, &fields[i]);
    }
    buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stderr);
    fflush(stderr);
    buf_free(&b);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_with(enum log_level level, const log_field_t *fields, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fields, n, fmt, ap);
    va_end(ap);
}
