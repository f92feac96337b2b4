/* The unit tests' one assertion: CHECK(cond) or CHECK(cond, "fmt", args...)
 * counts a pass or prints the failure (file, line, condition, message) and
 * goes on; check_report() prints "N passed, N failed" and gives the exit
 * status. */
#ifndef CHECK_H
#define CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int check_passed, check_failed;

static inline void check_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    check_failed++;
    printf("FAIL %s:%d: %s", file, line, cond);
    if (*fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stdout);
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond)                                                                                  \
            check_passed++;                                                                        \
        else                                                                                       \
            check_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__);                                 \
    } while (0)

static inline int check_report(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed != 0;
}

#endif
