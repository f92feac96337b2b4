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
    "usage: api [options]\n"
    "       api --camera-token ID --camera-secret-file FILE   print camera ID's token\n"
    "       api --version | --help\n"
    "\n"
    "connection:\n"
    "  --listen HOST:PORT            address to listen on (default 127.0.0.1:8080; port 0:\n"
    "                                any free one, printed on stdout)\n"
    "  --poll-timeout S              seconds a /control-channel poll is held before 204\n"
    "                                (default 50; 0 = until the camera leaves; else >= 0.1)\n"
    "  --connect-grace S             seconds a camera counts as connected after a reply,\n"
    "                                and a /logs waits for a camera to come back (default 3)\n"
    "  --request-timeout S           seconds to receive a request's head and body\n"
    "                                (default 30)\n"
    "  --head-timeout S              seconds to receive a request's head, and a TLS\n"
    "                                handshake (default 5)\n"
    "  --tcp-keepalive I,N,C         keep-alive: first probe after I s idle, then every N s,\n"
    "                                dead after C unanswered (default 60,10,6); 0 = off\n"
    "  --tcp-user-timeout S          unacknowledged data ends a connection after S seconds\n"
    "                                (default I + N x C of --tcp-keepalive; 0 = off)\n"
    "  --http2                       also speak HTTP/2 (h2 over TLS, h2c in the clear;\n"
    "                                default off: HTTP/1.1 only), see docs/API.md\n"
    "\n"
    "limits:\n"
    "  --max-body BYTES              largest /send-stats body (default 16777216 = 16 MiB)\n"
    "  --max-cameras N               camera ids in the table at once (default 100000)\n"
    "  --max-polls N                 held /control-channel polls (default 3/4 of the\n"
    "                                open-file limit, less 64 and --max-pending)\n"
    "  --max-waiters N               held /logs requests, followers included (default\n"
    "                                the other 1/4)\n"
    "  --max-pending N               connections before their request head, TLS\n"
    "                                handshakes included; the oldest goes first at the cap\n"
    "                                (default 1/16 of the open-file limit, 32 to 4096)\n"
    "\n"
    "security (the files are reread on SIGHUP; the two secret ones mode 0600):\n"
    "  --camera-secret-file FILE     secret whose HMAC of an id is that camera's token\n"
    "                                (default none: cameras need no token)\n"
    "  --operator-token-file FILE    operator tokens, one a line, for /logs, /cameras,\n"
    "                                /metrics (default none: open to anyone)\n"
    "  --camera-revoked-file FILE    camera ids refused with 401, one a line; not secret (not\n"
    "                                writable by others), may not exist yet (default none)\n"
    "  --tls-cert FILE               PEM certificate chain; with --tls-key, HTTPS only on\n"
    "  --tls-key FILE                --listen (default none: plain HTTP)\n"
    "\n"
    "storage:\n"
    "  --forget-after S              seconds an idle camera stays in the table and\n"
    "                                /cameras (default 3600)\n"
    "  --cache-bytes BYTES           numbering cameras' events kept, all cameras (default\n"
    "                                67108864 = 64 MiB; 0 = no cache), see docs/API.md\n"
    "  --follow-hold S               seconds each follow upload asked of a followed camera\n"
    "                                stays open (1 to 60, default 25), see docs/API.md\n"
    "\n"
    "logging (stderr):\n"
    "  --log-level LEVEL             error, warn, info or debug (default info)\n"
    "  --log-format FORMAT           text, or json: one object a line (default text)\n"
    "  --quiet                       no per-request lines (default off)\n"
    "\n"
    "cluster (behind nginx, see docs/DEPLOY.md):\n"
    "  --node NAME                   this process's name, in request ids and /cameras\n"
    "                                (default none: a single api)\n"
    "  --rebalance-spread S          seconds SIGUSR1 / POST /rebalance spreads the end of\n"
    "                                held polls over (default 2)\n";

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
    O_LOGFORMAT,
    O_HEADTO,
    O_MAXPEND,
    O_FOLLOW
};

static const struct option longopts[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"poll-timeout", required_argument, NULL, O_POLL},
    {"connect-grace", required_argument, NULL, O_GRACE},
    {"max-body", required_argument, NULL, O_BODY},
    {"cache-bytes", required_argument, NULL, O_CACHE},
    {"follow-hold", required_argument, NULL, O_FOLLOW},
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
    {"head-timeout", required_argument, NULL, O_HEADTO},
    {"max-pending", required_argument, NULL, O_MAXPEND},
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
        return opts_duration("--poll-timeout", arg, true, 86400000, &api_conf.poll_timeout_ms, err,
                             n);
    case O_GRACE:
        return opts_duration("--connect-grace", arg, true, 3600000, &api_conf.grace_ms, err, n);
    case O_BODY:
        return opts_uint("--max-body", arg, 1, 1ull << 30, &api_conf.max_body, err, n);
    case O_CACHE:
        return opts_uint("--cache-bytes", arg, 0, 1ull << 40, &api_conf.cache_bytes, err, n);
    case O_FOLLOW:
        return opts_uint("--follow-hold", arg, 1, 60, &api_conf.follow_hold_s, err, n);
    case O_MAXCAM:
        return opts_uint("--max-cameras", arg, 1, 10000000, &api_conf.max_cameras, err, n);
    case O_MAXPOLLS:
        return opts_uint("--max-polls", arg, 1, 10000000, &api_conf.max_polls, err, n);
    case O_MAXWAIT:
        return opts_uint("--max-waiters", arg, 1, 10000000, &api_conf.max_waiters, err, n);
    case O_FORGET:
        return opts_duration("--forget-after", arg, true, 86400000ull * 365, &api_conf.forget_ms,
                             err, n);
    case O_REQTO:
        return opts_duration("--request-timeout", arg, false, 3600000, &api_conf.req_timeout_ms,
                             err, n);
    case O_HEADTO:
        return opts_duration("--head-timeout", arg, false, 3600000, &api_conf.head_timeout_ms, err,
                             n);
    case O_MAXPEND:
        return opts_uint("--max-pending", arg, 1, 10000000, &api_conf.max_pending, err, n);
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
