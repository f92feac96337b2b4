/* What a refused or failed request says, and what to do about it: the
 * api's own reason (the "error" of its JSON reply) and a hint for the
 * mistakes a new user makes (a wrong token, a --server with a path, http://
 * to a TLS port and https:// to a plain one). Of such a reply only the first
 * HINTS_REPLY_KEEP bytes are read (hints_keep): a server that sends an
 * endless body gets the status logged and the transfer closed. */
#include "camera.h"

#include <stdio.h>
#include <string.h>

static const char HINT_401[] =
    "check --token / --token-file (the camera token is the HMAC of this id under the api's camera "
    "secret; `api --camera-token ID --camera-secret-file FILE` prints it)";
static const char HINT_404[] = "is --server the api's base URL (scheme://host:port, no path)?";
static const char HINT_413[] = "lower --max-body to the api's --max-body or below";
/* h2o on a TLS port closes a connection that does not start a handshake:
 * curl reads nothing at all. */
static const char HINT_PLAIN_TO_TLS[] =
    "nothing came back: if the api runs with --tls-cert, use https:// in --server";
static const char HINT_TLS_TO_PLAIN[] =
    "the server does not speak TLS: if the api runs without --tls-cert, use http:// in --server";
static const char HINT_CA[] = "give --cacert the api's certificate (or the CA that signed it)";

static const char *hint_for_status(long status)
{
    switch (status) {
    case 401:
        return HINT_401;
    case 404:
        return HINT_404;
    case 413:
        return HINT_413;
    default:
        return NULL;
    }
}

const char *hints_for(const char *server, CURLcode res, long status, const char *errbuf)
{
    bool https = strncmp(server, "https://", 8) == 0;

    switch (res) {
    case CURLE_OK:
        return hint_for_status(status);
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL: /* "Received HTTP/0.9": TLS bytes read as HTTP */
        return https ? NULL : HINT_PLAIN_TO_TLS;
    case CURLE_SSL_CONNECT_ERROR:
        return https && strstr(errbuf, "wrong version number") ? HINT_TLS_TO_PLAIN : NULL;
    case CURLE_PEER_FAILED_VERIFICATION:
        return HINT_CA;
    default:
        return NULL;
    }
}

void hints_describe(const camera_t *cam, const xfer_t *x, CURLcode res, long status,
                    const buf_t *reply, failure_t *f)
{
    f->key = res != CURLE_OK ? -(long)res : status;
    f->error[0] = '\0';
    if (res != CURLE_OK) /* the error buffer says more than the code (which TLS check failed) */
        snprintf(f->why, sizeof(f->why), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    else if (x->reply_cut)
        snprintf(f->why, sizeof(f->why), "status %ld (reply cut after %d bytes)", status,
                 HINTS_REPLY_KEEP);
    else
        snprintf(f->why, sizeof(f->why), "status %ld", status);
    if (res == CURLE_OK && reply && reply->len) /* the generated reader: nothing else reads it */
        control_decode_error(reply->data, reply->len, f->error, sizeof(f->error));
    f->hint = hints_for(cam->cfg.server, res, status, x->errbuf);
}

size_t hints_keep(xfer_t *x, buf_t *reply, const char *data, size_t len)
{
    size_t room = reply->len < HINTS_REPLY_KEEP ? HINTS_REPLY_KEEP - reply->len : 0;

    if (len <= room) {
        buf_append(reply, data, len);
        return len;
    }
    buf_append(reply, data, room);
    x->reply_cut = true;
    return 0; /* curl stops reading: CURLE_WRITE_ERROR, which hints_result undoes */
}

CURLcode hints_result(const xfer_t *x, CURLcode res)
{
    return x->reply_cut && res == CURLE_WRITE_ERROR ? CURLE_OK : res;
}
