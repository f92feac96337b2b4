/* Sets of camera ids from a file, looked up by binary search: a lookup
 * runs on every camera request, a load only at start and on reload. */
#include "idset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "query.h"

static int cmp_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and drops duplicates. */
static void finish(idset_t *s)
{
    size_t n = 0;
    if (s->n == 0)
        return; /* ids is NULL: qsort may not be given it */
    qsort(s->ids, s->n, sizeof(*s->ids), cmp_ids);
    for (size_t i = 0; i < s->n; i++) {
        if (n > 0 && strcmp(s->ids[n - 1], s->ids[i]) == 0)
            free(s->ids[i]);
        else
            s->ids[n++] = s->ids[i];
    }
    s->n = n;
}

static void add(idset_t *s, const char *id, size_t n)
{
    s->ids = xrealloc(s->ids, (s->n + 1) * sizeof(*s->ids));
    s->ids[s->n++] = xmemdup(id, n);
}

struct id_load {
    idset_t *s;
    const char *path;
    char *err;
    size_t errlen;
};

static int take_id(void *ctx, const char *id, size_t n, size_t lineno)
{
    struct id_load *l = ctx;
    if (!query_valid_id(id, n)) {
        snprintf(l->err, l->errlen, "%s:%zu: not a camera id ([A-Za-z0-9._-]{1,64})", l->path,
                 lineno);
        return -1;
    }
    add(l->s, id, n);
    return 0;
}

int idset_load(const char *path, idset_t *s, char *err, size_t errlen)
{
    size_t len;
    char *data = auth_read_shared(path, &len, err, errlen);
    struct id_load l = {s, path, err, errlen};
    *s = (idset_t){0};
    if (data == NULL)
        return errno == ENOENT ? IDSET_ABSENT : -1;
    int rc = auth_each_line(data, len, take_id, &l);
    free(data);
    if (rc != 0) {
        idset_free(s);
        return -1;
    }
    finish(s);
    return 0;
}

bool idset_equal(const idset_t *a, const idset_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ids[i], b->ids[i]) != 0)
            return false;
    return true;
}

bool idset_has(const idset_t *s, const char *id)
{
    return s->n > 0 && bsearch(&id, s->ids, s->n, sizeof(*s->ids), cmp_ids) != NULL;
}

void idset_free(idset_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    *s = (idset_t){0};
}
