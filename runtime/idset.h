/* A set of camera ids read from a file (--camera-revoked-file): one id a
 * line, blanks around it trimmed, empty lines and lines starting with `#`
 * ignored. The file follows the credentials files' rules (auth.h). */
#ifndef IDSET_H
#define IDSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct idset {
    char **ids; /* sorted, no duplicates */
    size_t n;
} idset_t;

/** Reads `path` into *s (an empty file is an empty set). Returns 0, or -1
 * with one line in err ("FILE:LINE: not a camera id ..."); *s is then
 * empty. Free with idset_free. */
int idset_load(const char *path, idset_t *s, char *err, size_t errlen);
bool idset_has(const idset_t *s, const char *id);
void idset_free(idset_t *s);

#endif
