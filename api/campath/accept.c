/* The accept path: a new connection's socket options (net_tune), then, on
 * a TLS listener, h2o's TLS handshake and the protocol ALPN chose: "h2" goes
 * to h2o's HTTP/2 as before, "http/1.1" (or none) to the camera path, like
 * every plain-TCP connection. The handshake is bounded by --head-timeout
 * and counts in the pre-authentication budget (pending.c). Plain HTTP to a
 * TLS listener is answered 400 (on_first_bytes). */
#include <string.h>

#include "campath_int.h"

#include <h2o/http2.h>

h2o_accept_ctx_t *accept_h2o_ctx;

void accept_setup(h2o_accept_ctx_t *actx)
{
    accept_h2o_ctx = actx;
}

static void on_handshake(h2o_socket_t *sock, const char *err)
{
    cam_conn_t *c = sock->data;
    if (err != NULL) {
        conn_close(c);
        return;
    }
    h2o_iovec_t proto = h2o_socket_ssl_get_selected_protocol(sock);
    if (h2o_memis(proto.base, proto.len, H2O_STRLIT("h2"))) {
        struct timeval at = c->connected_at;
        conn_detach(c);
        h2o_http2_accept(accept_h2o_ctx, sock, at);
        return;
    }
    conn_begin(c);
}

/* The first bytes on a TLS listener: a TLS record starts with 0x16 (a
 * handshake); anything else is most likely plain HTTP (http:// in a
 * client's URL), which gets a 400 in plain HTTP saying so rather than a
 * silent close. h2o's handshake takes the bytes already read. */
static void on_first_bytes(h2o_socket_t *sock, const char *err)
{
    cam_conn_t *c = sock->data;
    if (err != NULL) {
        conn_close(c);
        return;
    }
    if (sock->input->size == 0)
        return;
    h2o_socket_read_stop(sock);
    if ((unsigned char)sock->input->bytes[0] == 0x16) {
        h2o_socket_ssl_handshake(sock, accept_h2o_ctx->ssl_ctx, NULL, on_handshake);
        return;
    }
    verdict_t v;
    reply_refuse(&v, 400, "this port speaks TLS (HTTPS): use https:// in the URL", NULL);
    v.close = true;
    conn_set_state(c, CS_HEAD);
    write_refuse(c, &v);
}

void accept_conn(h2o_socket_t *sock)
{
    /* Socket options in one place (net.c). TCP_NODELAY is set already by
     * h2o_evloop_socket_accept: replies and 100 Continue go out at once. */
    net_tune(h2o_socket_get_fd(sock));
    struct timeval at = *h2o_get_timestamp(accept_h2o_ctx->ctx, NULL, NULL);
    if (accept_h2o_ctx->ssl_ctx == NULL) {
        conn_new(sock, at, false);
        return;
    }
    conn_new(sock, at, true);
    h2o_socket_read_start(sock, on_first_bytes);
}
