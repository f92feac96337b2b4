/* Serves the operator page from the table generated out of web/. The page
 * carries no secret and needs no token; the data endpoints it calls do. */
#include <string.h>

#include "api.h"
#include "front.h"
#include "web.h"

/* Scripts and styles come only from the api itself; nothing inline, no
 * plug-ins, no <base>, no framing, and Trusted Types with no policy, so a
 * string can never reach an HTML sink such as innerHTML. */
static const char csp[] = "default-src 'self'; object-src 'none'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'; "
                          "require-trusted-types-for 'script'; trusted-types 'none'";

static void add(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, value,
                          strlen(value));
}

static const web_asset_t *asset_of(const char *path, size_t len)
{
    for (size_t i = 0; i < web_nassets; i++)
        if (h2o_memis(path, len, web_assets[i].path, strlen(web_assets[i].path)))
            return &web_assets[i];
    return NULL;
}

/* If-None-Match is `*` or a list of entity tags. Ours are quoted hex, so a
 * list holds ours exactly when the quoted tag occurs in it: a quote either
 * opens a tag or closes one, and a closing quote is never followed by hex.
 * A weak W/ prefix still matches (the comparison is weak for GET, RFC 9110
 * 13.1.2). */
static bool not_modified(h2o_req_t *req, const web_asset_t *a)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (h2o_memis(v.base, v.len, H2O_STRLIT("*")))
        return true;
    return h2o_strstr(v.base, v.len, a->etag, strlen(a->etag)) != SIZE_MAX;
}

bool web_has(const char *path, size_t len)
{
    return asset_of(path, len) != NULL;
}

int web_serve(h2o_req_t *req)
{
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const web_asset_t *a = asset_of(req->path.base, plen);
    if (a == NULL)
        return -1;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        add(req, "allow", "GET, HEAD");
        respond_error(req, 405, "method not allowed", NULL);
        return 0;
    }
    add(req, "content-security-policy", csp);
    add(req, "x-content-type-options", "nosniff");
    add(req, "referrer-policy", "no-referrer");
    add(req, "etag", a->etag);
    /* The page revalidates every time (a new build changes its asset
     * URLs); the versioned assets never change under their URL. */
    add(req, "cache-control", a->immutable ? "max-age=31536000, immutable" : "no-cache");
    if (not_modified(req, a))
        respond(req, 304, NULL, "", 0, NULL);
    else
        respond(req, 200, a->ctype, (const char *)a->data, a->len, NULL);
    return 0;
}
