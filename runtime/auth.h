/* Camera tokens (HMAC-SHA256 of the camera id), operator tokens, and the
 * constant-time comparison both use (PROTOCOL.md, "Auth"). */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_TOKEN_HEX 64 /* lowercase hex HMAC-SHA256 */
#define AUTH_SECRET_MIN 16
#define AUTH_OPERATOR_MIN 16

/** Writes the camera token for `id` under `secret`: 64 hex chars + NUL. */
void auth_camera_token(const void *secret, size_t secret_len, const char *id, size_t id_len,
                       char out[AUTH_TOKEN_HEX + 1]);

/** Constant-time equality (time depends on the lengths only). */
bool auth_equal(const void *a, size_t alen, const void *b, size_t blen);

/** Operator tokens loaded from a file. */
typedef struct auth_tokens {
    char **tok;
    size_t *len;
    size_t n;
} auth_tokens_t;

/** Reads a whole credentials file: a regular file that group and others
 * cannot read or write. Returns a malloc'd NUL-terminated buffer (cleanse
 * it before free) and its length, or NULL with one line in err naming the
 * file and the fix; errno is then ENOENT when the file does not exist. */
char *auth_read_private(const char *path, size_t *len, char *err, size_t errlen);

/** The same for a list that is not secret (the revoked camera ids): any
 * mode, but others may not write it ("chmod o-w"). */
char *auth_read_shared(const char *path, size_t *len, char *err, size_t errlen);

/** Calls `fn` for each line of a list file (operator tokens, revoked ids)
 * that holds something: trimmed of spaces, tabs and CR, empty lines and
 * lines starting with '#' skipped; `lineno` is 1-based. Stops at the first
 * non-zero return of `fn` and returns it; 0 when every line was taken. */
int auth_each_line(const char *data, size_t len,
                   int (*fn)(void *ctx, const char *s, size_t n, size_t lineno), void *ctx);

/** Reads the camera secret file (its bytes without one trailing LF or CR LF).
 * Returns a malloc'd secret and its length, or NULL with one line in err. */
char *auth_load_secret(const char *path, size_t *len, char *err, size_t errlen);

/** Reads an operator token file. Returns 0, or -1 with one line in err.
 * Free with auth_tokens_free. */
int auth_load_tokens(const char *path, auth_tokens_t *t, char *err, size_t errlen);
void auth_tokens_free(auth_tokens_t *t);

/** True when `tok` equals one of the tokens (each compared in constant time). */
bool auth_tokens_match(const auth_tokens_t *t, const char *tok, size_t len);

#endif
