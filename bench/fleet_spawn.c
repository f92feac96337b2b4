/* What every bench program needs around the api under test: starting it on
 * a free loopback port (dying with the bench) and the machine's load. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

#include "fleet.h"

int fh_parse_addr(const char *s, struct sockaddr_in *dst)
{
    char host[64];
    unsigned port;
    if (sscanf(s, "%63[^:]:%u", host, &port) != 2 || port > 65535 ||
        inet_pton(AF_INET, host, &dst->sin_addr) != 1)
        return -1;
    dst->sin_family = AF_INET;
    dst->sin_port = htons((uint16_t)port);
    return 0;
}

pid_t fh_spawn_api(const char *api, const char *const *args, int nargs, struct sockaddr_in *dst)
{
    int pfd[2];
    if (nargs > 60 || pipe(pfd) != 0)
        return -1;
    const char *argv[64] = {api, "--listen", "127.0.0.1:0", "--quiet"};
    for (int i = 0; i < nargs; i++)
        argv[4 + i] = args[i];
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the bench */
        dup2(pfd[1], 1);
        close(pfd[0]);
        execv(api, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    char line[128] = "";
    FILE *f = fdopen(pfd[0], "r");
    /* (a wrapper such as heaptrack may print lines of its own first) */
    while (fgets(line, sizeof(line), f) != NULL && strncmp(line, "listening on ", 13) != 0)
        ;
    /* f stays open: the api's stdout must not become a broken pipe. */
    line[strcspn(line, "\n")] = 0;
    if (pid < 0 || strncmp(line, "listening on ", 13) != 0 || fh_parse_addr(line + 13, dst) != 0)
        return -1;
    return pid;
}

void fh_loadavg(char *out, size_t cap)
{
    snprintf(out, cap, "?");
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL && fgets(out, (int)cap, f) != NULL)
        out[strcspn(out, "\n")] = 0;
    if (f != NULL)
        fclose(f);
}
