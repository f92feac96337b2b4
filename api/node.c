/* This process's name in a deployment of several (--node). It tags each
 * /cameras entry, so the front door's merged list says which process holds
 * a camera, and it begins every request id, so the front door can send an
 * upload to the process that woke its camera whatever the hash ring says by
 * then (docs/DEPLOY.md). */
#include <string.h>

#include "api.h"

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
