/* Who may call what (PROTOCOL.md, "Auth"): camera tokens on the camera
 * endpoints, operator tokens on /logs, /cameras and /metrics, and the
 * revoked camera ids (--camera-revoked-file). With nothing configured the
 * api is open (main warns once at start). */
#include "api.h"

/* The bearer token of the request, or -1 when absent or malformed. */
static int bearer(h2o_req_t *req, const char **tok, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return -1;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    return query_bearer(v->base, v->len, tok, len);
}

void reply_unauthorized(h2o_req_t *req, const char *reason, const char *camera, bool presented)
{
    /* RFC 6750 section 3: no error code when no token came at all. */
    static const char plain[] = "Bearer realm=\"camlogs\"",
                      invalid[] = "Bearer realm=\"camlogs\", error=\"invalid_token\"";
    const char *v = presented ? invalid : plain;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, v, strlen(v));
    reply_error(req, 401, reason, camera);
}

int check_camera_auth(h2o_req_t *req, const char *id)
{
    const char *tok;
    size_t len;
    bool presented = bearer(req, &tok, &len) == 0;
    if (api_conf.camera_secret != NULL) {
        char want[AUTH_TOKEN_HEX + 1];
        auth_camera_token(api_conf.camera_secret, api_conf.camera_secret_len, id, strlen(id), want);
        if (!presented || !auth_equal(tok, len, want, AUTH_TOKEN_HEX)) {
            reply_unauthorized(req, "missing or wrong camera token", id, presented);
            return -1;
        }
    }
    if (idset_has(&api_conf.revoked, id)) {
        reply_unauthorized(req, "camera revoked", id, true);
        return -1;
    }
    return 0;
}

int check_operator_auth(h2o_req_t *req, const char *camera)
{
    if (api_conf.operators.n == 0)
        return 0;
    const char *tok;
    size_t len;
    bool presented = bearer(req, &tok, &len) == 0;
    if (presented && auth_tokens_match(&api_conf.operators, tok, len))
        return 0;
    reply_unauthorized(req, "missing or wrong operator token", camera, presented);
    return -1;
}
