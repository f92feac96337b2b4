/* api: flags, the listener, signals, the loop and a clean shutdown. Accepted
 * connections go to the accept path (accept.c): the camera path, or h2o. */
#include <errno.h>
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
#include "campath/campath.h"
#include "clock.h"
#include "flags.h"
#include "front.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "process.h"
#include "relay/relay.h"
#include "tmr.h"

api_config_t api_conf = {
    .host = "127.0.0.1",
    .port = 8080,
    .poll_timeout_ms = 50000,
    .grace_ms = 3000,
    .cache_bytes = 64ull << 20,
    .follow_hold_s = 25,
    .max_body = 16777216,
    .max_cameras = 100000,
    .max_polls = 0,   /* set from the open-file limit (budget.c) */
    .max_waiters = 0, /* likewise */
    .ka_idle = 60,    /* keep-alive: a dead path is noticed after 60 + 10 x 6 s */
    .ka_intvl = 10,
    .ka_cnt = 6,
    .forget_ms = 3600000,
    .req_timeout_ms = 30000,
    .head_timeout_ms = 5000,
};
h2o_evloop_t *api_loop;
bool api_stopping;

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static h2o_socket_t *listener, *signals;

static void bad_usage(const char *msg)
{
    log_msg(LOGL_ERROR, "%s (see --help)", msg);
    exit(2);
}

/* One line and exit 1: "what: detail", or the detail alone (what NULL). */
static void fail_start(const char *what, const char *detail)
{
    if (what != NULL)
        log_msg(LOGL_ERROR, "%s: %s", what, detail);
    else
        log_msg(LOGL_ERROR, "%s", detail);
    exit(1);
}

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
        accept_conn(conn);
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
    char err[256];
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if ((signals = net_watch(api_loop, fd, "signalfd", on_signal, err, sizeof(err))) == NULL)
        fail_start(NULL, err);
}

/* Stops accepting, answers every held request 503, and lets the replies go
 * out: runs until every request is disposed of, at most two seconds. */
static void shutdown_gracefully(void)
{
    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    h2o_context_request_shutdown(&ctx);
    size_t polls = handshake_polls(), waiters = metrics_waiting_now();
    cameras_shutdown();
    camstream_shutdown();
    conn_shutdown();
    uint64_t end = clock_ms() + 2000;
    while (front_live() + write_live() > 0 && clock_ms() < end)
        h2o_evloop_run(api_loop, 10);
    announce_stop(stop_reason, polls, waiters, front_live() + write_live());
    conn_close_all();
    h2o_socket_close(signals);
    held_close();
    rebalance_close();
    tmr_close();
    h2o_evloop_run(api_loop, 0); /* frees the closed sockets */
}

/* api --camera-token ID --camera-secret-file FILE: prints the token, exits. */
static int print_camera_token(const flags_t *ff)
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

/* The command line: exits 2 on a bad flag, 0 after --help or --version. */
static void read_flags(int argc, char **argv, flags_t *ff)
{
    char err[256];
    if (flags_parse(argc, argv, ff, err, sizeof(err)) != 0)
        bad_usage(err);
    if (ff->help) {
        fputs(flags_usage, stdout);
        exit(0);
    }
    if (ff->version) {
        printf("api %s (protocol %s)\n", CAMLOGS_VERSION, CAMLOGS_PROTOCOL);
        exit(0);
    }
}

/* h2o's configuration: one host, one handler for every path (front.c). */
static void setup_h2o(void)
{
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
    front_register(h2o_config_register_path(host, "/", 0));
}

int main(int argc, char **argv)
{
    flags_t ff = {0};
    read_flags(argc, argv, &ff);
    if (ff.token_for != NULL)
        return print_camera_token(&ff);
    char err[700];
    if (reload_setup(ff.secret, ff.tokens, ff.revoked, err, sizeof(err)) != 0)
        fail_start(NULL, err);
    budget_setup();

    setup_h2o();

    api_loop = h2o_evloop_create();
    h2o_context_init(&ctx, api_loop, &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    accept_setup(&accept_ctx);
    if (api_conf.tls_cert != NULL)
        setup_tls();
    if (tmr_setup(api_loop, err, sizeof(err)) != 0 || held_setup(api_loop, err, sizeof(err)) != 0)
        fail_start(NULL, err);
    cameras_setup();
    setup_signals();
    if (rebalance_setup(api_loop, err, sizeof(err)) != 0) /* SIGUSR1 */
        fail_start(NULL, err);

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
