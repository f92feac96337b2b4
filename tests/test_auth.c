/* Camera tokens, constant-time compare, secret and operator token files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"

static char path[64];
static char err[512];

/* Writes n bytes to a fresh temporary file; path holds its name. */
static const char *file_with(const char *s, size_t n)
{
    strcpy(path, "/tmp/test_auth_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, s, n) != (ssize_t)n) {
        perror("mkstemp/write");
        exit(1);
    }
    close(fd);
    return path;
}

static const char *file_str(const char *s)
{
    return file_with(s, strlen(s));
}

static void test_token(void)
{
    char out[AUTH_TOKEN_HEX + 1];

    /* Expected values from `printf %s ID | openssl dgst -sha256 -hmac KEY`. */
    auth_camera_token("0123456789abcdef0123456789abcdef", 32, "cam-1", 5, out);
    CHECK(strcmp(out, "5e8db1440f31a579e53aec8291e5e457d05de1353000132aae27c663a04db4fa") == 0);
    auth_camera_token("sixteen-byte-key", 16, "default", 7, out);
    CHECK(strcmp(out, "6fb7e5e254cd44ffd2fb0cceaa4ddf7ab7893e51c53ceb5bc5a26af9c40b4c79") == 0);
    /* RFC 4231 test case 2. */
    auth_camera_token("Jefe", 4, "what do ya want for nothing?", 28, out);
    CHECK(strcmp(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0);
    CHECK(strlen(out) == AUTH_TOKEN_HEX);
}

static void test_equal(void)
{
    CHECK(auth_equal("abc", 3, "abc", 3));
    CHECK(!auth_equal("abc", 3, "abd", 3));
    CHECK(!auth_equal("abc", 3, "abcd", 4));
    CHECK(!auth_equal("abcd", 4, "abc", 3));
    CHECK(auth_equal("", 0, "", 0));
    CHECK(!auth_equal("", 0, "a", 1));
    CHECK(auth_equal("a\0b", 3, "a\0b", 3) && !auth_equal("a\0b", 3, "a\0c", 3));
}

static void test_secret(void)
{
    size_t len;
    char *s;

    s = auth_load_secret(file_str("0123456789abcdef\n"), &len, err, sizeof err);
    CHECK(s != NULL && len == 16 && memcmp(s, "0123456789abcdef", 16) == 0);
    free(s);
    unlink(path);
    s = auth_load_secret(file_str("0123456789abcdef\r\n"), &len, err, sizeof err);
    CHECK(s != NULL && len == 16);
    free(s);
    unlink(path);
    /* Only one line ending goes; everything else is part of the secret. */
    s = auth_load_secret(file_str("0123456789abcdef\n\n"), &len, err, sizeof err);
    CHECK(s != NULL && len == 17 && s[16] == '\n');
    free(s);
    unlink(path);
    s = auth_load_secret(file_str(" 0123456789abcdef\r"), &len, err, sizeof err);
    CHECK(s != NULL && len == 18);
    free(s);
    unlink(path);
    s = auth_load_secret(file_with("0123456789\0abcdef", 17), &len, err, sizeof err);
    CHECK(s != NULL && len == 17 && s[10] == '\0');
    free(s);
    unlink(path);

    s = auth_load_secret(file_str("0123456789abcde\n"), &len, err, sizeof err);
    CHECK(s == NULL && strstr(err, "at least 16 bytes") != NULL && strchr(err, '\n') == NULL);
    unlink(path);
    s = auth_load_secret(file_str("0123456789abcde\r\n"), &len, err, sizeof err);
    CHECK(s == NULL);
    unlink(path);
    s = auth_load_secret(file_str(""), &len, err, sizeof err);
    CHECK(s == NULL);
    unlink(path);
    s = auth_load_secret("/nonexistent/secret", &len, err, sizeof err);
    CHECK(s == NULL && strstr(err, "/nonexistent/secret") != NULL &&
          strstr(err, "No such file") != NULL);
}

static void test_tokens(void)
{
    auth_tokens_t t;
    const char *a = "operator-token-0001", *b = "operator-token-0002";

    CHECK(auth_load_tokens(file_str("# operators\n\n  operator-token-0001 \t\r\n"
                                    "\toperator-token-0002\n   \n#operator-token-0003\n"),
                           &t, err, sizeof err) == 0);
    unlink(path);
    CHECK(t.n == 2 && strcmp(t.tok[0], a) == 0 && t.len[1] == strlen(b));
    CHECK(auth_tokens_match(&t, a, strlen(a)) && auth_tokens_match(&t, b, strlen(b)));
    CHECK(!auth_tokens_match(&t, "operator-token-0003", 19));
    CHECK(!auth_tokens_match(&t, a, strlen(a) - 1) && !auth_tokens_match(&t, "", 0));
    auth_tokens_free(&t);
    CHECK(t.n == 0 && t.tok == NULL);

    /* No trailing newline, CR LF endings. */
    CHECK(auth_load_tokens(file_str("operator-token-0001\r\noperator-token-0002"), &t, err,
                           sizeof err) == 0);
    unlink(path);
    CHECK(t.n == 2 && auth_tokens_match(&t, b, strlen(b)));
    auth_tokens_free(&t);

    CHECK(auth_load_tokens(file_str("# nothing\n\n \t\n"), &t, err, sizeof err) == -1);
    CHECK(strstr(err, "no operator token") != NULL);
    unlink(path);
    CHECK(auth_load_tokens(file_str(""), &t, err, sizeof err) == -1);
    unlink(path);
    CHECK(auth_load_tokens(file_str("operator-token-0001\n\nshort-token\n"), &t, err, sizeof err) ==
          -1);
    CHECK(strstr(err, ":3: token shorter than 16") != NULL && strstr(err, "short-token") == NULL);
    CHECK(t.n == 0 && t.tok == NULL);
    unlink(path);
    CHECK(auth_load_tokens(file_str("operator token 0001\n"), &t, err, sizeof err) == -1);
    CHECK(strstr(err, ":1: ") != NULL);
    unlink(path);
    CHECK(auth_load_tokens("/nonexistent/tokens", &t, err, sizeof err) == -1);
    CHECK(strstr(err, "No such file") != NULL);
}

/* A FIFO at a credentials path is refused at once: opening it must not wait
 * for a writer (that would hang the start, or the loop on SIGHUP). */
static void test_fifo(void)
{
    size_t len;
    strcpy(path, "/tmp/test_auth_fifoXXXXXX");
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    CHECK(mkfifo(path, 0600) == 0);
    CHECK(auth_read_private(path, &len, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a regular file") != NULL);
    unlink(path);
}

int main(void)
{
    test_fifo();
    test_token();
    test_equal();
    test_secret();
    test_tokens();
    return check_report();
}
