/* camera: flags, setup, run, teardown (PROTOCOL.md, "Command line"). */
#include "camera.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "camlogs_version.h"

/* A process started with fd 0, 1 or 2 closed would hand that number to the
 * next open(): a curl socket on fd 2 would receive our log lines. */
static void guard_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", O_RDWR); /* the lowest free fd: this one */
            if (n > 2)
                close(n);
        }
    }
}

/* Everything the loop needs. Returns 0, or -1 with one line in err. */
static int setup(camera_t *cam, char *err)
{
    char *line;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (cam->multi = curl_multi_init()) == NULL) {
        snprintf(err, FLAGS_ERRLEN, "curl initialisation failed");
        return -1;
    }
    if (loop_signals(cam) != 0) { /* first: a SIGTERM during a long recovery exits cleanly */
        snprintf(err, FLAGS_ERRLEN, "setup failed: %s", strerror(errno));
        return -1;
    }
    cam->ring = ring_create(cam->cfg.retain);
    if (cam->cfg.follow_path && follow_validate(cam->cfg.follow_path, err) != 0)
        return -1; /* before the store is opened: one line, nothing else */
    if (cam->cfg.store_dir) {
        store_cfg_t sc = {.dir = cam->cfg.store_dir,
                          .fsync = (enum store_fsync)cam->cfg.fsync_mode,
                          .fsync_ms = cam->cfg.fsync_ms,
                          .retain = cam->cfg.retain};
        if ((cam->store = store_open(&sc, cam->ring, err, FLAGS_ERRLEN)) == NULL)
            return -1;
    }
    if (cam->cfg.token) {
        line = xmalloc(strlen(cam->cfg.token) + 32);
        sprintf(line, "Authorization: Bearer %s", cam->cfg.token);
        cam->auth = curl_slist_append(NULL, line); /* copies */
        free(line);
        if (cam->auth == NULL) {
            snprintf(err, FLAGS_ERRLEN, "out of memory");
            return -1;
        }
    }
    if (upload_init(cam) != 0) {
        snprintf(err, FLAGS_ERRLEN, "setup failed: %s", strerror(errno));
        return -1;
    }
    if (cam->store)
        snprintf(cam->epoch, sizeof(cam->epoch), "%s", store_epoch(cam->store));
    else if (epoch_random(cam->epoch, err, FLAGS_ERRLEN) != 0)
        return -1;
    cam->next_seq = 1;
    cam->poll_url = xmalloc(strlen(cam->cfg.server) + strlen(cam->cfg.id) + ID_MAX + 48);
    sprintf(cam->poll_url, "%s/control-channel?camera=%s&epoch=%s", cam->cfg.server, cam->cfg.id,
            cam->epoch);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid() << 16);
    if (source_init(cam, clock_ms(), err) != 0)
        return -1;
    poll_init(cam);
    return 0;
}

static void teardown(camera_t *cam)
{
    source_fini(cam);
    store_close(cam->store); /* everything written and synced before exit */
    cam->store = NULL;
    upload_fini(cam);
    if (cam->ring)
        ring_destroy(cam->ring);
    curl_slist_free_all(cam->auth);
    free(cam->poll_url);
    if (cam->cfg.token_owned) {
        explicit_bzero(cam->cfg.token_owned, strlen(cam->cfg.token_owned));
        free(cam->cfg.token_owned);
    }
    if (cam->multi)
        curl_multi_cleanup(cam->multi);
    curl_global_cleanup();
}

/* The start line: what this camera is and where it sends. */
static void log_start(const camera_t *cam)
{
    char shown[512], ka[48] = "off", fsync[32] = "-", src[300];
    const opts_keepalive_t *k = &cam->cfg.keepalive;
    const camera_cfg_t *c = &cam->cfg;

    flags_redact_url(c->server, shown, sizeof(shown));
    if (k->on)
        snprintf(ka, sizeof(ka), "%u,%u,%u", k->idle_s, k->intvl_s, k->count);
    snprintf(src, sizeof(src), "%s%.280s",
             c->from_stdin    ? "stdin"
             : c->follow_path ? "file:"
                              : "synthetic",
             c->follow_path ? c->follow_path : "");
    if (c->store_dir)
        snprintf(fsync, sizeof(fsync), "%s",
                 c->fsync_mode == STORE_FSYNC_ALWAYS  ? "always"
                 : c->fsync_mode == STORE_FSYNC_NEVER ? "never"
                                                      : "");
    if (c->store_dir && c->fsync_mode == STORE_FSYNC_EVERY)
        snprintf(fsync, sizeof(fsync), "%.3f", (double)c->fsync_ms / 1000);
    log_field_t f[] = {LOG_STR("version", CAMLOGS_VERSION),
                       LOG_STR("protocol", CAMLOGS_PROTOCOL),
                       LOG_STR("id", c->id),
                       LOG_STR("server", shown),
                       LOG_STR("source", src),
                       LOG_STR("input", c->input_json ? "json" : "text"),
                       LOG_NUM("retain", c->retain),
                       LOG_STR("store", c->store_dir ? c->store_dir : "-"),
                       LOG_STR("epoch", cam->epoch),
                       LOG_STR("fsync", fsync),
                       LOG_NUM("max-body", c->max_body),
                       LOG_STR("tcp-keepalive", ka),
                       LOG_NUM("tcp-user-timeout-ms", keepalive_user_timeout_ms(&cam->cfg))};
    log_with(LOGL_INFO, f, sizeof(f) / sizeof(f[0]), "starting");
}

static void log_stop(const camera_t *cam, int rc)
{
    int sig = (int)cam->stop;
    if (rc != 0)
        log_msg(LOGL_ERROR, "stopped after a curl failure");
    else
        log_msg(LOGL_INFO, "stopped on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

int main(int argc, char **argv)
{
    static camera_t cam;
    char err[FLAGS_ERRLEN] = "";
    char server[] = "http://127.0.0.1:8080", id[] = "default";

    guard_std_fds();
#ifdef M_MMAP_THRESHOLD
    /* A fixed threshold: glibc's moving one puts the buffers a burst grows
     * (the store's, an upload's) on the heap after the first is freed, where
     * they stay allocated after they are freed (docs/FOOTPRINT.md). */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
#endif
    cam.cfg = (camera_cfg_t){.server = server,
                             .id = id,
                             .interval_ms = 10000,
                             .retain = 10000,
                             .max_body = 16777216,
                             .fsync_mode = STORE_FSYNC_EVERY,
                             .fsync_ms = 1000,
                             .poll_timeout_ms = 60000,
                             .log_level = LOGL_INFO,
                             .log_format = LOGF_TEXT,
                             .keepalive = {.on = true, .idle_s = 30, .intvl_s = 10, .count = 9}};
    int r = flags_parse(argc, argv, &cam.cfg, err);
    if (r == FLAGS_HELP || r == FLAGS_VERSION) {
        if (r == FLAGS_HELP)
            flags_print_usage();
        else
            flags_print_version();
        return 0;
    }
    if (r != 0) {
        flags_report_error(err);
        return 2;
    }
    log_setup("camera", cam.cfg.log_level, cam.cfg.log_format);
    if (flags_load_files(&cam.cfg, err) != 0 || setup(&cam, err) != 0) {
        log_msg(LOGL_ERROR, "%s", err);
        teardown(&cam);
        return 1;
    }
    log_start(&cam);
    r = loop_run(&cam);
    log_stop(&cam, r);
    teardown(&cam);
    return r == 0 ? 0 : 1;
}
