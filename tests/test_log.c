/* log.h: the line formats (text and JSON), levels, fields, escaping. Lines
 * go to stderr, which the test points at a temporary file and reads back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "log.h"

/* What was logged since the last call (at most one small buffer). stderr
 * writes to a temporary file; its offset is read and reset directly. */
static const char *taken(void)
{
    static char buf[8192];
    fflush(stderr);
    off_t n = lseek(STDERR_FILENO, 0, SEEK_CUR);
    ssize_t got =
        n > 0 ? pread(STDERR_FILENO, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, 0)
              : 0;
    buf[got > 0 ? got : 0] = '\0';
    if (ftruncate(STDERR_FILENO, 0) != 0 || lseek(STDERR_FILENO, 0, SEEK_SET) != 0)
        buf[0] = '\0';
    return buf;
}

/* "2026-01-02T03:04:05.678Z " at the start: an RFC 3339 UTC time, ms. */
static int has_time(const char *s)
{
    return strlen(s) > 25 && s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[23] == 'Z' &&
           s[24] == ' ';
}

static void text_lines(void)
{
    log_setup("api", LOGL_INFO, LOGF_TEXT);
    log_msg(LOGL_INFO, "hello %d", 42);
    const char *s = taken();
    CHECK(has_time(s) && strcmp(s + 24, " info api: hello 42\n") == 0, "%s", s);

    log_field_t f[] = {
        LOG_STR("client", "127.0.0.1:5"), LOG_STR("camera", "a b"), LOG_NUM("status", 200),
        LOG_FIX("ms", 1234, 3),           LOG_FIX("d", -5, 2),      LOG_STR("empty", "")};
    log_with(LOGL_WARN, f, 6, "GET /logs");
    s = taken();
    CHECK(has_time(s) && strcmp(s + 24, " warn api: GET /logs client=127.0.0.1:5 camera=\"a b\" "
                                        "status=200 ms=1.234 d=-0.05 empty=\"\"\n") == 0,
          "%s", s);

    /* One line whatever the bytes: control bytes and backslashes escaped. */
    log_msg(LOGL_ERROR, "a\nb\\c\x7f");
    s = taken();
    CHECK(strstr(s, " error api: a\\x0ab\\x5cc\\x7f\n") != NULL, "%s", s);
    CHECK(strchr(s, '\n') == s + strlen(s) - 1, "one line: %s", s);

    /* A quote inside a quoted value cannot close it (no forged fields). */
    log_field_t q[] = {LOG_STR("camera", "c\" status=200 x=\"")};
    log_with(LOGL_INFO, q, 1, "m");
    s = taken();
    CHECK(strstr(s, " info api: m camera=\"c\\x22 status=200 x=\\x22\"\n") != NULL, "%s", s);

    /* Below the threshold: nothing. */
    log_msg(LOGL_DEBUG, "quiet");
    CHECK(*taken() == '\0');
    CHECK(log_enabled(LOGL_INFO) && !log_enabled(LOGL_DEBUG));
    log_setup("api", LOGL_ERROR, LOGF_TEXT);
    log_msg(LOGL_WARN, "quiet");
    CHECK(*taken() == '\0' && !log_enabled(LOGL_WARN));
}

static void json_lines(void)
{
    log_setup("camera", LOGL_DEBUG, LOGF_JSON);
    log_field_t f[] = {LOG_STR("camera", "c\"1"), LOG_NUM("status", -3), LOG_FIX("ms", 7, 3),
                       LOG_STR("bin", "\x01\xff")};
    log_with(LOGL_DEBUG, f, 4, "msg \"%s\"", "q");
    const char *s = taken();
    CHECK(strchr(s, '\n') == s + strlen(s) - 1, "one line: %s", s);
    cJSON *j = cJSON_Parse(s);
    CHECK(j != NULL, "not JSON: %s", s);
    if (j == NULL)
        return;
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "time"));
    CHECK(t != NULL && strlen(t) == 24 && t[23] == 'Z', "time %s", t ? t : "-");
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "level")), "debug") == 0);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "prog")), "camera") == 0);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg")), "msg \"q\"") == 0);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "camera")), "c\"1") == 0);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "status")) == -3);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "ms")) == 0.007, "%s", s);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "bin")), "\\x01\\xff") == 0, "%s", s);
    cJSON_Delete(j);
}

static void parsing(void)
{
    enum log_level l;
    enum log_format f;
    CHECK(log_parse_level("error", &l) == 0 && l == LOGL_ERROR);
    CHECK(log_parse_level("warn", &l) == 0 && l == LOGL_WARN);
    CHECK(log_parse_level("info", &l) == 0 && l == LOGL_INFO);
    CHECK(log_parse_level("debug", &l) == 0 && l == LOGL_DEBUG);
    CHECK(log_parse_level("INFO", &l) == -1 && log_parse_level("", &l) == -1);
    CHECK(log_parse_level("warning", &l) == -1);
    CHECK(log_parse_format("text", &f) == 0 && f == LOGF_TEXT);
    CHECK(log_parse_format("json", &f) == 0 && f == LOGF_JSON);
    CHECK(log_parse_format("JSON", &f) == -1 && log_parse_format("", &f) == -1);
}

int main(void)
{
    FILE *out = tmpfile();
    if (out == NULL || dup2(fileno(out), STDERR_FILENO) < 0)
        return 2;
    text_lines();
    json_lines();
    parsing();
    return check_report();
}
