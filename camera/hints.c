/* What a refused or failed request says, and what to do about it: the
 * api's own reason (the "error" of its JSON reply) and a hint for the
 * mistakes a new user makes (a wrong token, a revoked id, a --server with a
 * path, http:// to a TLS port and https:// to a plain one, a certificate
 * that does not name the host). Of such a reply only the first
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
/* Our api answers plain HTTP on its TLS port 400 "this port speaks TLS";
 * others (an older api, a TLS proxy) close it: curl reads nothing. */
static const char HINT_PLAIN_TO_TLS[] = "the api runs with --tls-cert: use https:// in --server";
static const char HINT_TLS_TO_PLAIN[] =
    "the server does not speak TLS: if the api runs without --tls-cert, use http:// in --server";
static const char HINT_CA[] = "give --cacert the api's certificate (or the CA that signed it)";
/* The api refused this id by name (--camera-revoked-file): no token helps. */
static const char HINT_REVOKED[] =
    "the api's operator revoked this camera id (its --camera-revoked-file lists it): a new token "
    "will not help; ask them to remove the id and send SIGHUP, or use another --id";
/* The chain is trusted but the certificate names another host. */
static const char HINT_HOSTNAME[] =
    "the api's certificate does not name the host in --server: use a name (or IP address) it "
    "lists in its subjectAltName, or reissue it with this one (openssl req -addext "
    "subjectAltName=DNS:HOST,IP:ADDR; see README, \"Production\")";

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
        return strstr(errbuf, "target host name") || strstr(errbuf, "does not match")
                   ? HINT_HOSTNAME
                   : HINT_CA;
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
    if (res == CURLE_OK && status == 401 && strcmp(f->error, "camera revoked") == 0)
        f->hint = HINT_REVOKED;
    if (res == CURLE_OK && status == 400 && strncmp(f->error, "this port speaks TLS", 20) == 0)
        f->hint = HINT_PLAIN_TO_TLS; /* the api's own 400 to plain HTTP on its TLS port */
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
