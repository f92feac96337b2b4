/* The operator page (web/), built into the binary (docs/WEB.md). The table
 * of assets is generated at build time by cmake/web_assets.cmake into the
 * build tree; web.c serves it. */
#ifndef API_WEB_H
#define API_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

typedef struct web_asset {
    const char *path;  /* "/" or "/ui/<version>/<name>" */
    const char *ctype; /* Content-Type */
    const char *etag;  /* strong, quoted: a hash of `data` */
    const unsigned char *data;
    size_t len;
    bool immutable; /* versioned path: cacheable for good */
} web_asset_t;

extern const web_asset_t web_assets[];
extern const size_t web_nassets;

/** Serves the page and its assets: `/` and `/ui/...` (GET and HEAD; other
 * methods 405). Returns 0 when it answered, -1 when the path is not one of
 * the page's (the caller answers 404). */
int web_serve(h2o_req_t *req);
/** True when `path` is one of the page's (for refusals made before h2o). */
bool web_has(const char *path, size_t len);

#endif
