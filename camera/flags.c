/* camera: the command line (PROTOCOL.md, "Command line") and the files it
 * names. Flag errors exit 2, file errors exit 1, each with one line. */
#include "camera.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "camlogs_version.h"
#include "opts.h"
#include "query.h"
#include "store.h"

static const char USAGE[] =
    "usage: camera [options]\n"
    "\n"
    "connection:\n"
    "  --server URL          api base URL, http:// or https://, no path\n"
    "                        (default http://127.0.0.1:8080)\n"
    "  --id ID               camera id, [A-Za-z0-9._-]{1,64} (default \"default\")\n"
    "  --poll-timeout S      seconds before the camera gives up on a held /control-channel\n"
    "                        poll and polls again, min 0.1 (default 60; above the api's\n"
    "                        --poll-timeout, 50 by default)\n"
    "  --tcp-keepalive IDLE,INTVL,CNT\n"
    "                        TCP keep-alive probes: the first after IDLE s of silence,\n"
    "                        then every INTVL s; dead after CNT unanswered (default\n"
    "                        30,10,9: a dead path is noticed 2 minutes after its last\n"
    "                        byte); 0 or off: none\n"
    "  --tcp-user-timeout S  TCP_USER_TIMEOUT: unacknowledged data or failed probes end a\n"
    "                        connection after S seconds (default IDLE + INTVL x CNT; 0 = off)\n"
    "\n"
    "limits:\n"
    "  --retain N            newest events kept, 1..1000000 (default 10000)\n"
    "  --max-body BYTES      largest upload; the newest events that fit are sent,\n"
    "                        4096..1073741824 (default 16777216 = 16 MiB, the api's default)\n"
    "\n"
    "security:\n"
    "  --token-file FILE     the camera's token (`api --camera-token ID ...` prints it), sent\n"
    "                        as Authorization: Bearer; mode 600, one trailing newline\n"
    "                        dropped (default none)\n"
    "  --token TOKEN         the same on the command line (visible in ps: prefer\n"
    "                        --token-file; default none)\n"
    "  --cacert FILE         PEM CA certificates (or the api's own certificate) to verify\n"
    "                        an https:// server with (default the system's CAs)\n"
    "\n"
    "storage and events:\n"
    "  --source KIND         where events come from (default synthetic):\n"
    "                          synthetic   demo events every --interval\n"
    "                          stdin       each input line becomes an event\n"
    "                          file:PATH   each line appended to PATH, followed like tail -F\n"
    "                                      (rotation, truncation); resumes with --store\n"
    "  --interval S          one synthetic event every S seconds, min 0.001 (default 10)\n"
    "  --input FORMAT        text: a line is the description, stamped on arrival (default);\n"
    "                        json: a line is a record line {\"description\":..,\"timestamp\":..}\n"
    "  --store DIR           keep the events in DIR too (created if its parent exists), so\n"
    "                        they, their numbers and the epoch survive a restart; one\n"
    "                        camera per DIR (default none: memory only)\n"
    "  --fsync WHEN          with --store: always (before an event can be uploaded), never,\n"
    "                        or S: at most S seconds after it arrived (default 1)\n"
    "\n"
    "logging (stderr):\n"
    "  --log-level LEVEL     error | warn | info | debug (default info)\n"
    "  --log-format FORMAT   text | json: one JSON object a line (default text)\n"
    "\n"
    "cluster: nothing to set: --server is the front door (nginx) when there is one.\n"
    "\n"
    "  --version             print the version and exit\n"
    "  --help                this text\n";

#define DAY_MS 86400000ULL
#define RETAIN_MAX 1000000
#define TOKEN_MAX 1024

/* Every flag that takes a value; checked before the value is looked for, so
 * that a lone unknown flag is reported as unknown. */
static const char *const FLAGS[] = {
    "--server",    "--id",         "--interval",      "--source",           "--retain",
    "--max-body",  "--token",      "--token-file",    "--cacert",           "--poll-timeout",
    "--log-level", "--log-format", "--tcp-keepalive", "--tcp-user-timeout", "--store",
    "--fsync",     "--input"};

void flags_print_usage(void)
{
    fputs(USAGE, stdout);
}

void flags_print_version(void)
{
    printf("camera %s (protocol %s)\n", CAMLOGS_VERSION, CAMLOGS_PROTOCOL);
}

/* --log-level and --log-format. Returns 0, or -1 with one line in err. */
static int set_log_flag(camera_cfg_t *c, const char *name, const char *v, char *err)
{
    if (strcmp(name, "--log-level") == 0) {
        if (log_parse_level(v, &c->log_level) == 0)
            return 0;
        snprintf(err, FLAGS_ERRLEN, "--log-level: expected error, warn, info or debug");
        return -1;
    }
    if (log_parse_format(v, &c->log_format) == 0)
        return 0;
    snprintf(err, FLAGS_ERRLEN, "--log-format: expected text or json");
    return -1;
}

/* Checks the base URL and drops trailing slashes so paths can be appended. */
static int check_server(char *s, char *err)
{
    size_t n = strlen(s);
    const char *host = NULL;

    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7F || c == '?' || c == '#')
            host = NULL;
    }
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
    if (host == NULL || *host == '\0' || *host == '/') {
        snprintf(err, FLAGS_ERRLEN, "--server: expected http://HOST[:PORT] or https://...");
        return -1;
    }
    return 0;
}

static int check_token(const char *flag, const char *t, size_t n, char *err)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i] <= ' ' || t[i] >= 0x7F)
            n = 0;
    }
    if (n == 0 || n > TOKEN_MAX) {
        snprintf(err, FLAGS_ERRLEN, "%s: expected 1 to %d visible ASCII characters", flag,
                 TOKEN_MAX);
        return -1;
    }
    return 0;
}

static int set_source(camera_cfg_t *c, const char *v, char *err)
{
    c->from_stdin = strcmp(v, "stdin") == 0;
    c->follow_path = strncmp(v, "file:", 5) == 0 ? v + 5 : NULL;
    if (c->follow_path && *c->follow_path == '\0') {
        snprintf(err, FLAGS_ERRLEN, "--source file:PATH: PATH is empty");
        return -1;
    }
    if (c->from_stdin || c->follow_path || strcmp(v, "synthetic") == 0)
        return 0;
    snprintf(err, FLAGS_ERRLEN, "--source: expected synthetic, stdin or file:PATH");
    return -1;
}

/* --store, --fsync and --input (checked against each other in flags_parse). */
static int set_store_flag(camera_cfg_t *c, const char *name, const char *v, char *err)
{
    if (strcmp(name, "--store") == 0) {
        c->store_dir = v;
        if (*v)
            return 0;
        snprintf(err, FLAGS_ERRLEN, "--store: expected a directory");
        return -1;
    }
    if (strcmp(name, "--input") == 0) {
        c->input_json = strcmp(v, "json") == 0;
        if (c->input_json || strcmp(v, "text") == 0)
            return 0;
        snprintf(err, FLAGS_ERRLEN, "--input: expected text or json");
        return -1;
    }
    c->fsync_set = true;
    if (strcmp(v, "always") == 0 || strcmp(v, "never") == 0) {
        c->fsync_mode = v[0] == 'a' ? STORE_FSYNC_ALWAYS : STORE_FSYNC_NEVER;
        return 0;
    }
    c->fsync_mode = STORE_FSYNC_EVERY;
    if (opts_seconds(name, v, 1, DAY_MS, &c->fsync_ms, err, FLAGS_ERRLEN) == 0)
        return 0;
    snprintf(err, FLAGS_ERRLEN, "--fsync: expected always, never or seconds (0.001 to 86400)");
    return -1;
}

/* One flag's value. Returns 0, or -1 with one line in err. */
static int set_flag(camera_cfg_t *c, const char *name, char *v, char *err)
{
    if (strcmp(name, "--server") == 0) {
        c->server = v;
        return check_server(v, err);
    }
    if (strcmp(name, "--id") == 0) {
        c->id = v;
        if (query_valid_id(v, strlen(v)))
            return 0;
        snprintf(err, FLAGS_ERRLEN, "--id: expected 1 to 64 of [A-Za-z0-9._-]");
        return -1;
    }
    if (strcmp(name, "--interval") == 0)
        return opts_seconds(name, v, 1, DAY_MS, &c->interval_ms, err, FLAGS_ERRLEN);
    if (strcmp(name, "--poll-timeout") == 0)
        return opts_seconds(name, v, 100, DAY_MS, &c->poll_timeout_ms, err, FLAGS_ERRLEN);
    if (strcmp(name, "--retain") == 0)
        return opts_uint(name, v, 1, RETAIN_MAX, &c->retain, err, FLAGS_ERRLEN);
    if (strcmp(name, "--max-body") == 0)
        return opts_uint(name, v, 4096, 1ULL << 30, &c->max_body, err, FLAGS_ERRLEN);
    if (strcmp(name, "--source") == 0)
        return set_source(c, v, err);
    if (strcmp(name, "--store") == 0 || strcmp(name, "--fsync") == 0 ||
        strcmp(name, "--input") == 0)
        return set_store_flag(c, name, v, err);
    if (strcmp(name, "--token") == 0) {
        c->token = v;
        return check_token(name, v, strlen(v), err);
    }
    if (strcmp(name, "--token-file") == 0)
        c->token_file = v;
    if (strcmp(name, "--cacert") == 0)
        c->cacert = v; /* checked by flags_load_files */
    if (strncmp(name, "--log-", 6) == 0)
        return set_log_flag(c, name, v, err);
    if (strcmp(name, "--tcp-keepalive") == 0)
        return opts_keepalive(name, v, &c->keepalive, err, FLAGS_ERRLEN);
    if (strcmp(name, "--tcp-user-timeout") == 0) {
        c->user_timeout_set = true;
        return opts_seconds(name, v, 0, 3600000, &c->user_timeout_ms, err, FLAGS_ERRLEN);
    }
    return 0;
}

static bool known_flag(const char *name)
{
    for (size_t i = 0; i < sizeof(FLAGS) / sizeof(FLAGS[0]); i++) {
        if (strcmp(name, FLAGS[i]) == 0)
            return true;
    }
    return false;
}

/* The --log-format the command line asks for, wherever it stands (the flag
 * error may come before it): json only when given and valid. */
static enum log_format asked_format = LOGF_TEXT;

static enum log_format wanted_format(int argc, char **argv)
{
    enum log_format f = LOGF_TEXT, got;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--log-format=", 13) == 0)
            v = argv[i] + 13;
        if (v != NULL && log_parse_format(v, &got) == 0)
            f = got;
    }
    return f;
}

void flags_report_error(const char *line)
{
    if (asked_format == LOGF_JSON) {
        log_setup("camera", LOGL_INFO, LOGF_JSON);
        log_msg(LOGL_ERROR, "%s", line);
        return;
    }
    flags_print_error(line);
}

int flags_parse(int argc, char **argv, camera_cfg_t *c, char *err)
{
    asked_format = wanted_format(argc, argv); /* before "name=value" is cut in two */
    for (int i = 1; i < argc; i++) {
        char *name = argv[i], *v = strchr(name, '=');
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
            return FLAGS_HELP;
        if (strcmp(name, "--version") == 0)
            return FLAGS_VERSION;
        if (strncmp(name, "--", 2) != 0) {
            snprintf(err, FLAGS_ERRLEN, "unexpected argument %.64s (see --help)", name);
            return -1;
        }
        if (v)
            *v++ = '\0';
        if (!known_flag(name)) {
            snprintf(err, FLAGS_ERRLEN, "unknown flag %.64s (see --help)", name);
            return -1;
        }
        if (v == NULL && i + 1 >= argc) {
            snprintf(err, FLAGS_ERRLEN, "%s needs a value (see --help)", name);
            return -1;
        }
        if (set_flag(c, name, v ? v : argv[++i], err) != 0)
            return -1;
    }
    if (c->token && c->token_file) {
        snprintf(err, FLAGS_ERRLEN, "--token and --token-file: give one of them");
        return -1;
    }
    if (c->fsync_set && !c->store_dir) {
        snprintf(err, FLAGS_ERRLEN, "--fsync needs --store");
        return -1;
    }
    if (c->input_json && !c->from_stdin && !c->follow_path) {
        snprintf(err, FLAGS_ERRLEN, "--input json needs --source stdin or file:PATH");
        return -1;
    }
    return 0;
}

/* Opens `path` for reading if it is a regular file; with `private`, only if
 * group and others have no access to it. Returns an fd, or -1 with err. */
static int open_regular(const char *flag, const char *path, bool private, char *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) != 0)
        snprintf(err, FLAGS_ERRLEN, "%s %.100s: %s", flag, path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(err, FLAGS_ERRLEN, "%s %.100s: not a regular file", flag, path);
    else if (private && (st.st_mode & 077))
        snprintf(err, FLAGS_ERRLEN, "%s %.100s: mode %04o lets group or others at it; chmod 600 it",
                 flag, path, (unsigned)(st.st_mode & 07777));
    else
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The token is the file's bytes without one trailing LF or CR LF. */
static int load_token(camera_cfg_t *c, char *err)
{
    char buf[TOKEN_MAX + 3];
    size_t n = 0;
    ssize_t r = 1;
    int fd = open_regular("--token-file", c->token_file, true, err);

    if (fd < 0)
        return -1;
    while (n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - n)) > 0)
        n += (size_t)r;
    close(fd);
    if (r < 0) {
        snprintf(err, FLAGS_ERRLEN, "--token-file %.100s: %s", c->token_file, strerror(errno));
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n -= 1 + (n > 1 && buf[n - 2] == '\r');
    if (check_token("--token-file", buf, n, err) != 0)
        return -1;
    c->token_owned = xmalloc(n + 1);
    memcpy(c->token_owned, buf, n);
    c->token_owned[n] = '\0';
    c->token = c->token_owned;
    return 0;
}

int flags_load_files(camera_cfg_t *c, char *err)
{
    if (c->cacert) {
        int fd = open_regular("--cacert", c->cacert, false, err);
        if (fd < 0)
            return -1;
        close(fd);
    }
    return c->token_file ? load_token(c, err) : 0;
}

void flags_print_error(const char *line)
{
    static const char hex[] = "0123456789abcdef";
    fputs("camera: ", stderr);
    for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
        if (*p >= ' ' && *p < 0x7F) {
            fputc(*p, stderr);
        } else { /* a terminal must not act on what the user typed */
            fputs("\\x", stderr);
            fputc(hex[*p >> 4], stderr);
            fputc(hex[*p & 15], stderr);
        }
    }
    fputc('\n', stderr);
}

void flags_redact_url(const char *url, char *out, size_t n)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t span = strcspn(auth, "/");
    const char *at = NULL;
    for (const char *p = auth; p < auth + span; p++) {
        if (*p == '@')
            at = p;
    }
    if (at == NULL)
        snprintf(out, n, "%s", url);
    else /* user:password@ must not reach a log */
        snprintf(out, n, "%.*s***%s", (int)(auth - url), url, at);
}
