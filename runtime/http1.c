/* The parts of runtime/http1.h that read no input: field lookup in a parsed
 * head and the body's remaining length. The machine is gen/http1.c (from
 * spec/http1.rl and spec/http1_act.rl). */
#include <string.h>

#include "http1.h"

static int http1_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

const char *http1_field(const http1_head_t *h, const char *base, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < h->nfields; i++) {
        const char *f = base + h->fields[i].name.off;
        size_t k = 0;
        if (h->fields[i].name.len != n)
            continue;
        while (k < n && http1_lower((unsigned char)f[k]) == http1_lower((unsigned char)name[k]))
            k++;
        if (k == n) {
            *len = h->fields[i].value.len;
            return base + h->fields[i].value.off;
        }
    }
    return NULL;
}

uint64_t http1_body_left(const http1_parser_t *p)
{
    return p->head.chunked ? UINT64_MAX : p->left;
}
