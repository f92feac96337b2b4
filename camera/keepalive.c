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

/* curl 7.88 has options for idle and interval, not for the probe count, and
 * none for TCP_USER_TIMEOUT: those two are set here, on the new socket. */
static int on_socket(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
    const opts_keepalive_t *ka = ctx;
    int count = (int)ka->count;
    /* Also bounds data that is never acknowledged (an upload into a dead
     * path), and keeps the probes' verdict exact: with keep-alive on, Linux
     * lets TCP_USER_TIMEOUT decide when the probes have failed. */
    unsigned dead_ms = opts_keepalive_dead_s(ka) * 1000;

    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKOPT_OK;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &dead_ms, sizeof(dead_ms)) != 0)
        log_msg(LOGL_WARN, "tcp keep-alive: setsockopt: %s", strerror(errno));
    return CURL_SOCKOPT_OK; /* the connection works without them */
}

void keepalive_apply(camera_t *cam, CURL *e)
{
    opts_keepalive_t *ka = &cam->cfg.keepalive;

    if (!ka->on)
        return;
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, (long)ka->idle_s);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, (long)ka->intvl_s);
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_socket);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, ka);
}
