/* TCP keep-alive on every connection the camera opens (--tcp-keepalive).
 * A held poll is silent for up to the api's poll timeout: without probes a
 * path that died without a FIN (a NAT mapping dropped, a cable pulled) is
 * only noticed when our own client timeout ends the poll, or never with a
 * long --poll-timeout. With them the kernel ends the connection after
 * idle + interval * count seconds of silence, and the poll backs off and
 * reconnects like after any other connection error. */
#include "camera.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

uint64_t keepalive_user_timeout_ms(const camera_cfg_t *c)
{
    if (c->user_timeout_set)
        return c->user_timeout_ms;
    /* Also bounds data that is never acknowledged (an upload into a dead
     * path), and keeps the probes' verdict exact: with keep-alive on, Linux
     * lets TCP_USER_TIMEOUT decide when the probes have failed. */
    return (uint64_t)opts_keepalive_dead_s(&c->keepalive) * 1000;
}

/* curl 7.88 has options for idle and interval, not for the probe count, and
 * none for TCP_USER_TIMEOUT: those two are set here, on the new socket. */
static int on_socket(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
    const camera_cfg_t *c = ctx;
    int count = (int)c->keepalive.count;
    unsigned user_ms = (unsigned)keepalive_user_timeout_ms(c);

    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKOPT_OK;
    if ((c->keepalive.on && setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count))) ||
        (user_ms && setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, sizeof(user_ms))))
        log_msg(LOGL_WARN, "tcp keep-alive: setsockopt: %s", strerror(errno));
    return CURL_SOCKOPT_OK; /* the connection works without them */
}

void keepalive_apply(camera_t *cam, CURL *e)
{
    const opts_keepalive_t *ka = &cam->cfg.keepalive;

    if (ka->on) {
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, (long)ka->idle_s);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, (long)ka->intvl_s);
    }
    if (ka->on || keepalive_user_timeout_ms(&cam->cfg) > 0) {
        curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_socket);
        curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, &cam->cfg);
    }
}
