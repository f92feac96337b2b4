/* The credentials files: read at start, and again on SIGHUP. A reload reads
 * every configured file first and installs them together only when all are
 * good; a bad one keeps the previous settings (one error line). Held polls
 * and waiters stay: a new token matters from a client's next request. A
 * camera id newly revoked loses its held poll at once (401). The revoked
 * ids' file may be absent (nobody revoked) at start and at any reload: the
 * shipped unit always names it, and the operator creates it when needed. */
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
    bool revoked_absent;
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
    int rc = 0;
    *c = (creds_t){0};
    if (F.secret != NULL &&
        (c->secret = auth_load_secret(F.secret, &c->secret_len, why, sizeof(why))) == NULL)
        flag = "--camera-secret-file";
    else if (F.tokens != NULL && auth_load_tokens(F.tokens, &c->operators, why, sizeof(why)))
        flag = "--operator-token-file";
    else if (F.revoked != NULL && (rc = idset_load(F.revoked, &c->revoked, why, sizeof(why))) < 0)
        flag = "--camera-revoked-file";
    c->revoked_absent = rc == IDSET_ABSENT;
    if (flag == NULL)
        return 0;
    snprintf(err, n, "%s: %s", flag, why);
    creds_free(c);
    return -1;
}

static bool same_secret(const creds_t *c)
{
    return c->secret == NULL ? api_conf.camera_secret == NULL
                             : api_conf.camera_secret != NULL &&
                                   auth_equal(c->secret, c->secret_len, api_conf.camera_secret,
                                              api_conf.camera_secret_len);
}

static bool same_tokens(const auth_tokens_t *a, const auth_tokens_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!auth_equal(a->tok[i], a->len[i], b->tok[i], b->len[i]))
            return false;
    return true;
}

/* Moves *c into the configuration, freeing what it replaces. */
static void install(creds_t *c)
{
    creds_t old = {api_conf.camera_secret, api_conf.camera_secret_len, api_conf.operators,
                   api_conf.revoked, api_conf.revoked_absent};
    api_conf.camera_secret = c->secret;
    api_conf.camera_secret_len = c->secret_len;
    api_conf.operators = c->operators;
    api_conf.revoked = c->revoked;
    api_conf.revoked_absent = c->revoked_absent;
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

const char *reload_revoked_count(char *buf, size_t n)
{
    if (api_conf.revoked_absent)
        return "absent";
    snprintf(buf, n, "%zu", api_conf.revoked.n);
    return buf;
}

void reload_now(void)
{
    creds_t c;
    char err[700], rv[24];
    if (F.secret == NULL && F.tokens == NULL && F.revoked == NULL) {
        log_msg(LOGL_INFO, "reload: nothing changed: no credentials files configured "
                           "(--camera-secret-file, --operator-token-file, --camera-revoked-file)");
        return;
    }
    if (load(&c, err, sizeof(err)) != 0) {
        log_msg(LOGL_ERROR, "reload failed, previous settings kept: %s", err);
        return;
    }
    bool secret = same_secret(&c), tokens = same_tokens(&c.operators, &api_conf.operators);
    bool revoked =
        c.revoked_absent == api_conf.revoked_absent && idset_equal(&c.revoked, &api_conf.revoked);
    if (secret && tokens && revoked) {
        creds_free(&c);
        log_field_t f[] = {LOG_STR("camera_secret", F.secret ? "same" : "none"),
                           LOG_NUM("operator_tokens", api_conf.operators.n),
                           LOG_STR("revoked", reload_revoked_count(rv, sizeof(rv)))};
        log_with(LOGL_INFO, f, 3, "reload: nothing changed");
        return;
    }
    install(&c);
    size_t ended = cameras_revoke(&api_conf.revoked);
    log_field_t f[] = {LOG_STR("camera_secret", !F.secret ? "none"
                                                : secret  ? "same"
                                                          : "changed"),
                       LOG_NUM("operator_tokens", api_conf.operators.n),
                       LOG_STR("revoked", reload_revoked_count(rv, sizeof(rv))),
                       LOG_NUM("polls_ended", ended)};
    log_with(LOGL_INFO, f, 4, "reloaded credentials");
}
