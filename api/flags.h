/* The command line (flags.c): flags into api_conf, the files and one-shot
 * modes they name into flags_t. */
#ifndef API_FLAGS_H
#define API_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct flags {
    const char *secret, *tokens, *revoked, *token_for; /* files; --camera-token ID */
    bool help, version;
} flags_t;

/** The --help text. */
extern const char flags_usage[];
/** Reads every flag into api_conf and *ff, then sets logging up
 * (--log-level, --log-format). Returns 0, or -1 with the first bad flag's
 * line in err (a usage error: main exits 2). */
int flags_parse(int argc, char **argv, flags_t *ff, char *err, size_t n);

#endif
