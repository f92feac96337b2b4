/* Who may call what (PROTOCOL.md, "Auth"): camera tokens on the camera
 * endpoints, operator tokens on /logs, /cameras and /metrics, and the
 * revoked camera ids (--camera-revoked-file). With nothing configured the
 * api is open (main warns once at start). The checks take the
 * Authorization value alone, so h2o requests and the camera path's own
 * heads go through the same code. */
#include "api.h"

/* The bearer token of an Authorization value; false when absent or malformed. */
static bool bearer(const char *authz, size_t len, const char **tok, size_t *toklen)
{
    return authz != NULL && query_bearer(authz, len, tok, toklen) == 0;
}

const char *access_camera(const char *authz, size_t len, const char *id, bool *presented)
{
    const char *tok;
    size_t toklen;
    *presented = bearer(authz, len, &tok, &toklen);
    if (api_conf.camera_secret != NULL) {
        char want[AUTH_TOKEN_HEX + 1];
        auth_camera_token(api_conf.camera_secret, api_conf.camera_secret_len, id, strlen(id), want);
        if (!*presented || !auth_equal(tok, toklen, want, AUTH_TOKEN_HEX))
            return "missing or wrong camera token";
    }
    if (idset_has(&api_conf.revoked, id))
        return "camera revoked"; /* invalid_token only if a token came */
    return NULL;
}

const char *access_operator(const char *authz, size_t len, bool *presented)
{
    const char *tok;
    size_t toklen;
    *presented = bearer(authz, len, &tok, &toklen);
    if (api_conf.operators.n == 0 ||
        (*presented && auth_tokens_match(&api_conf.operators, tok, toklen)))
        return NULL;
    return "missing or wrong operator token";
}

const char *req_authorization(h2o_req_t *req, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return NULL;
    *len = req->headers.entries[i].value.len;
    return req->headers.entries[i].value.base;
}

int check_operator_auth(h2o_req_t *req, const char *camera)
{
    size_t len = 0;
    bool presented;
    const char *authz = req_authorization(req, &len);
    const char *why = access_operator(authz, len, &presented);
    if (why == NULL)
        return 0;
    reply_unauthorized(req, why, camera, presented);
    return -1;
}
