/* Accepted sockets: TCP keep-alive and TCP_USER_TIMEOUT, so that a camera
 * whose path vanished without a FIN (NAT mapping gone, cable pulled) gives
 * its held poll's descriptor back within about two minutes instead of at
 * --poll-timeout, or never with --poll-timeout 0. Also the peer address
 * for log lines. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api.h"
#include "opts.h"

/* Linux's bounds for the three keep-alive options. */
#define KA_TIME_MAX 32767
#define KA_CNT_MAX 127

int net_parse_keepalive(const char *s, char *err, size_t errlen)
{
    static const char *const names[3] = {"--tcp-keepalive IDLE", "--tcp-keepalive INTVL",
                                         "--tcp-keepalive CNT"};
    static const uint64_t max[3] = {KA_TIME_MAX, KA_TIME_MAX, KA_CNT_MAX};
    uint64_t v[3];
    char part[32];
    if (strcmp(s, "0") == 0) {
        api_conf.ka_idle = api_conf.ka_intvl = api_conf.ka_cnt = 0;
        return 0;
    }
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        size_t n = strcspn(p, ",");
        if (n >= sizeof(part) || (i < 2) != (p[n] == ',')) {
            snprintf(err, errlen, "--tcp-keepalive: expected IDLE,INTVL,CNT or 0 (off), got '%s'",
                     s);
            return -1;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        if (opts_uint(names[i], part, 1, max[i], &v[i], err, errlen) != 0)
            return -1;
        p += n + (i < 2);
    }
    api_conf.ka_idle = (unsigned)v[0];
    api_conf.ka_intvl = (unsigned)v[1];
    api_conf.ka_cnt = (unsigned)v[2];
    return 0;
}

int net_parse_user_timeout(const char *s, char *err, size_t errlen)
{
    if (opts_seconds("--tcp-user-timeout", s, 0, 3600000, &api_conf.user_timeout_ms, err, errlen) !=
        0)
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
    unsigned ut = (unsigned)net_user_timeout_ms();
    /* Failures leave the socket as the kernel made it: worth no reply. */
    if (idle > 0 && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
    if (ut > 0)
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
