/* What both transports (h2o, and the camera path's own HTTP/1.1) share about
 * a reply: reason phrases, the JSON error body of a refusal, the headers a
 * status carries (Allow, WWW-Authenticate), and the request log line. Each
 * transport only renders these; none of it is written twice. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonw.h"

int verdict_set(verdict_t *v, int status, const char *reason, const char *camera)
{
    *v = (verdict_t){.status = status, .reason = reason, .camera = camera};
    return -1;
}

const char *reply_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 499:
        return "Client Closed Request";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

void reply_of_verdict(api_reply_t *r, const verdict_t *v, buf_t *b)
{
    jsonw_error(b, v->reason);
    *r = (api_reply_t){.status = v->status,
                       .ctype = "application/json",
                       .body = b->data,
                       .len = b->len,
                       .camera = v->camera,
                       .allow = v->allow,
                       .close = v->close};
}

void reply_each_header(const api_reply_t *r, void (*add)(void *ctx, const char *, const char *),
                       void *ctx)
{
    if (r->status == 405 && r->allow != NULL)
        add(ctx, "allow", r->allow);
}

void reply_log(const char *method, size_t mlen, const char *path, size_t plen, int status,
               const char *camera, double ms)
{
    if (api_conf.quiet)
        return;
    fprintf(stderr, "%.*s %.*s camera=%s %d %.1fms\n", (int)mlen, method, (int)plen, path,
            camera ? camera : "-", status, ms);
}
