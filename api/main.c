/* api: flags, the listener, signals, the loop and a clean shutdown. Accepted
 * connections go to the accept path (accept.c): the camera path, or h2o. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api.h"
#include "opts.h"

api_config_t api_conf = {
    .host = "127.0.0.1",
    .port = 8080,
    .poll_timeout_ms = 50000,
    .grace_ms = 3000,
    .max_body = 16777216,
    .max_cameras = 100000,
    .max_polls = 0, /* set from the open-file limit */
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
    "           [--poll-timeout S]              default 50, 0 = hold until the camera leaves\n"
    "           [--connect-grace S]             default 3\n"
    "           [--max-body BYTES]              default 16777216\n"
    "           [--camera-secret-file FILE] [--operator-token-file FILE]\n"
    "           [--tls-cert FILE --tls-key FILE]\n"
    "           [--max-cameras N]               default 100000 distinct camera ids at once\n"
    "           [--max-polls N]                 held /control-channel requests; default: the\n"
    "                                           open-file limit less 64\n"
    "           [--forget-after S]              default 3600: an idle camera is forgotten\n"
    "           [--request-timeout S]           default 30: to receive a request's head+body\n"
    "           [--quiet]                       no per-request log lines on stderr\n"
    "       api --camera-token ID --camera-secret-file FILE   print the camera's token\n";

/* Flags ------------------------------------------------------------------------ */

static void bad_usage(const char *msg)
{
    fprintf(stderr, "api: %s (see --help)\n", msg);
    exit(2);
}

static void parse_flags(int argc, char **argv, const char **secret_file, const char **token_file,
                        const char **token_for)
{
    enum {
        O_LISTEN = 256,
        O_POLL,
        O_GRACE,
        O_BODY,
        O_SECRET,
        O_TOKENS,
        O_CERT,
        O_KEY,
        O_QUIET,
        O_HELP,
        O_MAXCAM,
        O_FORGET,
        O_REQTO,
        O_CAMTOKEN,
        O_MAXPOLLS
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"poll-timeout", required_argument, NULL, O_POLL},
        {"connect-grace", required_argument, NULL, O_GRACE},
        {"max-body", required_argument, NULL, O_BODY},
        {"camera-secret-file", required_argument, NULL, O_SECRET},
        {"operator-token-file", required_argument, NULL, O_TOKENS},
        {"tls-cert", required_argument, NULL, O_CERT},
        {"tls-key", required_argument, NULL, O_KEY},
        {"max-cameras", required_argument, NULL, O_MAXCAM},
        {"max-polls", required_argument, NULL, O_MAXPOLLS},
        {"forget-after", required_argument, NULL, O_FORGET},
        {"request-timeout", required_argument, NULL, O_REQTO},
        {"camera-token", required_argument, NULL, O_CAMTOKEN},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    char err[256];
    int rc = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            rc = opts_hostport("--listen", optarg, api_conf.host, sizeof(api_conf.host),
                               &api_conf.port, err, sizeof(err));
            break;
        case O_POLL:
            rc = opts_seconds("--poll-timeout", optarg, 0, 86400000, &api_conf.poll_timeout_ms, err,
                              sizeof(err));
            break;
        case O_GRACE:
            rc = opts_seconds("--connect-grace", optarg, 0, 3600000, &api_conf.grace_ms, err,
                              sizeof(err));
            break;
        case O_BODY:
            rc = opts_uint("--max-body", optarg, 1, 1ull << 30, &api_conf.max_body, err,
                           sizeof(err));
            break;
        case O_MAXCAM:
            rc = opts_uint("--max-cameras", optarg, 1, 10000000, &api_conf.max_cameras, err,
                           sizeof(err));
            break;
        case O_MAXPOLLS:
            rc = opts_uint("--max-polls", optarg, 1, 10000000, &api_conf.max_polls, err,
                           sizeof(err));
            break;
        case O_FORGET:
            rc = opts_seconds("--forget-after", optarg, 0, 86400000ull * 365, &api_conf.forget_ms,
                              err, sizeof(err));
            break;
        case O_REQTO:
            rc = opts_seconds("--request-timeout", optarg, 1, 3600000, &api_conf.req_timeout_ms,
                              err, sizeof(err));
            break;
        case O_SECRET:
            *secret_file = optarg;
            break;
        case O_TOKENS:
            *token_file = optarg;
            break;
        case O_CERT:
            api_conf.tls_cert = optarg;
            break;
        case O_KEY:
            api_conf.tls_key = optarg;
            break;
        case O_CAMTOKEN:
            *token_for = optarg;
            break;
        case O_QUIET:
            api_conf.quiet = true;
            break;
        case O_HELP:
            fputs(usage, stdout);
            exit(0);
        default:
            snprintf(err, sizeof(err), "unknown or incomplete option '%s'", argv[optind - 1]);
            bad_usage(err);
        }
        if (rc != 0)
            bad_usage(err);
    }
    if (optind < argc) {
        snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
        bad_usage(err);
    }
    if (!api_conf.tls_cert != !api_conf.tls_key)
        bad_usage("--tls-cert and --tls-key go together");
}

static void fail_start(const char *what, const char *detail)
{
    fprintf(stderr, "api: %s: %s\n", what, detail);
    exit(1);
}

static void load_auth(const char *secret_file, const char *token_file)
{
    char err[512];
    if (secret_file != NULL) {
        api_conf.camera_secret =
            auth_load_secret(secret_file, &api_conf.camera_secret_len, err, sizeof(err));
        if (api_conf.camera_secret == NULL)
            fail_start("--camera-secret-file", err);
    }
    if (token_file != NULL && auth_load_tokens(token_file, &api_conf.operators, err, sizeof(err)))
        fail_start("--operator-token-file", err);
}

/* One line, naming what stays open; after every start check has passed. */
static void warn_if_open(const char *secret_file, const char *token_file)
{
    const char *unauth = secret_file ? (token_file ? NULL : "operator")
                                     : (token_file ? "camera" : "camera and operator");
    if (unauth != NULL)
        fprintf(stderr,
                "api: warning: %s endpoints need no token (see --camera-secret-file, "
                "--operator-token-file): anyone who can reach %s may use them\n",
                unauth, api_conf.host);
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

static int open_listener(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res;
    char port[8], host[300];
    snprintf(port, sizeof(port), "%u", api_conf.port);
    int rc = getaddrinfo(api_conf.host, port, &hints, &res);
    if (rc != 0)
        fail_start("--listen", gai_strerror(rc));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0)
        fail_start("--listen", strerror(errno));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                NI_NUMERICHOST | NI_NUMERICSERV);
    printf(ss.ss_family == AF_INET6 ? "listening on [%s]:%s\n" : "listening on %s:%s\n", host,
           port);
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
    static const h2o_iovec_t alpn[] = {{H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};
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
    h2o_ssl_register_alpn_protocols(ssl, alpn);
}

static void on_signal(h2o_socket_t *sock, const char *err)
{
    struct signalfd_siginfo si;
    while (read(h2o_socket_get_fd(sock), &si, sizeof(si)) == sizeof(si))
        api_stopping = true;
}

static void setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        fail_start("signalfd", strerror(errno));
    signals = h2o_evloop_socket_create(api_loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(signals, on_signal);
}

/* Raises the open-file limit to the hard limit; --max-polls defaults to what
 * then fits, less a few descriptors for operators and our own. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (api_conf.max_polls == 0)
        api_conf.max_polls = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
}

/* Stops accepting, answers every held request 503, and lets the replies go
 * out: runs until every request is disposed of, at most two seconds. */
static void shutdown_gracefully(void)
{
    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    h2o_context_request_shutdown(&ctx);
    cameras_shutdown();
    cam_shutdown();
    uint64_t end = now_ms() + 2000;
    while (live_count() + cam_live() > 0 && now_ms() < end)
        h2o_evloop_run(api_loop, 10);
    cam_close_all();
    h2o_socket_close(signals);
    hangup_close();
    tmr_close();
    h2o_evloop_run(api_loop, 0); /* frees the closed sockets */
}

int main(int argc, char **argv)
{
    const char *secret_file = NULL, *token_file = NULL, *token_for = NULL;
    parse_flags(argc, argv, &secret_file, &token_file, &token_for);
    if (token_for != NULL) {
        /* api --camera-token ID --camera-secret-file FILE */
        char err[512], tok[AUTH_TOKEN_HEX + 1];
        size_t len;
        if (!query_valid_id(token_for, strlen(token_for)))
            bad_usage("--camera-token: not a camera id ([A-Za-z0-9._-]{1,64})");
        if (secret_file == NULL)
            bad_usage("--camera-token needs --camera-secret-file");
        char *secret = auth_load_secret(secret_file, &len, err, sizeof(err));
        if (secret == NULL)
            fail_start("--camera-secret-file", err);
        auth_camera_token(secret, len, token_for, strlen(token_for), tok);
        puts(tok);
        free(secret);
        return 0;
    }
    load_auth(secret_file, token_file);
    raise_fd_limit();

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

    int fd = open_listener();
    warn_if_open(secret_file, token_file);
    listener = h2o_evloop_socket_create(api_loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(listener, on_accept);

    while (!api_stopping)
        h2o_evloop_run(api_loop, INT32_MAX);
    shutdown_gracefully();
    return 0;
}
