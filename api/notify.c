/* systemd readiness (Type=notify units, deploy/systemd/): "READY=1" to
 * $NOTIFY_SOCKET once the api accepts connections, so that `systemctl start`
 * returns, and ExecStartPost= (the deployment's rebalancing step) runs, only
 * when the front door can reach it. The protocol is one datagram on a unix
 * socket (sd_notify(3)); a path starting with '@' is an abstract socket. No
 * libsystemd: this is all of it. Without $NOTIFY_SOCKET it does nothing. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "process.h"

void notify_ready(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = path != NULL ? strlen(path) : 0;
    if (n < 2 || n >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
        return;
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    static const char msg[] = "READY=1";
    (void)sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
}
