/* The unit tests' one assertion: CHECK(cond) or CHECK(cond, "fmt", args...)
 * counts a pass or prints the failure (file, line, condition, message) and
 * goes on; check_report() prints "N passed, N failed" and gives the exit
 * status. */
#ifndef CHECK_H
#define CHECK_H

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static inline int check_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/** Runs `fn` on every dir/NAME.txt in name order (the vector files of
 * tests/cases/<module>/); checks the directory opens (tests run from the
 * repo root) and holds at least `min` of them. Returns how many ran. */
static inline int check_each_case(const char *dir, void (*fn)(const char *path), int min)
{
    enum { CASES_MAX = 1024 };
    static char *names[CASES_MAX];
    DIR *dh = opendir(dir);
    struct dirent *e;
    int n = 0;

    CHECK(dh != NULL, "cannot open %s (run from the repo root)", dir);
    if (!dh)
        return 0;
    while ((e = readdir(dh)) && n < CASES_MAX) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".txt")) {
            names[n] = malloc(strlen(dir) + l + 2);
            sprintf(names[n++], "%s/%s", dir, e->d_name);
        }
    }
    closedir(dh);
    qsort(names, (size_t)n, sizeof *names, check_by_name);
    for (int i = 0; i < n; i++) {
        fn(names[i]);
        free(names[i]);
    }
    printf("%d vector files\n", n);
    CHECK(n >= min, "only %d vector files", n);
    return n;
}

static inline int check_report(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed != 0;
}

#endif
