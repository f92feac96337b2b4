/* The api's own lines besides requests: what it starts as, what it warns
 * about, and how it stopped. */
#include <stdio.h>

#include "api.h"
#include "process.h"
#include "camlogs_version.h"
#include "log.h"
#include "net.h"

/* Anyone who can reach the address may act as any camera or operator. */
static void warn_open(const char *listen)
{
    bool cams = api_conf.camera_secret != NULL, ops = api_conf.operators.n > 0;
    const char *open = cams ? (ops ? NULL : "operator") : (ops ? "camera" : "camera and operator");
    if (open != NULL)
        log_msg(LOGL_WARN,
                "%s endpoints need no token (see --camera-secret-file, "
                "--operator-token-file): anyone who can reach %s may use them",
                open, listen);
}

/* Tokens over plain HTTP beyond this host can be read on the way. */
static void warn_clear(const char *listen, bool loopback)
{
    bool creds = api_conf.camera_secret != NULL || api_conf.operators.n > 0;
    if (creds && !api_conf.tls_cert && !loopback)
        log_msg(LOGL_WARN,
                "tokens would travel in clear: credentials are configured without TLS on %s, "
                "which is not a loopback address (see --tls-cert, --tls-key)",
                listen);
}

void announce_start(const struct sockaddr *bound)
{
    char listen[INET6_ADDRSTRLEN + 8], rv[24];
    net_format_addr(bound, listen, sizeof(listen));
    log_field_t f[] = {
        LOG_STR("version", CAMLOGS_VERSION),
        LOG_STR("protocol", CAMLOGS_PROTOCOL),
        LOG_STR("listen", listen),
        LOG_STR("tls", api_conf.tls_cert ? "on" : "off"),
        LOG_STR("cameras", api_conf.camera_secret ? "token" : "open"),
        LOG_STR("operators", api_conf.operators.n ? "token" : "open"),
        LOG_STR("revoked", reload_revoked_count(rv, sizeof(rv))),
        LOG_NUM("max_polls", api_conf.max_polls),
        LOG_NUM("max_waiters", api_conf.max_waiters),
        LOG_NUM("max_pending", api_conf.max_pending),
        LOG_STR("node", api_conf.node ? api_conf.node : "-"),
    };
    log_with(LOGL_INFO, f, sizeof(f) / sizeof(f[0]), "started");
    warn_open(listen);
    warn_clear(listen, net_is_loopback(bound));
    notify_ready(); /* systemd: listening, so ExecStartPost= may run */
}

void announce_stop(const char *reason, size_t polls, size_t waiters, size_t unsent)
{
    log_field_t f[] = {LOG_STR("reason", reason), LOG_NUM("polls", polls),
                       LOG_NUM("waiters", waiters), LOG_NUM("unsent", unsent)};
    /* polls, waiters: held at the signal, each answered 503; unsent: replies
     * still not written when the two seconds were up. */
    log_with(LOGL_INFO, f, 4, "stopped");
}
