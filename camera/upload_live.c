/* The request role's follow uploads in the loop (stream.c makes their
 * bodies): resumed when new events are durable, ended on a signal, and
 * watched while paused. A paused HTTP/1.1 upload is not read by curl, so a
 * connection the api closed in a quiet window would go unnoticed until the
 * next write fails (or the window's end): the loop also waits for the
 * socket of each paused stream to turn readable. End of file there is a
 * broken attempt (retried as any failed one, spec/retry.rl); bytes there
 * are the api answering before the body ended, or (https) TLS records
 * such as session tickets: stream_peer_data lets curl read them. */
#include "camera.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "upload_int.h"

bool upload_feed(camera_t *cam, uint64_t now)
{
    bool resumed = false;
    for (struct upload *u = cam->uploads; u; u = u->next)
        if (u->live && u->active && stream_feed(u->live, now))
            resumed = true;
    return resumed;
}

unsigned upload_streams_end(camera_t *cam)
{
    unsigned n = 0;
    for (struct upload *u = cam->uploads; u; u = u->next) {
        if (u->live && u->active) {
            stream_end(u->live, "the camera stops");
            n++;
        }
    }
    return n;
}

unsigned upload_watch(camera_t *cam, struct curl_waitfd *fds, unsigned max)
{
    unsigned n = 0;
    for (struct upload *u = cam->uploads; u && n < max; u = u->next) {
        int fd = u->live && u->active ? stream_watch_fd(u->live) : -1;
        if (fd >= 0)
            fds[n++] = (struct curl_waitfd){.fd = fd, .events = CURL_WAIT_POLLIN};
    }
    return n;
}

/* The api closed the connection of a paused attempt: it failed. */
static void broken(camera_t *cam, struct upload *u)
{
    loop_remove(cam, u->super.easy); /* aborts it */
    snprintf(u->super.errbuf, sizeof(u->super.errbuf),
             "the api closed the connection during a follow upload");
    u->super.on_done(cam, &u->super, CURLE_RECV_ERROR, 0); /* may free u */
}

static void readable(camera_t *cam, int fd)
{
    for (struct upload *u = cam->uploads; u; u = u->next) {
        if (!u->live || !u->active || stream_watch_fd(u->live) != fd)
            continue;
        char b[STREAM_PEEK];
        ssize_t n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
        if (n > 0)
            stream_peer_data(u->live, b, (size_t)n);
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            broken(cam, u);
        return;
    }
}

void upload_watched(camera_t *cam, const struct curl_waitfd *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (fds[i].revents)
            readable(cam, fds[i].fd);
}
