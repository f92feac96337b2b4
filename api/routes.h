/* The route table (routes.c): path -> endpoint kind, method, metric. A leaf
 * both transports look paths up in. */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include <stddef.h>

#include "metrics.h"

enum route_kind { R_CONTROL, R_LOGS, R_STATS, R_STATUS, R_REBALANCE };
typedef struct route {
    const char *path, *method;
    enum route_kind kind;
    enum metric_endpoint metric;
} route_t;

/** The route of `path` (without its query), or NULL. */
const route_t *routes_find(const char *path, size_t len);

#endif
