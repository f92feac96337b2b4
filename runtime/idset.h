/* A set of camera ids read from a file (--camera-revoked-file): one id a
 * line, blanks around it trimmed, empty lines and lines starting with `#`
 * ignored. Not a secret: any mode that others cannot write (auth.h's
 * auth_read_shared); a file that does not exist lists nobody. */
#ifndef IDSET_H
#define IDSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct idset {
    char **ids; /* sorted, no duplicates */
    size_t n;
} idset_t;

#define IDSET_ABSENT 1

/** Reads `path` into *s (an empty file is an empty set). Returns 0;
 * IDSET_ABSENT when there is no such file (*s empty: nobody listed); or -1
 * with one line in err ("FILE:LINE: not a camera id ...", "FILE: mode 0666
 * lets anyone write it ..."), *s then empty. Free with idset_free. */
int idset_load(const char *path, idset_t *s, char *err, size_t errlen);
/** True when both hold the same ids. */
bool idset_equal(const idset_t *a, const idset_t *b);
bool idset_has(const idset_t *s, const char *id);
void idset_free(idset_t *s);

#endif
