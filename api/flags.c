/* The command line -> api_conf (and the files and one-shot modes of
 * flags_t), like camera/flags.c: every flag is read first, the first bad one
 * is reported. Nothing here prints or exits: main does. */
#include <getopt.h>
#include <stdio.h>

#include "api.h"
#include "flags.h"
#include "log.h"
#include "net.h"
#include "opts.h"
#include "process.h"

const char flags_usage[] =
    "usage: api [--listen HOST:PORT]            default 127.0.0.1:8080\n"
    "           [--poll-timeout S]              default 50; at least 1, or 0 = hold until the\n"
    "                                           camera leaves\n"
    "           [--connect-grace S]             default 3\n"
    "           [--max-body BYTES]              default 16777216\n"
    "           [--cache-bytes BYTES]           default 67108864: numbering cameras' events\n"
    "                                           kept, all cameras; 0 = no cache\n"
    "           [--camera-secret-file FILE] [--operator-token-file FILE]\n"
    "           [--camera-revoked-file FILE]    camera ids refused (one a line); SIGHUP rereads\n"
    "                                           these three files\n"
    "           [--tls-cert FILE --tls-key FILE]\n"
    "           [--max-cameras N]               default 100000 distinct camera ids at once\n"
    "           [--max-polls N]                 held /control-channel requests; default 3/4 of\n"
    "                                           the open-file limit less 64\n"
    "           [--max-waiters N]               held /logs requests; default the other 1/4\n"
    "           [--forget-after S]              default 3600: an idle camera is forgotten\n"
    "           [--request-timeout S]           default 30: to receive a request's head+body\n"
    "           [--tcp-keepalive IDLE,INTVL,CNT] default 60,10,6 (s, s, probes); 0 = off\n"
    "           [--tcp-user-timeout S]          default IDLE + INTVL x CNT; 0 = off\n"
    "           [--log-level error|warn|info|debug]  default info\n"
    "           [--log-format text|json]        default text\n"
    "           [--node NAME] [--rebalance-spread S]  behind nginx; see docs/DEPLOY.md\n"
    "           [--quiet]                       no per-request log lines on stderr\n"
    "           [--http2]                       also speak HTTP/2 (h2, h2c): see docs/API.md\n"
    "       api --camera-token ID --camera-secret-file FILE   print the camera's token\n"
    "       api --version | --help\n";

enum {
    O_LISTEN = 256,
    O_POLL,
    O_GRACE,
    O_BODY,
    O_CACHE,
    O_SECRET,
    O_TOKENS,
    O_REVOKED,
    O_CERT,
    O_KEY,
    O_QUIET,
    O_HTTP2,
    O_HELP,
    O_VERSION,
    O_MAXCAM,
    O_FORGET,
    O_REQTO,
    O_CAMTOKEN,
    O_MAXPOLLS,
    O_MAXWAIT,
    O_KEEPALIVE,
    O_USERTO,
    O_LOGLEVEL,
    O_LOGFORMAT
};

static const struct option longopts[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"poll-timeout", required_argument, NULL, O_POLL},
    {"connect-grace", required_argument, NULL, O_GRACE},
    {"max-body", required_argument, NULL, O_BODY},
    {"cache-bytes", required_argument, NULL, O_CACHE},
    {"camera-secret-file", required_argument, NULL, O_SECRET},
    {"operator-token-file", required_argument, NULL, O_TOKENS},
    {"camera-revoked-file", required_argument, NULL, O_REVOKED},
    {"tls-cert", required_argument, NULL, O_CERT},
    {"tls-key", required_argument, NULL, O_KEY},
    {"max-cameras", required_argument, NULL, O_MAXCAM},
    {"max-polls", required_argument, NULL, O_MAXPOLLS},
    {"max-waiters", required_argument, NULL, O_MAXWAIT},
    {"forget-after", required_argument, NULL, O_FORGET},
    {"request-timeout", required_argument, NULL, O_REQTO},
    {"tcp-keepalive", required_argument, NULL, O_KEEPALIVE},
    {"tcp-user-timeout", required_argument, NULL, O_USERTO},
    {"log-level", required_argument, NULL, O_LOGLEVEL},
    {"log-format", required_argument, NULL, O_LOGFORMAT},
    NODE_LONGOPTS,
    {"camera-token", required_argument, NULL, O_CAMTOKEN},
    {"quiet", no_argument, NULL, O_QUIET},
    {"http2", no_argument, NULL, O_HTTP2},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

static enum log_level log_level = LOGL_INFO;
static enum log_format log_format = LOGF_TEXT;

/* 0 = never; otherwise at least a second, so that a camera's re-polls stay
 * a few a second at most. */
static int parse_poll_timeout(const char *s, char *err, size_t n)
{
    if (opts_seconds("--poll-timeout", s, 0, 86400000, &api_conf.poll_timeout_ms, err, n) != 0)
        return -1;
    if (api_conf.poll_timeout_ms != 0 && api_conf.poll_timeout_ms < 1000) {
        snprintf(err, n,
                 "--poll-timeout: expected 0 (hold until the camera leaves) or at least 1 "
                 "second, got '%s'",
                 s);
        return -1;
    }
    return 0;
}

static int parse_log(int c, const char *s, char *err, size_t n)
{
    if (c == O_LOGLEVEL ? log_parse_level(s, &log_level) == 0
                        : log_parse_format(s, &log_format) == 0)
        return 0;
    snprintf(err, n,
             c == O_LOGLEVEL ? "--log-level: expected error, warn, info or debug, got '%s'"
                             : "--log-format: expected text or json, got '%s'",
             s);
    return -1;
}

/* A flag with a number or duration. Returns 0, 1 (not one of those), or -1
 * with one line in err. */
static int parse_value(int c, const char *arg, char *err, size_t n)
{
    switch (c) {
    case O_LISTEN:
        return opts_hostport("--listen", arg, api_conf.host, sizeof(api_conf.host), &api_conf.port,
                             err, n);
    case O_POLL:
        return parse_poll_timeout(arg, err, n);
    case O_GRACE:
        return opts_seconds("--connect-grace", arg, 0, 3600000, &api_conf.grace_ms, err, n);
    case O_BODY:
        return opts_uint("--max-body", arg, 1, 1ull << 30, &api_conf.max_body, err, n);
    case O_CACHE:
        return opts_uint("--cache-bytes", arg, 0, 1ull << 40, &api_conf.cache_bytes, err, n);
    case O_MAXCAM:
        return opts_uint("--max-cameras", arg, 1, 10000000, &api_conf.max_cameras, err, n);
    case O_MAXPOLLS:
        return opts_uint("--max-polls", arg, 1, 10000000, &api_conf.max_polls, err, n);
    case O_MAXWAIT:
        return opts_uint("--max-waiters", arg, 1, 10000000, &api_conf.max_waiters, err, n);
    case O_FORGET:
        return opts_seconds("--forget-after", arg, 0, 86400000ull * 365, &api_conf.forget_ms, err,
                            n);
    case O_REQTO:
        return opts_seconds("--request-timeout", arg, 1, 3600000, &api_conf.req_timeout_ms, err, n);
    case O_KEEPALIVE:
        return net_parse_keepalive(arg, err, n);
    case O_USERTO:
        return net_parse_user_timeout(arg, err, n);
    case O_LOGLEVEL:
    case O_LOGFORMAT:
        return parse_log(c, arg, err, n);
    default:
        return node_parse(c, arg, err, n); /* --node, --rebalance-spread, or 1 */
    }
}

/* One flag into api_conf or *ff. Returns 0, or -1 with one line in err. */
static int parse_one(int c, const char *arg, flags_t *ff, char *err, size_t n)
{
    int rc = parse_value(c, arg, err, n);
    if (rc != 1)
        return rc;
    /* The rest: a file or id kept as given, or a switch turned on. */
    const struct {
        int c;
        const char **text;
        bool *on;
    } set[] = {
        {O_SECRET, &ff->secret, NULL},    {O_TOKENS, &ff->tokens, NULL},
        {O_REVOKED, &ff->revoked, NULL},  {O_CERT, &api_conf.tls_cert, NULL},
        {O_KEY, &api_conf.tls_key, NULL}, {O_CAMTOKEN, &ff->token_for, NULL},
        {O_QUIET, NULL, &api_conf.quiet}, {O_HTTP2, NULL, &api_conf.http2},
        {O_HELP, NULL, &ff->help},        {O_VERSION, NULL, &ff->version},
    };
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        if (set[i].c != c)
            continue;
        if (set[i].text != NULL)
            *set[i].text = arg;
        else
            *set[i].on = true;
        return 0;
    }
    snprintf(err, n, "unknown option");
    return -1;
}

/* Reads every flag first, so that --log-format and --log-level apply to
 * the report of a bad one (the first). */
int flags_parse(int argc, char **argv, flags_t *ff, char *first, size_t n)
{
    char err[256];
    int c;
    first[0] = '\0';
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == '?' || c == ':')
            snprintf(err, sizeof(err), "unknown or incomplete option '%s'", argv[optind - 1]);
        else if (parse_one(c, optarg, ff, err, sizeof(err)) == 0)
            continue;
        if (!first[0])
            snprintf(first, n, "%s", err);
    }
    log_setup("api", log_level, log_format);
    if (!first[0] && optind < argc)
        snprintf(first, n, "unexpected argument '%s'", argv[optind]);
    if (!first[0] && !api_conf.tls_cert != !api_conf.tls_key)
        snprintf(first, n, "--tls-cert and --tls-key go together");
    return first[0] ? -1 : 0;
}
