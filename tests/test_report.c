/* The camera's failure lines (camera/report.c, white-box): the first of a
 * kind at warn, repeats at debug until a minute has passed (then warn with
 * repeated=N), another kind at once, one reconnect line after failures. The
 * clock is the caller's, so a minute takes no time here. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../camera/report.c"
#include "check.h"

static FILE *cap;
static long cap_at;

/* What the log wrote (fd 2 goes to a temporary file) since the last call. */
static const char *logged(void)
{
    static char text[8192];
    long end;

    fflush(stderr);
    fseek(cap, 0, SEEK_END);
    end = ftell(cap);
    fseek(cap, cap_at, SEEK_SET);
    size_t n = fread(
        text, 1,
        (size_t)(end - cap_at) < sizeof(text) - 1 ? (size_t)(end - cap_at) : sizeof(text) - 1, cap);
    text[n] = '\0';
    cap_at = end;
    return text;
}

static failure_t fail_of(long key, const char *why, const char *error, const char *hint)
{
    failure_t f = {.key = key, .hint = hint};
    snprintf(f.why, sizeof(f.why), "%s", why);
    snprintf(f.error, sizeof(f.error), "%s", error);
    return f;
}

static void test_rate(enum log_level level)
{
    report_t r;
    failure_t f401 = fail_of(401, "status 401", "wrong token", "check --token");
    failure_t f500 = fail_of(500, "status 500", "", NULL);
    const char *t;

    log_setup("camera", level, LOGF_TEXT);
    report_init(&r, "polls");
    logged();
    report_failure(&r, 1000, &f401, "poll: %s; retry in %.2fs", f401.why, 0.5);
    t = logged();
    CHECK(strstr(t, " warn camera: poll: status 401; retry in 0.50s error=\"wrong token\" "
                    "hint=\"check --token\"\n") != NULL,
          "%s", t);
    for (uint64_t at = 2000; at <= 60000; at += 29000) { /* 2 s, 31 s, 60 s: held back */
        report_failure(&r, at, &f401, "poll: %s", f401.why);
        t = logged();
        if (level == LOGL_DEBUG)
            CHECK(strstr(t, " debug camera: poll: status 401 error=") != NULL, "%s", t);
        else
            CHECK(t[0] == '\0', "held back, yet: %s", t);
    }
    report_failure(&r, 61000, &f401, "poll: %s", f401.why); /* a minute after the first */
    t = logged();
    CHECK(strstr(t, " warn camera: poll: status 401 error=\"wrong token\" hint=\"check --token\" "
                    "repeated=3\n") != NULL,
          "%s", t);
    report_failure(&r, 62000, &f500, "poll: %s", f500.why); /* another kind: at once */
    t = logged();
    CHECK(strstr(t, " warn camera: poll: status 500\n") != NULL, "%s", t);
    report_failure(&r, 63000, &f401, "poll: %s", f401.why); /* 401 again: another kind too */
    t = logged();
    CHECK(strstr(t, " warn camera: poll: status 401 error=") && !strstr(t, "repeated"), "%s", t);
    report_success(&r, 71000);
    t = logged();
    CHECK(strstr(t, " info camera: connected again after 70.0 s (7 failed polls)\n") != NULL, "%s",
          t);
    report_success(&r, 72000);
    CHECK(logged()[0] == '\0', "one reconnect line only");
    report_failure(&r, 73000, &f401, "poll: %s", f401.why); /* a new outage: logged again */
    CHECK(strstr(logged(), " warn camera: poll: status 401") != NULL, "after a success");
    report_clear(&r);
    report_success(&r, 74000);
    CHECK(logged()[0] == '\0', "cleared: no reconnect line");
}

int main(void)
{
    cap = tmpfile();
    if (cap == NULL || dup2(fileno(cap), STDERR_FILENO) < 0) {
        perror("tmpfile");
        return 1;
    }
    test_rate(LOGL_INFO);
    test_rate(LOGL_DEBUG);
    return check_report();
}
