/* The checks both transports run, in the contract's order: method (the
 * route table's), credentials (camera id first on the camera endpoints),
 * other parameters, body size, state, the stream itself. Who may call what
 * (PROTOCOL.md, "Auth"): camera tokens on the camera endpoints, operator
 * tokens on /logs, /cameras and /metrics, and the revoked camera ids
 * (--camera-revoked-file); with nothing configured the api is open (main
 * warns once at start). The checks take a query and the Authorization
 * value alone, never a request, so h2o's handlers (endpoints.c) and the
 * camera path's own heads (campath/) go through the same code. */
#include <string.h>

#include "api.h"
#include "checks.h"
#include "metrics.h"

/* The bearer token of an Authorization value; false when absent or malformed. */
static bool bearer(const char *authz, size_t len, const char **tok, size_t *toklen)
{
    return authz != NULL && query_bearer(authz, len, tok, toklen) == 0;
}

const char *checks_camera_token(const char *authz, size_t len, const char *id, bool *presented)
{
    const char *tok;
    size_t toklen;
    *presented = bearer(authz, len, &tok, &toklen);
    if (api_conf.camera_secret != NULL) {
        char want[AUTH_TOKEN_HEX + 1];
        auth_camera_token(api_conf.camera_secret, api_conf.camera_secret_len, id, strlen(id), want);
        if (!*presented || !auth_equal(tok, toklen, want, AUTH_TOKEN_HEX)) {
            metrics_unauthorized(false, *presented ? MA_WRONG : MA_MISSING);
            return "missing or wrong camera token";
        }
    }
    if (idset_has(&api_conf.revoked, id)) {
        metrics_unauthorized(false, MA_REVOKED);
        return "camera revoked"; /* invalid_token only if a token came */
    }
    return NULL;
}

const char *checks_operator_token(const char *authz, size_t len, bool *presented)
{
    const char *tok;
    size_t toklen;
    *presented = bearer(authz, len, &tok, &toklen);
    if (api_conf.operators.n == 0 ||
        (*presented && auth_tokens_match(&api_conf.operators, tok, toklen)))
        return NULL;
    metrics_unauthorized(true, *presented ? MA_WRONG : MA_MISSING);
    return "missing or wrong operator token";
}

static const char *camera_id(const query_t *q)
{
    return q->has_camera ? q->camera : "default";
}

const char *checks_logs_camera(const query_t *q)
{
    return q->err[QP_CAMERA] == NULL ? camera_id(q) : NULL;
}

int checks_camera(const query_t *q, const char *authz, size_t authz_len, unsigned params,
                  const char **id, verdict_t *v)
{
    const char *err;
    bool presented;
    *id = camera_id(q);
    if (q->err[QP_CAMERA] != NULL)
        return reply_refuse(v, 400, q->err[QP_CAMERA], NULL);
    if ((err = checks_camera_token(authz, authz_len, *id, &presented)) != NULL) {
        reply_refuse(v, 401, err, *id);
        v->bad_token = presented;
        return -1;
    }
    if ((err = query_error(q, params)) != NULL)
        return reply_refuse(v, 400, err, *id);
    return 0;
}

/* True when one more held poll would pass --max-polls. A camera that holds a
 * poll already (the new one replaces it) or has a fetch waiting for it
 * (answered at once) adds none, so a reconnecting camera is never locked out. */
static bool too_many_polls(const char *id)
{
    bool full = false;
    camera_t *cam = cameras_get(id, false, &full);
    /* Exempt: a poll that replaces a held one (409 to the old) or is answered
     * at once does not add to the held polls. */
    if (cam != NULL && (handshake_held(cam) != NULL || handshake_poll_answered_now(cam)))
        return false;
    return handshake_polls() >= api_conf.max_polls;
}

int checks_control(const char *id, verdict_t *v)
{
    if (api_stopping)
        return reply_refuse(v, 503, "the api is shutting down", id);
    if (too_many_polls(id)) {
        reply_refuse(v, 503, "too many held polls", id);
        v->close = true; /* give the descriptor back */
        return -1;
    }
    return 0;
}

camera_t *checks_admit(const char *id, verdict_t *v)
{
    bool full = false;
    camera_t *cam = cameras_get(id, true, &full);
    if (cam == NULL)
        reply_refuse(v, 503, "too many cameras: the api's camera table is full", id);
    return cam;
}
