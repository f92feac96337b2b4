/* Sets of camera ids from a file, looked up by binary search: a lookup
 * runs on every camera request, a load only at start and on reload. */
#include "idset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "query.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

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

int idset_load(const char *path, idset_t *s, char *err, size_t errlen)
{
    size_t len, lineno = 0;
    char *data = auth_read_private(path, &len, err, errlen);
    *s = (idset_t){0};
    if (data == NULL)
        return -1;
    for (const char *p = data, *end = data + len; p < end; p++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *q;
        if (eol == NULL)
            eol = end;
        lineno++;
        for (; p < eol && is_blank(*p); p++)
            ;
        for (q = eol; q > p && is_blank(q[-1]); q--)
            ;
        if (q > p && *p != '#') {
            if (!query_valid_id(p, (size_t)(q - p))) {
                snprintf(err, errlen, "%s:%zu: not a camera id ([A-Za-z0-9._-]{1,64})", path,
                         lineno);
                free(data);
                idset_free(s);
                return -1;
            }
            add(s, p, (size_t)(q - p));
        }
        p = eol;
    }
    free(data);
    finish(s);
    return 0;
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
