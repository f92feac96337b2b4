/* camera: flags, setup, run, teardown (PROTOCOL.md, "Command line"). */
#include "camera.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "query.h"

static const char USAGE[] =
    "usage: camera [options]\n"
    "  --server URL          api base URL, http:// or https:// (default http://127.0.0.1:8080)\n"
    "  --id ID               camera id, [A-Za-z0-9._-]{1,64} (default \"default\")\n"
    "  --interval S          one synthetic event every S seconds, min 0.001 (default 10)\n"
    "  --source KIND         synthetic | stdin: each input line becomes an event\n"
    "  --retain N            newest events kept, 1..10000000 (default 10000)\n"
    "  --poll-timeout S      client timeout of a /control-channel poll, min 0.1 (default 60)\n"
    "  --token TOKEN         sent as Authorization: Bearer TOKEN to the api\n"
    "  --cacert FILE         CA certificates to verify an https server with\n"
    "  --help                this text\n";

#define ERRLEN 256
#define DAY_MS 86400000ULL

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
        snprintf(err, ERRLEN, "--server: expected http://HOST[:PORT] or https://...");
        return -1;
    }
    return 0;
}

static int check_token(const char *t, char *err)
{
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        if (t[i] <= ' ' || t[i] >= 0x7F)
            n = 0;
    }
    if (n == 0 || n > 1024) {
        snprintf(err, ERRLEN, "--token: expected 1 to 1024 visible ASCII characters");
        return -1;
    }
    return 0;
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
        snprintf(err, ERRLEN, "--id: expected 1 to 64 of [A-Za-z0-9._-]");
        return -1;
    }
    if (strcmp(name, "--interval") == 0)
        return opts_seconds(name, v, 1, DAY_MS, &c->interval_ms, err, ERRLEN);
    if (strcmp(name, "--poll-timeout") == 0)
        return opts_seconds(name, v, 100, DAY_MS, &c->poll_timeout_ms, err, ERRLEN);
    if (strcmp(name, "--retain") == 0)
        return opts_uint(name, v, 1, 10000000, &c->retain, err, ERRLEN);
    if (strcmp(name, "--source") == 0) {
        c->from_stdin = strcmp(v, "stdin") == 0;
        if (c->from_stdin || strcmp(v, "synthetic") == 0)
            return 0;
        snprintf(err, ERRLEN, "--source: expected synthetic or stdin");
        return -1;
    }
    if (strcmp(name, "--token") == 0) {
        c->token = v;
        return check_token(v, err);
    }
    if (strcmp(name, "--cacert") == 0) {
        c->cacert = v;
        return 0;
    }
    snprintf(err, ERRLEN, "unknown flag %.64s (see --help)", name);
    return -1;
}

/* Parses argv into c ("--flag value" or "--flag=value"). Returns 0, 1 for
 * --help, or -1 with one line in err. */
static int parse_flags(int argc, char **argv, camera_cfg_t *c, char *err)
{
    for (int i = 1; i < argc; i++) {
        char *name = argv[i], *v = strchr(name, '=');
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
            return 1;
        if (strncmp(name, "--", 2) != 0) {
            snprintf(err, ERRLEN, "unexpected argument %.64s (see --help)", name);
            return -1;
        }
        if (v)
            *v++ = '\0';
        else if (i + 1 < argc)
            v = argv[++i];
        else {
            snprintf(err, ERRLEN, "%.64s needs a value (see --help)", name);
            return -1;
        }
        if (set_flag(c, name, v, err) != 0)
            return -1;
    }
    return 0;
}

/* Everything the loop needs. Returns 0, or -1 with one line in err. */
static int setup(camera_t *cam, char *err)
{
    char *line;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (cam->multi = curl_multi_init()) == NULL) {
        snprintf(err, ERRLEN, "curl initialisation failed");
        return -1;
    }
    cam->ring = ring_create(cam->cfg.retain);
    if (cam->cfg.token) {
        line = xmalloc(strlen(cam->cfg.token) + 32);
        sprintf(line, "Authorization: Bearer %s", cam->cfg.token);
        cam->auth = curl_slist_append(NULL, line); /* copies */
        free(line);
        if (cam->auth == NULL) {
            snprintf(err, ERRLEN, "out of memory");
            return -1;
        }
    }
    if (upload_init(cam) != 0 || loop_signals(cam) != 0) {
        snprintf(err, ERRLEN, "setup failed: %s", strerror(errno));
        return -1;
    }
    cam->poll_url = xmalloc(strlen(cam->cfg.server) + strlen(cam->cfg.id) + 32);
    sprintf(cam->poll_url, "%s/control-channel?camera=%s", cam->cfg.server, cam->cfg.id);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid() << 16);
    source_init(cam, loop_now_ms());
    poll_init(cam);
    return 0;
}

static void teardown(camera_t *cam)
{
    source_fini(cam);
    upload_fini(cam);
    if (cam->ring)
        ring_destroy(cam->ring);
    curl_slist_free_all(cam->auth);
    free(cam->poll_url);
    if (cam->multi)
        curl_multi_cleanup(cam->multi);
    curl_global_cleanup();
}

int main(int argc, char **argv)
{
    static camera_t cam;
    char err[ERRLEN] = "";
    char server[] = "http://127.0.0.1:8080", id[] = "default";

    cam.cfg = (camera_cfg_t){.server = server,
                             .id = id,
                             .interval_ms = 10000,
                             .retain = 10000,
                             .poll_timeout_ms = 60000};
    int r = parse_flags(argc, argv, &cam.cfg, err);
    if (r == 1) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (r != 0) {
        fprintf(stderr, "camera: %s\n", err);
        return 2;
    }
    if (cam.cfg.cacert && access(cam.cfg.cacert, R_OK) != 0) {
        fprintf(stderr, "camera: --cacert %s: %s\n", cam.cfg.cacert, strerror(errno));
        return 1;
    }
    if (setup(&cam, err) != 0) {
        fprintf(stderr, "camera: %s\n", err);
        teardown(&cam);
        return 1;
    }
    camera_log("id=%s server=%s source=%s retain=%llu", cam.cfg.id, cam.cfg.server,
               cam.cfg.from_stdin ? "stdin" : "synthetic", (unsigned long long)cam.cfg.retain);
    r = loop_run(&cam);
    camera_log("stopped");
    teardown(&cam);
    return r == 0 ? 0 : 1;
}
