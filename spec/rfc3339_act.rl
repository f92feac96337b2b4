/* Host code for spec/rfc3339.rl: the incremental RFC 3339 date-time parser.
 * The EOL decoder feeds it one decoded byte at a time, so all state lives in
 * rfc3339_parser_t (`access st->`) and every check runs on the byte that
 * decides it. */
#include "rfc3339.h"

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Months with 31 days: Jan Mar May Jul Aug Oct Dec. */
static int has31(int m)
{
    return (0x15AA >> m) & 1;
}

%%{
machine rfc3339;
access st->;
alphtype unsigned char;

action year_d { st->year = st->year * 10 + (fc - '0'); }
action mon_d  { st->mon = st->mon * 10 + (fc - '0'); }
action mday_d { st->mday = st->mday * 10 + (fc - '0'); }
action hour_d { st->hour = st->hour * 10 + (fc - '0'); }
action min_d  { st->min = st->min * 10 + (fc - '0'); }
action sec_d  { st->sec = st->sec * 10 + (fc - '0'); }
action offh_d { st->off_h = st->off_h * 10 + (fc - '0'); }
action offm_d { st->off_m = st->off_m * 10 + (fc - '0'); }
action off_neg { st->off_sign = -1; }

# The fraction is kept as digits of the input (exact comparison later);
# frac_len stops at the last non-zero digit, dropping trailing zeros.
action frac_start { st->out.frac_off = POS(fpc) + 1; }
action frac_d {
    if (fc != '0')
        st->out.frac_len = POS(fpc) + 1 - st->out.frac_off;
}

action feb29_ok { st->mon != 2 || is_leap(st->year) }
action not_feb  { st->mon != 2 }
action has31    { has31(st->mon) }
action min59    { st->min == 59 }

include rfc3339_common "rfc3339.rl";

main := date_time;

write data noentry;
}%%

/* Offset of input byte q from the start of the string. */
#define POS(q) (base + (uint32_t)((q) - data))

void rfc3339_init(rfc3339_parser_t *st)
{
    *st = (rfc3339_parser_t){0};
    st->off_sign = 1;
    %% write init;
}

/* Runs the machine over data[0..len). Returns 0, or -1 with st->n at the
 * offset of the byte that has no transition. */
static int run(rfc3339_parser_t *st, const unsigned char *data, size_t len)
{
    if (st->cs == rfc3339_error)
        return -1;
    const unsigned char *p = data, *pe = data + len;
    uint32_t base = st->n;
    %% write exec;
    st->n = POS(p);
    return st->cs == rfc3339_error ? -1 : 0;
}

int rfc3339_feed(rfc3339_parser_t *st, unsigned char c)
{
    return run(st, &c, 1);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): plain integer arithmetic, any year, no timegm/TZ. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int rfc3339_finish(rfc3339_parser_t *st)
{
    if (st->cs < rfc3339_first_final)
        return -1;
    int64_t off = st->off_sign * (st->off_h * 3600 + st->off_m * 60);
    /* Second 60 gets the Unix second it precedes (hh+1:00:00) and the leap
     * flag, which rfc3339_cmp orders before that second. Offsets are whole
     * minutes, so the UTC instant is second 60 of a UTC minute too. */
    st->out.sec = days_from_civil(st->year, st->mon, st->mday) * 86400 + st->hour * 3600 +
                  st->min * 60 + st->sec - off;
    st->out.leap = st->sec == 60;
    if (st->out.frac_len == 0)
        st->out.frac_off = 0;
    return 0;
}

int rfc3339_parse(const char *s, size_t len, rfc3339_t *out, size_t *err_at)
{
    rfc3339_parser_t st;

    rfc3339_init(&st);
    if (run(&st, (const unsigned char *)s, len) < 0) {
        *err_at = st.n;
        return -1;
    }
    if (rfc3339_finish(&st) < 0) {
        *err_at = len;
        return -1;
    }
    *out = st.out;
    return 0;
}
