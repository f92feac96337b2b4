/* Command-line values: durations, counts and the listen address. Each
 * parser writes one line into err on failure; main prints it and exits 2. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "opts.h"

#define SEC_CAP 1000000000000ull /* seconds saturate here (~31700 years), so ms fit */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads 1*DIGIT at *s into *v, saturating at UINT64_MAX (then *over is
 * set). Returns false when there is no digit. */
static bool digits(const char **s, uint64_t *v, bool *over)
{
    const char *start = *s, *p = start;

    *v = 0;
    *over = false;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (*v > (UINT64_MAX - d) / 10) {
            *v = UINT64_MAX;
            *over = true;
        } else {
            *v = *v * 10 + d;
        }
    }
    *s = p;
    return p > start;
}

/* Writes ms as seconds, without trailing zeros: 1500 -> "1.5". */
static void fmt_secs(char *out, size_t n, uint64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(out, n, "%llu", (unsigned long long)(ms / 1000));
    else if (ms % 100 == 0)
        snprintf(out, n, "%llu.%01llu", (unsigned long long)(ms / 1000),
                 (unsigned long long)(ms % 1000 / 100));
    else if (ms % 10 == 0)
        snprintf(out, n, "%llu.%02llu", (unsigned long long)(ms / 1000),
                 (unsigned long long)(ms % 1000 / 10));
    else
        snprintf(out, n, "%llu.%03llu", (unsigned long long)(ms / 1000),
                 (unsigned long long)(ms % 1000));
}

int opts_seconds(const char *flag, const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *ms,
                 char *err, size_t errlen)
{
    const char *p = s;
    uint64_t sec, trunc, frac = 0;
    int n = 0, rest = 0; /* fraction digits used; a later non-zero one */
    bool over;

    if (!digits(&p, &sec, &over))
        goto bad;
    if (sec > SEC_CAP)
        sec = SEC_CAP;
    if (*p == '.') {
        if (!is_digit(*++p))
            goto bad;
        for (; is_digit(*p); p++) {
            if (n < 3) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                n++;
            } else if (*p != '0')
                rest = 1;
        }
        for (; n < 3; n++)
            frac *= 10;
    }
    if (*p != '\0')
        goto bad;
    /* Exact bounds: the truncated ms decide the minimum, the remainder the maximum. */
    trunc = sec * 1000 + frac;
    if (trunc < min_ms || trunc + rest > max_ms) {
        char lo[32], hi[32];
        fmt_secs(lo, sizeof lo, min_ms);
        fmt_secs(hi, sizeof hi, max_ms);
        snprintf(err, errlen, "%s: expected seconds between %s and %s, got '%s'", flag, lo, hi, s);
        return -1;
    }
    *ms = trunc + rest;
    return 0;
bad:
    snprintf(err, errlen, "%s: expected seconds (like 10 or 0.5), got '%s'", flag, s);
    return -1;
}

int opts_duration(const char *flag, const char *s, bool zero_ok, uint64_t max_ms, uint64_t *ms,
                  char *err, size_t errlen)
{
    if (opts_seconds(flag, s, zero_ok ? 0 : OPTS_DURATION_MIN_MS, max_ms, ms, err, errlen) != 0)
        return -1;
    if (*ms != 0 && *ms < OPTS_DURATION_MIN_MS) {
        snprintf(err, errlen, "%s: expected %sat least 0.1 seconds, got '%s'", flag,
                 zero_ok ? "0 or " : "", s);
        return -1;
    }
    return 0;
}

int opts_uint(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
              size_t errlen)
{
    const char *p = s;
    uint64_t v;
    bool over;

    if (!digits(&p, &v, &over) || *p != '\0' || over || v < min || v > max) {
        snprintf(err, errlen, "%s: expected an integer between %llu and %llu, got '%s'", flag,
                 (unsigned long long)min, (unsigned long long)max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* A port: 1..5 digits, 0..65535. */
static bool parse_port(const char *s, uint16_t *port)
{
    const char *p = s;
    uint64_t v;
    bool over;

    if (!digits(&p, &v, &over) || *p != '\0' || p - s > 5 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Checks the host part s[0..n) and copies it (without brackets) to host. */
static bool parse_host(const char *s, size_t n, char *host, size_t hostlen)
{
    unsigned char addr[16];
    bool v6 = n >= 2 && s[0] == '[' && s[n - 1] == ']';

    if (v6) {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= hostlen || n >= INET6_ADDRSTRLEN)
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    if (v6)
        return inet_pton(AF_INET6, host, addr) == 1;
    return strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, addr) == 1;
}

int opts_hostport(const char *flag, const char *s, char *host, size_t hostlen, uint16_t *port,
                  char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');

    if (colon == NULL) {
        snprintf(err, errlen, "%s: expected HOST:PORT, got '%s'", flag, s);
        return -1;
    }
    /* An unbracketed v6 address has more colons: ask for brackets. */
    if (s[0] != '[' && memchr(s, ':', (size_t)(colon - s)) != NULL) {
        snprintf(err, errlen, "%s: write an IPv6 host in brackets ([::1]:8080), got '%s'", flag, s);
        return -1;
    }
    if (!parse_host(s, (size_t)(colon - s), host, hostlen)) {
        snprintf(err, errlen,
                 "%s: expected an IPv4 address, localhost or [IPv6] before the port, got '%s'",
                 flag, s);
        return -1;
    }
    if (!parse_port(colon + 1, port)) {
        snprintf(err, errlen, "%s: expected a port 0..65535, got '%s'", flag, s);
        return -1;
    }
    return 0;
}

/* One comma-separated field of --tcp-keepalive: 1..max. */
static bool ka_field(const char **p, uint64_t max, unsigned *out)
{
    uint64_t v;
    bool over;

    if (!digits(p, &v, &over) || over || v < 1 || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

int opts_keepalive(const char *flag, const char *s, opts_keepalive_t *ka, char *err, size_t errlen)
{
    const char *p = s;
    opts_keepalive_t k = {.on = true};

    if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0) {
        *ka = (opts_keepalive_t){.on = false};
        return 0;
    }
    if (!ka_field(&p, 32767, &k.idle_s) || *p++ != ',' || !ka_field(&p, 32767, &k.intvl_s) ||
        *p++ != ',' || !ka_field(&p, 127, &k.count) || *p != '\0')
        goto bad;
    *ka = k;
    return 0;
bad:
    snprintf(err, errlen,
             "%s: expected IDLE,INTVL,CNT (seconds 1..32767, seconds, probes 1..127) or 0 (off), "
             "got '%s'",
             flag, s);
    return -1;
}

unsigned opts_keepalive_dead_s(const opts_keepalive_t *ka)
{
    return ka->on ? ka->idle_s + ka->intvl_s * ka->count : 0;
}
