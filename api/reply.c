/* What both transports (h2o, and the camera path's own HTTP/1.1) share about
 * a reply: reason phrases, the JSON error body of a refusal, the headers a
 * status carries (Allow, WWW-Authenticate), and the request log line. Each
 * transport only renders these; none of it is written twice. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonw.h"
#include "log.h"
#include "reply.h"
#include "routes.h"

int reply_refuse(verdict_t *v, int status, const char *reason, const char *camera)
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
    case 304:
        return "Not Modified";
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
    jsonw_error_about(b, v->reason, v->camera); /* every /logs error names its camera */
    *r = (api_reply_t){.status = v->status,
                       .ctype = "application/json",
                       .body = b->data,
                       .len = b->len,
                       .camera = v->camera,
                       .allow = v->allow,
                       .bad_token = v->bad_token,
                       .close = v->close};
}

void reply_verdict_to(const verdict_t *v, void (*send)(void *ctx, const api_reply_t *r), void *ctx)
{
    buf_t b = BUF_INIT;
    api_reply_t r;
    reply_of_verdict(&r, v, &b);
    send(ctx, &r);
    buf_free(&b);
}

void reply_each_header(const api_reply_t *r, void (*add)(void *ctx, const char *, const char *),
                       void *ctx)
{
    if (r->status == 405 && r->allow != NULL)
        add(ctx, "allow", r->allow);
    /* RFC 6750 section 3: no error code when no token came at all. */
    if (r->status == 401)
        add(ctx, "www-authenticate",
            r->bad_token ? "Bearer realm=\"camlogs\", error=\"invalid_token\""
                         : "Bearer realm=\"camlogs\"");
    if (r->cursor != NULL)
        add(ctx, "camlogs-cursor", r->cursor);
    if (r->gap)
        add(ctx, "camlogs-gap", "1");
    if (r->cached != NULL)
        add(ctx, "camlogs-cached", r->cached);
}

/* Routine for a camera fleet, so debug: a poll released at its timeout
 * (204) or replaced by the camera's newer one (409). */
static bool routine(const char *path, size_t plen, int status)
{
    const route_t *r = routes_find(path, plen);
    return r != NULL && r->kind == R_CONTROL && (status == 204 || status == 409);
}

bool reply_log_wanted(const char *path, size_t plen, int status)
{
    enum log_level level = routine(path, plen, status) ? LOGL_DEBUG : LOGL_INFO;
    return !api_conf.quiet && log_enabled(level);
}

/* Method and path as one word each: a space or quote in them (HTTP/2 lets
 * a :path hold one) is %-escaped, so a client cannot forge log fields. */
static void put_word(buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '"' || s[i] == '%' || s[i] == '=')
            buf_printf(b, "%%%02X", (unsigned char)s[i]);
        else
            buf_putc(b, s[i]);
    }
}

void reply_log(const char *method, size_t mlen, const char *path, size_t plen, const char *client,
               int status, const char *camera, long long us)
{
    enum log_level level = routine(path, plen, status) ? LOGL_DEBUG : LOGL_INFO;
    if (!reply_log_wanted(path, plen, status))
        return;
    log_field_t f[] = {LOG_STR("client", client), LOG_STR("camera", camera ? camera : "-"),
                       LOG_NUM("status", status), LOG_FIX("ms", us, 3)};
    buf_t line = BUF_INIT;
    put_word(&line, method, mlen);
    buf_putc(&line, ' ');
    put_word(&line, path, plen);
    log_with(level, f, 4, "%s", line.data);
    buf_free(&line);
}
