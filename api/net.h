/* Sockets (net.c): TCP keep-alive and TCP_USER_TIMEOUT, and addresses as
 * text. Used by main, flags, the camera path and h2o's side. */
#ifndef API_NET_H
#define API_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <h2o.h>

/** --tcp-keepalive IDLE,INTVL,CNT | 0 and --tcp-user-timeout S into api_conf.
 * Return 0, or -1 with one line in err. */
int net_parse_keepalive(const char *s, char *err, size_t errlen);
int net_parse_user_timeout(const char *s, char *err, size_t errlen);
/** TCP_USER_TIMEOUT in ms: the flag's, else as long as keep-alive takes to give up. */
uint64_t net_user_timeout_ms(void);
/** Sets keep-alive and TCP_USER_TIMEOUT on an accepted connection. */
void net_tune(int fd);
/** A long reply starts going out on fd (on: TCP_USER_TIMEOUT is lifted),
 * or the client has read it (off: set back). */
void net_reading_reply(int fd, bool on);
/** "1.2.3.4:80" or "[::1]:80" ("-" for other families). */
void net_format_addr(const struct sockaddr *sa, char *out, size_t n);
bool net_is_loopback(const struct sockaddr *sa);
/** Reads `fd` (a timerfd, signalfd or epoll set of ours) in `loop`: cb
 * runs when it is readable. fd < 0 is the error of the call that made it,
 * `what`: NULL with "what: strerror(errno)" in err. */
h2o_socket_t *net_watch(h2o_evloop_t *loop, int fd, const char *what, h2o_socket_cb cb, char *err,
                        size_t n);
/** The request's client address, as net_format_addr. */
void net_peer(h2o_req_t *req, char *out, size_t n);
/** A socket's peer, as net_format_addr ("-" when unknown). */
void net_sock_peer(h2o_socket_t *sock, char *out, size_t n);

#endif
