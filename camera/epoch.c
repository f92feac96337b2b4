/* The epoch: the name of a camera's history of numbered events (PROTOCOL.md
 * "Event numbers and cursors"; docs/CAMERA.md "Event numbers"). 64 random
 * bits from the kernel, as 16 lower-case hex digits: [A-Za-z0-9._-] as the
 * contract asks, and two histories never share a name in practice. */
#include "camera.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* n random bytes: getrandom, else /dev/urandom. Returns 0 or -1 (errno). */
static int random_bytes(unsigned char *b, size_t n)
{
    ssize_t got = getrandom(b, n, 0);
    if (got == (ssize_t)n)
        return 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    got = read(fd, b, n);
    close(fd);
    if (got != (ssize_t)n) {
        errno = got < 0 ? errno : EIO;
        return -1;
    }
    return 0;
}

int epoch_random(char out[EPOCH_LEN + 1], char *err, size_t errlen)
{
    unsigned char b[EPOCH_LEN / 2];
    static const char hex[] = "0123456789abcdef";

    if (random_bytes(b, sizeof b) != 0) {
        snprintf(err, errlen, "no random bytes for the epoch: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof b; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[EPOCH_LEN] = '\0';
    return 0;
}
