/* Who may call what (PROTOCOL.md, "Auth"): camera tokens on the camera
 * endpoints, operator tokens on /logs, /cameras and /metrics. With nothing
 * configured the api is open (main warns once at start). */
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

int check_camera_auth(h2o_req_t *req, const char *id)
{
    if (api_conf.camera_secret == NULL)
        return 0;
    const char *tok;
    size_t len;
    char want[AUTH_TOKEN_HEX + 1];
    auth_camera_token(api_conf.camera_secret, api_conf.camera_secret_len, id, strlen(id), want);
    if (bearer(req, &tok, &len) == 0 && auth_equal(tok, len, want, AUTH_TOKEN_HEX))
        return 0;
    reply_error(req, 401, "missing or wrong camera token", id);
    return -1;
}

int check_operator_auth(h2o_req_t *req)
{
    if (api_conf.operators.n == 0)
        return 0;
    const char *tok;
    size_t len;
    if (bearer(req, &tok, &len) == 0 && auth_tokens_match(&api_conf.operators, tok, len))
        return 0;
    reply_error(req, 401, "missing or wrong operator token", NULL);
    return -1;
}
