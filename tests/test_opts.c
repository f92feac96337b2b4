/* Command-line values: seconds, integers, HOST:PORT. */
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "check.h"

static char err[256];

static int secs(const char *s, uint64_t min, uint64_t max, uint64_t *ms)
{
    err[0] = '\0';
    return opts_seconds("--poll-timeout", s, min, max, ms, err, sizeof err);
}

static void test_seconds(void)
{
    static const struct {
        const char *s;
        uint64_t ms;
    } ok[] = {
        {"10", 10000},
        {"0", 0},
        {"0.5", 500},
        {"0.25", 250},
        {"0.0001", 1},
        {"1.0009", 1001},
        {"007", 7000},
        {"86400", 86400000},
        {"2.000", 2000},
        {"0.001", 1},
        {"1.00000000000000000001", 1001},
    };
    uint64_t ms;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK(secs(ok[i].s, 0, 86400000, &ms) == 0 && ms == ok[i].ms);
        if (ms != ok[i].ms)
            fprintf(stderr, "  %s -> %llu\n", ok[i].s, (unsigned long long)ms);
    }
    static const char *const bad[] = {"",   ".5",  "5.",  "1e3",  "-1",  "+1",    " 1",
                                      "1 ", "nan", "inf", "0x10", "1,5", "1.2.3", "1s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(secs(bad[i], 0, 86400000, &ms) == -1);
        CHECK(strstr(err, "--poll-timeout: expected seconds") == err && strchr(err, '\n') == NULL);
    }
    CHECK(secs("x", 0, 1000, &ms) == -1 &&
          strcmp(err, "--poll-timeout: expected seconds (like 10 or 0.5), got 'x'") == 0);

    /* Bounds are exact: 0.1..300 takes 0.1 and 300.000 but not 300.0001. */
    CHECK(secs("0.1", 100, 300000, &ms) == 0 && ms == 100);
    CHECK(secs("300.000", 100, 300000, &ms) == 0 && ms == 300000);
    CHECK(secs("299.9999", 100, 300000, &ms) == 0 && ms == 300000);
    CHECK(secs("300.0001", 100, 300000, &ms) == -1);
    CHECK(strcmp(err, "--poll-timeout: expected seconds between 0.1 and 300, got '300.0001'") == 0);
    CHECK(secs("0.0999", 100, 300000, &ms) == -1);
    CHECK(secs("99999999999999999999999999999999", 0, UINT64_MAX, &ms) == 0);
    CHECK(secs("99999999999999999999999999999999", 0, 86400000, &ms) == -1);
    CHECK(secs("1.5", 2000, 2500, &ms) == -1 && strstr(err, "between 2 and 2.5") != NULL);
}

static void test_duration(void)
{
    uint64_t ms;
    CHECK(opts_duration("--connect-grace", "0.5", true, 3600000, &ms, err, sizeof err) == 0 &&
          ms == 500);
    CHECK(opts_duration("--connect-grace", "0", true, 3600000, &ms, err, sizeof err) == 0 &&
          ms == 0);
    CHECK(opts_duration("--connect-grace", "0.1", true, 3600000, &ms, err, sizeof err) == 0 &&
          ms == 100);
    CHECK(opts_duration("--connect-grace", "0.05", true, 3600000, &ms, err, sizeof err) == -1);
    CHECK(strcmp(err, "--connect-grace: expected 0 or at least 0.1 seconds, got '0.05'") == 0);
    CHECK(opts_duration("--head-timeout", "0", false, 3600000, &ms, err, sizeof err) == -1);
    CHECK(strstr(err, "--head-timeout: expected seconds between 0.1 and 3600") == err);
    CHECK(opts_duration("--head-timeout", "0.25", false, 3600000, &ms, err, sizeof err) == 0 &&
          ms == 250);
}

static void test_uint(void)
{
    uint64_t v;

    CHECK(opts_uint("--retain", "10000", 1, 1000000, &v, err, sizeof err) == 0 && v == 10000);
    CHECK(opts_uint("--retain", "1", 1, 1000000, &v, err, sizeof err) == 0 && v == 1);
    CHECK(opts_uint("--retain", "0001000000", 1, 1000000, &v, err, sizeof err) == 0);
    CHECK(opts_uint("--max-body", "18446744073709551615", 0, UINT64_MAX, &v, err, sizeof err) ==
              0 &&
          v == UINT64_MAX);
    CHECK(opts_uint("--max-body", "18446744073709551616", 0, UINT64_MAX, &v, err, sizeof err) ==
          -1);
    CHECK(opts_uint("--max-body", "99999999999999999999999", 0, UINT64_MAX, &v, err, sizeof err) ==
          -1);
    static const char *const bad[] = {"0",   "1000001", "",   "-1", "+1",
                                      "1.0", "1e3",     " 1", "1 ", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(opts_uint("--retain", bad[i], 1, 1000000, &v, err, sizeof err) == -1);
    CHECK(strcmp(err, "--retain: expected an integer between 1 and 1000000, got 'abc'") == 0);
}

static int hp(const char *s, char *host, uint16_t *port)
{
    return opts_hostport("--listen", s, host, 64, port, err, sizeof err);
}

static void test_hostport(void)
{
    char host[64];
    uint16_t port;

    CHECK(hp("127.0.0.1:8080", host, &port) == 0 && strcmp(host, "127.0.0.1") == 0 && port == 8080);
    CHECK(hp("0.0.0.0:0", host, &port) == 0 && port == 0);
    CHECK(hp("localhost:65535", host, &port) == 0 && strcmp(host, "localhost") == 0 &&
          port == 65535);
    CHECK(hp("[::1]:80", host, &port) == 0 && strcmp(host, "::1") == 0 && port == 80);
    CHECK(hp("[::]:80", host, &port) == 0 && strcmp(host, "::") == 0);
    CHECK(hp("[fe80::1:2]:443", host, &port) == 0 && strcmp(host, "fe80::1:2") == 0);

    static const char *const bad[] = {
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:80x",
        ":8080",
        "256.0.0.1:80",
        "1.2.3:80",
        "1.2.3.4.5:80",
        "example.com:80",
        "::1:80",
        "[::1]",
        "[::1]80",
        "[]:80",
        "[1.2.3.4]:80",
        "[::g]:80",
        "1.2.3.4:999999",
        "1.2.3.4:+80",
        "",
        "localhost:8080 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = hp(bad[i], host, &port);
        CHECK(rc == -1 && strncmp(err, "--listen: ", 10) == 0);
        if (rc != -1)
            fprintf(stderr, "  accepted %s\n", bad[i]);
    }
    /* The host buffer is too small for the address. */
    CHECK(opts_hostport("--listen", "127.0.0.1:80", host, 9, &port, err, sizeof err) == -1);
    CHECK(opts_hostport("--listen", "127.0.0.1:80", host, 10, &port, err, sizeof err) == 0);
}

static void test_keepalive(void)
{
    opts_keepalive_t ka;

    CHECK(opts_keepalive("--tcp-keepalive", "30,10,9", &ka, err, sizeof err) == 0);
    CHECK(ka.on && ka.idle_s == 30 && ka.intvl_s == 10 && ka.count == 9);
    CHECK(opts_keepalive_dead_s(&ka) == 120);
    CHECK(opts_keepalive("--tcp-keepalive", "1,2,3", &ka, err, sizeof err) == 0);
    CHECK(ka.on && ka.idle_s == 1 && ka.intvl_s == 2 && ka.count == 3);
    CHECK(opts_keepalive("--tcp-keepalive", "32767,32767,127", &ka, err, sizeof err) == 0);
    CHECK(opts_keepalive("--tcp-keepalive", "off", &ka, err, sizeof err) == 0 && !ka.on);
    ka.on = true;
    CHECK(opts_keepalive("--tcp-keepalive", "0", &ka, err, sizeof err) == 0 && !ka.on);
    CHECK(opts_keepalive_dead_s(&ka) == 0);
    static const char *const bad[] = {"",
                                      "30",
                                      "30,",
                                      ",10",
                                      "0,10",
                                      "30,0",
                                      "30,10,0",
                                      "30,10,128",
                                      "32768,1",
                                      "1,32768",
                                      "30,10,",
                                      "30,10,9,1",
                                      "30 ,10",
                                      "on",
                                      "-1,10",
                                      "1.5,10",
                                      "99999999999999999999999,1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ka = (opts_keepalive_t){.on = true, .idle_s = 7};
        err[0] = '\0';
        CHECK(opts_keepalive("--tcp-keepalive", bad[i], &ka, err, sizeof err) == -1);
        CHECK(strstr(err, "--tcp-keepalive: expected IDLE,INTVL,CNT") == err);
        CHECK(ka.on && ka.idle_s == 7); /* untouched on error */
    }
}

int main(void)
{
    test_seconds();
    test_duration();
    test_uint();
    test_hostport();
    test_keepalive();
    return check_report();
}
