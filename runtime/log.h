/* Log lines for both programs (stderr): every line starts with an RFC 3339
 * UTC time and a level, in text or as one JSON object a line. One writer,
 * one loop thread: never call from a signal handler. */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOGL_ERROR, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };
enum log_format { LOGF_TEXT, LOGF_JSON };

/** A key/value to append to a line: text shows ` key=value` (the value
 * quoted when it holds a space, a quote or a control byte), JSON a member.
 * `str` NULL means the number `num`, shown with `places` decimals as
 * num / 10^places (a fixed-point number: LOG_FIX("ms", 1234, 3) is 1.234). */
typedef struct log_field {
    const char *key;
    const char *str;
    long long num;
    int places; /* 0..9 */
} log_field_t;

#define LOG_STR(k, v) ((log_field_t){.key = (k), .str = (v)})
#define LOG_NUM(k, v) ((log_field_t){.key = (k), .str = NULL, .num = (long long)(v)})
#define LOG_FIX(k, v, p)                                                                           \
    ((log_field_t){.key = (k), .str = NULL, .num = (long long)(v), .places = (p)})

/** Sets the program name shown in every line, the threshold and the format.
 * Before it is called: "camlogs", info, text. */
void log_setup(const char *prog, enum log_level level, enum log_format format);
/** "error|warn|info|debug" and "text|json". Return 0, or -1 for anything else. */
int log_parse_level(const char *s, enum log_level *out);
int log_parse_format(const char *s, enum log_format *out);
/** True when lines of `level` are written (skip building costly ones). */
bool log_enabled(enum log_level level);

/** One line: "<time> <level> <prog>: <message>[ key=value...]" (text), or
 * {"time":..,"level":..,"prog":..,"msg":..,key:value...} (json). The
 * message is printf-formatted and cut at 4 KiB; bytes outside printable
 * ASCII in text are shown as \xHH. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_with(enum log_level level, const log_field_t *fields, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
