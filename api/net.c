/* Accepted sockets: TCP keep-alive and TCP_USER_TIMEOUT, so that a camera
 * whose path vanished without a FIN (NAT mapping gone, cable pulled) gives
 * its held poll's descriptor back within about two minutes instead of at
 * --poll-timeout, or never with --poll-timeout 0. While a long reply goes
 * out, TCP_USER_TIMEOUT is lifted (a slow reader's zero window would trip
 * it): the writer's own deadline, per piece written, judges progress then.
 * Also the peer address for log lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api.h"
#include "net.h"
#include "opts.h"

/* The one parser of the flag, shared with the camera (runtime/opts.c). */
int net_parse_keepalive(const char *s, char *err, size_t errlen)
{
    opts_keepalive_t ka;
    if (opts_keepalive("--tcp-keepalive", s, &ka, err, errlen) != 0)
        return -1;
    api_conf.ka_idle = ka.on ? ka.idle_s : 0;
    api_conf.ka_intvl = ka.on ? ka.intvl_s : 0;
    api_conf.ka_cnt = ka.on ? ka.count : 0;
    return 0;
}

int net_parse_user_timeout(const char *s, char *err, size_t errlen)
{
    if (opts_duration("--tcp-user-timeout", s, true, 3600000, &api_conf.user_timeout_ms, err,
                      errlen) != 0)
        return -1;
    api_conf.user_timeout_set = true;
    return 0;
}

uint64_t net_user_timeout_ms(void)
{
    if (api_conf.user_timeout_set)
        return api_conf.user_timeout_ms;
    /* As long as keep-alive takes to give up, so both notice the same loss. */
    return ((uint64_t)api_conf.ka_idle + (uint64_t)api_conf.ka_intvl * api_conf.ka_cnt) * 1000;
}

void net_tune(int fd)
{
    int on = 1, idle = (int)api_conf.ka_idle, intvl = (int)api_conf.ka_intvl,
        cnt = (int)api_conf.ka_cnt;
    /* The kernel takes an int of ms: cap it rather than lose it (EINVAL). */
    uint64_t ms = net_user_timeout_ms();
    unsigned ut = ms > INT32_MAX ? INT32_MAX : (unsigned)ms;
    /* Failures leave the socket as the kernel made it: worth no reply. */
    if (idle > 0 && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
    if (ut > 0)
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

void net_reading_reply(int fd, bool on)
{
    uint64_t ms = net_user_timeout_ms();
    unsigned ut = on ? 0 : ms > INT32_MAX ? INT32_MAX : (unsigned)ms;
    if (ms > 0)
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

void net_format_addr(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, n, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, n, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(out, n, "-");
    }
}

bool net_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
               127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

void net_peer(h2o_req_t *req, char *out, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len == 0)
        snprintf(out, n, "-");
    else
        net_format_addr((struct sockaddr *)&ss, out, n);
}

void net_sock_peer(h2o_socket_t *sock, char *out, size_t n)
{
    struct sockaddr_storage ss;
    if (h2o_socket_getpeername(sock, (struct sockaddr *)&ss) != 0)
        net_format_addr((struct sockaddr *)&ss, out, n);
    else
        snprintf(out, n, "-");
}

h2o_socket_t *net_watch(h2o_evloop_t *loop, int fd, const char *what, h2o_socket_cb cb, char *err,
                        size_t n)
{
    if (fd < 0) {
        snprintf(err, n, "%s: %s", what, strerror(errno));
        return NULL;
    }
    h2o_socket_t *sock = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(sock, cb);
    return sock;
}
