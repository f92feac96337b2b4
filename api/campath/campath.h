/* The camera path, as main sees it: accepted connections (accept.c: TLS,
 * then by ALPN h2o's HTTP/2 or our own HTTP/1.1), and their end at
 * shutdown. Its private header is campath_int.h. */
#ifndef API_CAMPATH_CAMPATH_H
#define API_CAMPATH_CAMPATH_H

#include <stddef.h>

#include <h2o.h>

/** Remembers h2o's accept context: hand-offs and HTTP/2 go there. */
void accept_setup(h2o_accept_ctx_t *actx);
/** Takes an accepted connection: TLS handshake if configured, then by ALPN
 * h2o's HTTP/2 or the camera path. */
void accept_conn(h2o_socket_t *sock);
/** Shutdown: closes idle connections, ends those reading a request (503). */
void conn_shutdown(void);
/** At exit: closes every camera-path connection left. */
void conn_close_all(void);
/** Camera-path connections with a reply still going out. */
size_t write_live(void);

#endif
