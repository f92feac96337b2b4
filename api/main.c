/* api: flags, the listener, signals, the loop and a clean shutdown. Accepted
 * connections go to the accept path (accept.c): the camera path, or h2o. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api.h"
#include "camlogs_version.h"
#include "log.h"
#include "opts.h"

api_config_t api_conf = {
    .host = "127.0.0.1",
    .port = 8080,
    .poll_timeout_ms = 50000,
    .grace_ms = 3000,
    .max_body = 16777216,
    .max_cameras = 100000,
    .max_polls = 0,   /* set from the open-file limit (budget.c) */
    .max_waiters = 0, /* likewise */
    .ka_idle = 60,    /* keep-alive: a dead path is noticed after 60 + 10 x 6 s */
    .ka_intvl = 10,
    .ka_cnt = 6,
    .forget_ms = 3600000,
    .req_timeout_ms = 30000,
};
h2o_evloop_t *api_loop;
bool api_stopping;

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static h2o_socket_t *listener, *signals;

static const char usage[] =
    "usage: api [--listen HOST:PORT]            default 127.0.0.1:8080\n"
    "           [--poll-timeout S]              default 50; at least 1, or 0 = hold until the\n"
    "                                           camera leaves\n"
    "           [--connect-grace S]             default 3\n"
    "           [--max-body BYTES]              default 16777216\n"
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

/* Flags ------------------------------------------------------------------------ */

/* The files and one-shot modes the flags name. */
typedef struct flag_files {
    const char *secret, *tokens, *revoked, *token_for;
    bool help, version;
} flag_files_t;

static void bad_usage(const char *msg)
{
    log_msg(LOGL_ERROR, "%s (see --help)", msg);
    exit(2);
}

static void fail_start(const char *what, const char *detail)
{
    log_msg(LOGL_ERROR, "%s: %s", what, detail);
    exit(1);
}

enum {
    O_LISTEN = 256,
    O_POLL,
    O_GRACE,
    O_BODY,
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
static int parse_one(int c, const char *arg, flag_files_t *ff, char *err, size_t n)
{
    int rc = parse_value(c, arg, err, n);
    if (rc != 1)
        return rc;
    switch (c) {
    case O_SECRET:
        ff->secret = arg;
        return 0;
    case O_TOKENS:
        ff->tokens = arg;
        return 0;
    case O_REVOKED:
        ff->revoked = arg;
        return 0;
    case O_CERT:
        api_conf.tls_cert = arg;
        return 0;
    case O_KEY:
        api_conf.tls_key = arg;
        return 0;
    case O_CAMTOKEN:
        ff->token_for = arg;
        return 0;
    case O_QUIET:
        api_conf.quiet = true;
        return 0;
    case O_HTTP2:
        api_conf.http2 = true;
        return 0;
    case O_HELP:
        ff->help = true;
        return 0;
    case O_VERSION:
        ff->version = true;
        return 0;
    default:
        snprintf(err, n, "unknown option");
        return -1;
    }
}

/* Reads every flag first, so that --log-format and --log-level apply to
 * the report of a bad one (the first). */
static void parse_flags(int argc, char **argv, flag_files_t *ff)
{
    char err[256], first[256] = "";
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == '?' || c == ':')
            snprintf(err, sizeof(err), "unknown or incomplete option '%s'", argv[optind - 1]);
        else if (parse_one(c, optarg, ff, err, sizeof(err)) == 0)
            continue;
        if (!first[0])
            snprintf(first, sizeof(first), "%s", err);
    }
    log_setup("api", log_level, log_format);
    if (!first[0] && optind < argc)
        snprintf(first, sizeof(first), "unexpected argument '%s'", argv[optind]);
    if (!first[0] && !api_conf.tls_cert != !api_conf.tls_key)
        snprintf(first, sizeof(first), "--tls-cert and --tls-key go together");
    if (first[0])
        bad_usage(first);
    if (ff->help) {
        fputs(usage, stdout);
        exit(0);
    }
    if (ff->version) {
        printf("api %s (protocol %s)\n", CAMLOGS_VERSION, CAMLOGS_PROTOCOL);
        exit(0);
    }
}

/* Listener, TLS, signals ----------------------------------------------------------- */

static void on_accept(h2o_socket_t *sock, const char *err);

/* Out of file descriptors: the pending connection stays readable and accept
 * would spin a core, so stop listening for a moment. */
static tmr_t accept_pause;

static void on_accept_resume(tmr_t *t)
{
    if (!api_stopping)
        h2o_socket_read_start(listener, on_accept);
}

static void on_accept(h2o_socket_t *sock, const char *err)
{
    h2o_socket_t *conn;
    if (err != NULL)
        return;
    if ((conn = h2o_evloop_socket_accept(sock)) != NULL) {
        conn_accept(conn);
    } else if (errno == EMFILE || errno == ENFILE) {
        h2o_socket_read_stop(listener);
        accept_pause.cb = on_accept_resume;
        tmr_arm(&accept_pause, 100);
    }
}

/* Binds --listen; the bound address (the real port for :0) goes to *bound. */
static int open_listener(struct sockaddr_storage *bound)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res;
    char port[8], what[300], addr[INET6_ADDRSTRLEN + 8];
    snprintf(port, sizeof(port), "%u", api_conf.port);
    snprintf(what, sizeof(what), strchr(api_conf.host, ':') ? "--listen [%s]:%u" : "--listen %s:%u",
             api_conf.host, api_conf.port);
    int rc = getaddrinfo(api_conf.host, port, &hints, &res);
    if (rc != 0)
        fail_start(what, gai_strerror(rc));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0)
        fail_start(what, strerror(errno));
    socklen_t sl = sizeof(*bound);
    getsockname(fd, (struct sockaddr *)bound, &sl);
    net_format_addr((struct sockaddr *)bound, addr, sizeof(addr));
    printf("listening on %s\n", addr);
    fflush(stdout);
    freeaddrinfo(res);
    return fd;
}

/* "FILE: what is wrong (OpenSSL's reason)": OpenSSL's reasons alone are
 * terse ("PEM lib") or missing. Returns a static buffer. */
static const char *tls_reason(const char *path, const char *what)
{
    static char msg[600];
    const char *r = ERR_reason_error_string(ERR_peek_last_error());
    if (access(path, R_OK) != 0)
        snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
    else
        snprintf(msg, sizeof(msg), "%s: %s (openssl: %s)", path, what, r ? r : "unknown error");
    return msg;
}

static void setup_tls(void)
{
    static const h2o_iovec_t alpn_h2[] = {{H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};
    static const h2o_iovec_t alpn_h1[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    if (ssl == NULL)
        fail_start("tls", "cannot create an SSL context");
    accept_ctx.ssl_ctx = ssl;
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    /* An idle (held) TLS connection gives its record buffers back. */
    SSL_CTX_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ssl, api_conf.tls_cert) != 1)
        fail_start("--tls-cert",
                   tls_reason(api_conf.tls_cert, "not a usable PEM certificate chain"));
    if (SSL_CTX_use_PrivateKey_file(ssl, api_conf.tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ssl) != 1)
        fail_start("--tls-key",
                   tls_reason(api_conf.tls_key, "not the PEM private key of --tls-cert"));
    h2o_ssl_register_alpn_protocols(ssl, api_conf.http2 ? alpn_h2 : alpn_h1);
}

static const char *stop_reason = "signal";

/* SIGHUP rereads the credentials files; SIGINT and SIGTERM stop. */
static void on_signal(h2o_socket_t *sock, const char *err)
{
    struct signalfd_siginfo si;
    while (read(h2o_socket_get_fd(sock), &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            reload_now();
        } else {
            stop_reason = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
            api_stopping = true;
        }
    }
}

static void setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        fail_start("signalfd", strerror(errno));
    signals = h2o_evloop_socket_create(api_loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(signals, on_signal);
}

/* Stops accepting, answers every held request 503, and lets the replies go
 * out: runs until every request is disposed of, at most two seconds. */
static void shutdown_gracefully(void)
{
    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    h2o_context_request_shutdown(&ctx);
    size_t polls = cameras_polls(), waiters = metrics_waiting_now();
    cameras_shutdown();
    cam_shutdown();
    uint64_t end = now_ms() + 2000;
    while (live_count() + cam_live() > 0 && now_ms() < end)
        h2o_evloop_run(api_loop, 10);
    announce_stop(stop_reason, polls, waiters, live_count() + cam_live());
    cam_close_all();
    h2o_socket_close(signals);
    hangup_close();
    rebalance_close();
    tmr_close();
    h2o_evloop_run(api_loop, 0); /* frees the closed sockets */
}

/* api --camera-token ID --camera-secret-file FILE: prints the token, exits. */
static int print_camera_token(const flag_files_t *ff)
{
    char err[512], tok[AUTH_TOKEN_HEX + 1];
    size_t len;
    if (!query_valid_id(ff->token_for, strlen(ff->token_for)))
        bad_usage("--camera-token: not a camera id ([A-Za-z0-9._-]{1,64})");
    if (ff->secret == NULL)
        bad_usage("--camera-token needs --camera-secret-file");
    char *secret = auth_load_secret(ff->secret, &len, err, sizeof(err));
    if (secret == NULL)
        fail_start("--camera-secret-file", err);
    auth_camera_token(secret, len, ff->token_for, strlen(ff->token_for), tok);
    puts(tok);
    free(secret);
    return 0;
}

int main(int argc, char **argv)
{
    flag_files_t ff = {0};
    parse_flags(argc, argv, &ff);
    if (ff.token_for != NULL)
        return print_camera_token(&ff);
    reload_setup(ff.secret, ff.tokens, ff.revoked);
    budget_setup();

    /* A request held by h2o keeps its connection's input buffer: h2o starts
     * it at 8 KiB; reads reserve 4 KiB and bodies grow it, so 4 KiB is
     * enough. (The camera path keeps none while a poll is held.) */
    h2o_socket_buffer_prototype._initial_buf.capacity = H2O_SOCKET_INITIAL_INPUT_BUFFER_SIZE;
    h2o_config_init(&config);
    /* h2o buffers bodies it reads (HTTP/2, and HTTP/1 connections handed
     * to it) and refuses them from this size on with its own 413; ours is
     * exact. The slack covers chunked framing, which h2o counts. */
    config.max_request_entity_size = api_conf.max_body + 65536;
    config.http1.req_timeout = api_conf.req_timeout_ms;
    /* HTTP/2 in h2o 2.2.5 buffers every stream's body before a handler
     * runs, credentials unchecked: off unless asked for (docs/API.md). */
    config.http1.upgrade_to_http2 = api_conf.http2;
    config.http2.idle_timeout = api_conf.req_timeout_ms;
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    routes_register(h2o_config_register_path(host, "/", 0));

    api_loop = h2o_evloop_create();
    h2o_context_init(&ctx, api_loop, &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    conn_setup(&accept_ctx);
    if (api_conf.tls_cert != NULL)
        setup_tls();
    tmr_setup(api_loop);
    hangup_setup(api_loop);
    cameras_setup();
    setup_signals();
    rebalance_setup(api_loop); /* SIGUSR1 */

    struct sockaddr_storage bound;
    int fd = open_listener(&bound);
    announce_start((struct sockaddr *)&bound);
    listener = h2o_evloop_socket_create(api_loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(listener, on_accept);

    while (!api_stopping)
        h2o_evloop_run(api_loop, INT32_MAX);
    shutdown_gracefully();
    return 0;
}
