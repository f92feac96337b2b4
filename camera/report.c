/* Lines about failed requests, at a rate an operator can read: a camera
 * that backs off for hours must neither fill the disk with one line per
 * attempt nor go silent. The first failure of a kind is logged (warn),
 * repeats of the same kind at most once a minute with how many were held
 * back (each one still at debug, with its retry delay); a failure of
 * another kind is logged at once. After failures, the first success says
 * so once, with how long it took. */
#include "camera.h"

#include <stdarg.h>
#include <stdio.h>

#define REPORT_EVERY_MS 60000

void report_init(report_t *r, const char *noun)
{
    *r = (report_t){.noun = noun};
}

void report_failure(report_t *r, uint64_t now, const failure_t *f, const char *fmt, ...)
{
    log_field_t fields[3];
    size_t n = 0;
    char msg[1024];
    va_list ap;
    bool again = r->fails > 0 && f->key == r->key && now - r->logged_ms < REPORT_EVERY_MS;

    if (r->fails++ == 0)
        r->first_ms = now;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (f->error[0])
        fields[n++] = LOG_STR("error", f->error); /* the api's own reason */
    if (f->hint)
        fields[n++] = LOG_STR("hint", f->hint);
    if (again) {
        r->held++;
        log_with(LOGL_DEBUG, fields, n, "%s", msg);
        return;
    }
    if (r->held > 0 && f->key == r->key)
        fields[n++] = LOG_NUM("repeated", r->held); /* like it, held back since the last */
    log_with(LOGL_WARN, fields, n, "%s", msg);
    r->key = f->key;
    r->held = 0;
    r->logged_ms = now;
}

void report_success(report_t *r, uint64_t now)
{
    if (r->fails > 0)
        log_msg(LOGL_INFO, "connected again after %.1f s (%u failed %s)",
                (double)(now - r->first_ms) / 1000, r->fails, r->noun);
    report_init(r, r->noun);
}

void report_clear(report_t *r)
{
    report_init(r, r->noun);
}
