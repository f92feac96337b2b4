/* idset: the revoked-camera file (one id a line, # comments, not writable by others, may be
 * absent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "idset.h"

static char dir[] = "/tmp/test_idset.XXXXXX";

static const char *put(const char *name, const char *data, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fputs(data, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

int main(void)
{
    idset_t s;
    char err[512];

    CHECK(mkdtemp(dir) != NULL);
    const char *p = put("ok", "# revoked\n cam-2\t\r\ncam-1\n\n#cam-3\ncam-2\na.b_C", 0600);
    CHECK(idset_load(p, &s, err, sizeof err) == 0, "%s", err);
    CHECK(s.n == 3, "%zu ids (duplicates dropped)", s.n);
    CHECK(idset_has(&s, "cam-1") && idset_has(&s, "cam-2") && idset_has(&s, "a.b_C"));
    CHECK(!idset_has(&s, "cam-3") && !idset_has(&s, "cam") && !idset_has(&s, "CAM-1"));
    CHECK(!idset_has(&s, "# revoked") && !idset_has(&s, ""));
    idset_free(&s);
    CHECK(s.n == 0 && s.ids == NULL && !idset_has(&s, "cam-1"));

    CHECK(idset_load(put("empty", "# none yet\n", 0600), &s, err, sizeof err) == 0, "%s", err);
    CHECK(s.n == 0 && !idset_has(&s, "x"));
    idset_free(&s);

    p = put("bad", "cam-1\nnot an id\n", 0600);
    CHECK(idset_load(p, &s, err, sizeof err) == -1 && s.n == 0);
    CHECK(strstr(err, "/bad:2: not a camera id") != NULL, "%s", err);
    p = put("long", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 0600);
    CHECK(idset_load(p, &s, err, sizeof err) == -1 && strstr(err, ":1:") != NULL, "%s", err);
    /* Not a secret: readable by all is fine, writable by others is not. */
    p = put("open", "cam-1\n", 0644);
    CHECK(idset_load(p, &s, err, sizeof err) == 0 && idset_has(&s, "cam-1"), "%s", err);
    idset_free(&s);
    p = put("group", "cam-1\n", 0664);
    CHECK(idset_load(p, &s, err, sizeof err) == 0 && s.n == 1, "%s", err);
    idset_t t;
    CHECK(idset_load(put("open", "# again\ncam-1\n", 0640), &t, err, sizeof err) == 0);
    CHECK(idset_equal(&s, &t));
    idset_free(&t);
    CHECK(idset_load(put("empty", "", 0600), &t, err, sizeof err) == 0 && !idset_equal(&s, &t));
    idset_free(&s);
    p = put("world", "cam-1\n", 0666);
    CHECK(idset_load(p, &s, err, sizeof err) == -1 && s.n == 0);
    CHECK(strstr(err, "/world: mode 0666 lets anyone write it; chmod o-w it") != NULL, "%s", err);
    /* No file: nobody listed (the unit names the file before it exists). */
    CHECK(idset_load("/nonexistent/x", &s, err, sizeof err) == IDSET_ABSENT && s.n == 0);
    CHECK(idset_load(dir, &s, err, sizeof err) == -1 && strstr(err, "not a regular file"), "%s",
          err);

    const char *names[] = {"ok", "empty", "bad", "long", "open", "group", "world"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return check_report();
}
