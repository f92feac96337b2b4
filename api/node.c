/* This process's name in a deployment of several (--node). It tags each
 * /cameras entry, so the front door's merged list says which process holds
 * a camera, and it begins every request id, so the front door can send an
 * upload to the process that woke its camera whatever the hash ring says by
 * then (docs/DEPLOY.md). Also parses --node and --rebalance-spread for main. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "process.h"
#include "opts.h"

bool node_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int node_parse(int c, const char *s, char *err, size_t n)
{
    if (c == O_SPREAD) {
        api_conf.rebalance_set = true;
        return opts_duration("--rebalance-spread", s, true, 3600000, &api_conf.rebalance_ms, err,
                             n);
    }
    if (c != O_NODE)
        return 1;
    if (!node_valid(s)) {
        snprintf(err, n, "--node: expected 1-32 letters, digits, '_' or '-', got '%s'", s);
        return -1;
    }
    api_conf.node = s;
    return 0;
}
