/* Camera tokens (HMAC-SHA256 of the camera id), operator token files and
 * the constant-time comparison both use. Tokens are never logged: error
 * lines name files and line numbers only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "buf.h"

void auth_camera_token(const void *secret, size_t secret_len, const char *id, size_t id_len,
                       char out[AUTH_TOKEN_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    /* HMAC() only fails on bad arguments or OOM; a wrong token is no fallback. */
    if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)id, id_len, mac, &n) ==
            NULL ||
        n != AUTH_TOKEN_HEX / 2)
        abort();
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[AUTH_TOKEN_HEX] = '\0';
}

bool auth_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen) {
        /* Same work as a real compare of alen bytes, so only lengths show. */
        (void)CRYPTO_memcmp(a, a, alen);
        return false;
    }
    return CRYPTO_memcmp(a, b, alen) == 0;
}

/* Opens a list or credentials file: a regular file. A private one (secrets,
 * tokens) only its owner may read or write, since anyone who can read it
 * can act as any camera or operator; a shared one (the revoked ids) anyone
 * may read, but others may not write. errno stays ENOENT when the file is
 * not there (and is 0 for the other refusals). */
static FILE *open_checked(const char *path, bool private, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (S_ISREG then
     * refuses it); a regular file ignores the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    FILE *f;
    int e = 0;

    if (fd < 0 || fstat(fd, &st) != 0) {
        e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
    } else if (private && (st.st_mode & 077)) {
        snprintf(err, errlen, "%s: mode %04o lets group or others at it; chmod 600 it", path,
                 (unsigned)(st.st_mode & 07777));
    } else if (!private && (st.st_mode & 002)) {
        snprintf(err, errlen, "%s: mode %04o lets anyone write it; chmod o-w it", path,
                 (unsigned)(st.st_mode & 07777));
    } else if ((f = fdopen(fd, "rb")) != NULL) {
        return f;
    } else {
        e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
    }
    if (fd >= 0)
        close(fd);
    errno = e;
    return NULL;
}

static char *read_checked(const char *path, bool private, size_t *len, char *err, size_t errlen)
{
    FILE *f = open_checked(path, private, err, errlen);
    buf_t b = BUF_INIT;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        fclose(f);
        if (b.data != NULL)
            OPENSSL_cleanse(b.data, b.len);
        buf_free(&b);
        errno = 0;
        return NULL;
    }
    fclose(f);
    buf_reserve(&b, 1);
    b.data[b.len] = '\0';
    *len = b.len;
    return b.data;
}

char *auth_read_private(const char *path, size_t *len, char *err, size_t errlen)
{
    return read_checked(path, true, len, err, errlen);
}

char *auth_read_shared(const char *path, size_t *len, char *err, size_t errlen)
{
    return read_checked(path, false, len, err, errlen);
}

char *auth_load_secret(const char *path, size_t *len, char *err, size_t errlen)
{
    size_t size, n;
    char *s = auth_read_private(path, &size, err, errlen);

    if (s == NULL)
        return NULL;
    n = size;
    if (n > 0 && s[n - 1] == '\n')
        n -= 1 + (n > 1 && s[n - 2] == '\r');
    if (n < AUTH_SECRET_MIN) {
        snprintf(err, errlen, "%s: camera secret must be at least %d bytes, got %zu", path,
                 AUTH_SECRET_MIN, n);
        OPENSSL_cleanse(s, size);
        free(s);
        return NULL;
    }
    s[n] = '\0';
    *len = n;
    return s;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Checks one trimmed line; returns NULL or the problem. */
static const char *check_token(const char *t, size_t n)
{
    if (n < AUTH_OPERATOR_MIN)
        return "token shorter than 16 characters";
    for (size_t i = 0; i < n; i++) {
        /* A Bearer token can hold only visible ASCII: anything else never matches. */
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
            return "token has a space or a non-printable character";
    }
    return NULL;
}

int auth_each_line(const char *data, size_t len,
                   int (*fn)(void *ctx, const char *s, size_t n, size_t lineno), void *ctx)
{
    size_t lineno = 0;
    for (const char *p = data, *end = data + len; p < end; p++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *q;
        if (eol == NULL)
            eol = end;
        lineno++;
        for (; p < eol && is_blank(*p); p++)
            ;
        for (q = eol; q > p && is_blank(q[-1]); q--)
            ;
        int rc = q > p && *p != '#' ? fn(ctx, p, (size_t)(q - p), lineno) : 0;
        if (rc != 0)
            return rc;
        p = eol;
    }
    return 0;
}

static void add_token(auth_tokens_t *t, const char *s, size_t n)
{
    t->tok = xrealloc(t->tok, (t->n + 1) * sizeof *t->tok);
    t->len = xrealloc(t->len, (t->n + 1) * sizeof *t->len);
    t->tok[t->n] = xmemdup(s, n);
    t->len[t->n] = n;
    t->n++;
}

struct token_load {
    auth_tokens_t *t;
    const char *path;
    char *err;
    size_t errlen;
};

static int take_token(void *ctx, const char *s, size_t n, size_t lineno)
{
    struct token_load *l = ctx;
    const char *why = check_token(s, n);
    if (why != NULL) {
        snprintf(l->err, l->errlen, "%s:%zu: %s", l->path, lineno, why);
        return -1;
    }
    add_token(l->t, s, n);
    return 0;
}

int auth_load_tokens(const char *path, auth_tokens_t *t, char *err, size_t errlen)
{
    size_t len;
    char *data = auth_read_private(path, &len, err, errlen);
    struct token_load l = {t, path, err, errlen};

    *t = (auth_tokens_t){0};
    if (data == NULL)
        return -1;
    if (auth_each_line(data, len, take_token, &l) != 0)
        goto fail;
    if (t->n == 0) {
        snprintf(err, errlen, "%s: no operator token in the file", path);
        goto fail;
    }
    OPENSSL_cleanse(data, len);
    free(data);
    return 0;
fail:
    OPENSSL_cleanse(data, len);
    free(data);
    auth_tokens_free(t);
    return -1;
}

void auth_tokens_free(auth_tokens_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        OPENSSL_cleanse(t->tok[i], t->len[i]);
        free(t->tok[i]);
    }
    free(t->tok);
    free(t->len);
    *t = (auth_tokens_t){0};
}

bool auth_tokens_match(const auth_tokens_t *t, const char *tok, size_t len)
{
    bool found = false;

    /* No early exit: which token matched must not show in the timing. */
    for (size_t i = 0; i < t->n; i++)
        found |= auth_equal(t->tok[i], t->len[i], tok, len);
    return found;
}
