/* The credentials files: read at start, and again on SIGHUP. A reload reads
 * every configured file first and installs them together only when all are
 * good; a bad one keeps the previous settings (one error line). Held polls
 * and waiters stay: a new token matters from a client's next request. A
 * camera id newly revoked loses its held poll at once (401). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api.h"
#include "log.h"
#include "process.h"
#include "relay/relay.h"

static struct {
    const char *secret, *tokens, *revoked; /* the flags' files, or NULL */
} F;

typedef struct creds {
    char *secret;
    size_t secret_len;
    auth_tokens_t operators;
    idset_t revoked;
} creds_t;

static void creds_free(creds_t *c)
{
    if (c->secret != NULL) {
        OPENSSL_cleanse(c->secret, c->secret_len);
        free(c->secret);
    }
    auth_tokens_free(&c->operators);
    idset_free(&c->revoked);
    *c = (creds_t){0};
}

/* Reads every configured file into *c. Returns 0, or -1 with "FLAG: FILE:
 * problem" in err (and *c empty). */
static int load(creds_t *c, char *err, size_t n)
{
    char why[512];
    const char *flag = NULL;
    *c = (creds_t){0};
    if (F.secret != NULL &&
        (c->secret = auth_load_secret(F.secret, &c->secret_len, why, sizeof(why))) == NULL)
        flag = "--camera-secret-file";
    else if (F.tokens != NULL && auth_load_tokens(F.tokens, &c->operators, why, sizeof(why)))
        flag = "--operator-token-file";
    else if (F.revoked != NULL && idset_load(F.revoked, &c->revoked, why, sizeof(why)))
        flag = "--camera-revoked-file";
    if (flag == NULL)
        return 0;
    snprintf(err, n, "%s: %s", flag, why);
    creds_free(c);
    return -1;
}

/* Moves *c into the configuration, freeing what it replaces. */
static void install(creds_t *c)
{
    creds_t old = {api_conf.camera_secret, api_conf.camera_secret_len, api_conf.operators,
                   api_conf.revoked};
    api_conf.camera_secret = c->secret;
    api_conf.camera_secret_len = c->secret_len;
    api_conf.operators = c->operators;
    api_conf.revoked = c->revoked;
    *c = (creds_t){0};
    creds_free(&old);
}

int reload_setup(const char *secret_file, const char *token_file, const char *revoked_file,
                 char *err, size_t n)
{
    F.secret = secret_file;
    F.tokens = token_file;
    F.revoked = revoked_file;
    creds_t c;
    if (load(&c, err, n) != 0)
        return -1;
    install(&c);
    return 0;
}

void reload_now(void)
{
    creds_t c;
    char err[700];
    if (F.secret == NULL && F.tokens == NULL && F.revoked == NULL) {
        log_msg(LOGL_INFO, "reload: no credentials files configured: nothing to read");
        return;
    }
    if (load(&c, err, sizeof(err)) != 0) {
        log_msg(LOGL_ERROR, "reload failed, previous settings kept: %s", err);
        return;
    }
    install(&c);
    size_t ended = cameras_revoke(&api_conf.revoked);
    log_field_t f[] = {LOG_STR("camera_secret", F.secret ? "reread" : "none"),
                       LOG_NUM("operator_tokens", api_conf.operators.n),
                       LOG_NUM("revoked", api_conf.revoked.n), LOG_NUM("polls_ended", ended)};
    log_with(LOGL_INFO, f, 4, "reloaded credentials");
}
