/* The route table: path -> endpoint kind, method, metric. Paths match
 * exactly (the query is not part of them). Both transports look requests up
 * here; it calls nothing. */
#include <string.h>

#include <h2o.h>

#include "routes.h"

static const route_t routes[] = {
    {"/control-channel", "GET", R_CONTROL, M_CONTROL},
    {"/logs", "GET", R_LOGS, M_LOGS},
    {"/send-stats", "POST", R_STATS, M_STATS},
    {"/healthz", "GET", R_STATUS, M_OTHER},
    {"/metrics", "GET", R_STATUS, M_OTHER},
    {"/cameras", "GET", R_STATUS, M_OTHER},
    {"/rebalance", "POST", R_REBALANCE, M_OTHER},
};

const route_t *routes_find(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (h2o_memis(path, len, routes[i].path, strlen(routes[i].path)))
            return &routes[i];
    return NULL;
}
