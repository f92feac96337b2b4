/* Who may call what (PROTOCOL.md, "Auth"): camera tokens on the camera
 * endpoints, operator tokens on /logs, /cameras and /metrics. With nothing
 * configured the api is open (main warns once at start). The checks take
 * the Authorization value alone, so h2o requests and the camera path's own
 * heads go through the same code. */
#include "api.h"

bool access_camera(const char *authz, size_t len, const char *id)
{
    if (api_conf.camera_secret == NULL)
        return true;
    const char *tok;
    size_t toklen;
    char want[AUTH_TOKEN_HEX + 1];
    if (authz == NULL || query_bearer(authz, len, &tok, &toklen) != 0)
        return false;
    auth_camera_token(api_conf.camera_secret, api_conf.camera_secret_len, id, strlen(id), want);
    return auth_equal(tok, toklen, want, AUTH_TOKEN_HEX);
}

bool access_operator(const char *authz, size_t len)
{
    if (api_conf.operators.n == 0)
        return true;
    const char *tok;
    size_t toklen;
    return authz != NULL && query_bearer(authz, len, &tok, &toklen) == 0 &&
           auth_tokens_match(&api_conf.operators, tok, toklen);
}

const char *req_authorization(h2o_req_t *req, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return NULL;
    *len = req->headers.entries[i].value.len;
    return req->headers.entries[i].value.base;
}

int check_operator_auth(h2o_req_t *req)
{
    size_t len = 0;
    const char *authz = req_authorization(req, &len);
    if (access_operator(authz, len))
        return 0;
    reply_error(req, 401, "missing or wrong operator token", NULL);
    return -1;
}
