/* camera: flags, setup, run, teardown (PROTOCOL.md, "Command line"). */
#include "camera.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    if (upload_init(cam) != 0 || loop_signals(cam) != 0) {
        snprintf(err, FLAGS_ERRLEN, "setup failed: %s", strerror(errno));
        return -1;
    }
    cam->poll_url = xmalloc(strlen(cam->cfg.server) + strlen(cam->cfg.id) + 32);
    sprintf(cam->poll_url, "%s/control-channel?camera=%s", cam->cfg.server, cam->cfg.id);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid() << 16);
    if (source_init(cam, loop_now_ms(), err) != 0)
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

int main(int argc, char **argv)
{
    static camera_t cam;
    char err[FLAGS_ERRLEN] = "", shown[512];
    char server[] = "http://127.0.0.1:8080", id[] = "default";

    guard_std_fds();
    cam.cfg = (camera_cfg_t){.server = server,
                             .id = id,
                             .interval_ms = 10000,
                             .retain = 10000,
                             .max_body = 16777216,
                             .fsync_mode = STORE_FSYNC_EVERY,
                             .fsync_ms = 1000,
                             .poll_timeout_ms = 60000};
    int r = flags_parse(argc, argv, &cam.cfg, err);
    if (r == 1) {
        flags_print_usage();
        return 0;
    }
    if (r != 0) {
        flags_print_error(err);
        return 2;
    }
    if (flags_load_files(&cam.cfg, err) != 0 || setup(&cam, err) != 0) {
        flags_print_error(err);
        teardown(&cam);
        return 1;
    }
    flags_redact_url(cam.cfg.server, shown, sizeof(shown));
    camera_log("id=%s server=%s source=%s%s retain=%llu max-body=%llu", cam.cfg.id, shown,
               cam.cfg.from_stdin    ? "stdin"
               : cam.cfg.follow_path ? "file:"
                                     : "synthetic",
               cam.cfg.follow_path ? cam.cfg.follow_path : "", (unsigned long long)cam.cfg.retain,
               (unsigned long long)cam.cfg.max_body);
    r = loop_run(&cam);
    camera_log("stopped");
    teardown(&cam);
    return r == 0 ? 0 : 1;
}
