"""Integration tests for the camera against the fake server (camfake.py),
from reviews: token files, closed std fds, userinfo kept out of the log,
back-off resets and timeouts, a clock that moves between two reads, a slow
DNS resolver, the 64 KiB line cut, the --max-body cut and a full ring.
"""
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from camfake import DEBUG, FakeServer, exit_fast, feed, fresh, retries, run_camera  # noqa: E402
from harness import Camera, wait_until  # noqa: E402


# --- review fixes (fake server) ----------------------------------------------------

def test_token_file_private_and_trimmed():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "token")
        with open(path, "wb") as f:
            f.write(b"from-a-file.token\r\n")
        os.chmod(path, 0o600)
        with FakeServer() as fake, Camera(fake.url, "--token-file", path) as cam:
            fake.wait_poll()
            assert fake.polls[0][3].get("authorization") == "Bearer from-a-file.token"
            q, hdrs, _, _ = fake.fetch({"request_id": "t"})
            assert hdrs.get("authorization") == "Bearer from-a-file.token", hdrs
            with open("/proc/%d/cmdline" % cam.p.pid, "rb") as f:
                assert b"from-a-file" not in f.read()  # not in ps
            assert "from-a-file" not in cam.stderr
            exit_fast(cam)
        os.chmod(path, 0o640)
        rc, lines = run_camera(["--token-file", path])
        assert rc == 1 and len(lines) == 1 and "chmod 600" in lines[0], (rc, lines)
        bad = os.path.join(d, "bad")
        with open(bad, "wb") as f:
            f.write(b"two words\n")
        os.chmod(bad, 0o600)
        for p_ in (bad, os.path.join(d, "missing"), d):
            rc, lines = run_camera(["--token-file", p_])
            assert rc == 1 and len(lines) == 1, (p_, rc, lines)


def test_closed_std_fds_become_dev_null():
    """Started with fds 0-2 closed, the camera must not hand them to sockets
    or its signal pipe (a log line written into an HTTP connection)."""
    with FakeServer() as fake:
        cam = harness.Proc(["sh", "-c", 'exec "$0" "$@" <&- >&- 2>&-',
                            os.path.join(harness.BIN, "camera"), "--server", fake.url,
                            "--interval", "0.01"])
        try:
            fake.wait_poll()
            fds = [os.readlink("/proc/%d/fd/%d" % (cam.p.pid, fd)) for fd in range(3)]
            assert fds == ["/dev/null"] * 3, fds
            wait_until(lambda: len(fake.fetch({"request_id": fresh("f")})[2]) >= 2, 5, "events")
            exit_fast(cam)
        finally:
            cam.kill()


def test_server_userinfo_not_logged():
    with FakeServer() as fake:
        url = fake.url.replace("http://", "http://user:pw-s3cret@")
        with Camera(url) as cam:
            fake.wait_poll()
            wait_until(lambda: "server=" in cam.stderr, 5, "start line")
            assert "pw-s3cret" not in cam.stderr and "http://***@127.0.0.1" in cam.stderr
            exit_fast(cam)


def test_healthy_client_timeout_resets_backoff():
    with FakeServer(poll_status=409) as fake, \
            Camera(fake.url, "--poll-timeout", "0.3", *DEBUG) as cam:
        def delays():
            return [float(x) for x in re.findall(r"retry in ([0-9.]+)s", cam.stderr)]
        wait_until(lambda: len(delays()) >= 3, 10, "three backoffs")  # base now 2 s
        with fake.cv:
            fake.poll_status = None  # held: ends in the camera's own timeout
        wait_until(lambda: "client timeout" in cam.stderr, 10, "a healthy client timeout")
        with fake.cv:
            fake.poll_status = 409
        wait_until(lambda: len(delays()) >= 4, 10, "the next backoff")
        d = delays()
        assert d[2] >= 1 and d[3] <= 0.5, d  # back to the first step, not 2-4 s
        exit_fast(cam)


class SilentServer:
    """Accepts TCP connections and never says a byte: an https camera is
    stuck in its TLS handshake, before any request goes out."""

    def __init__(self):
        self.lsock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.conns.append(self.lsock.accept()[0])
            except OSError:
                return

    def close(self):
        self.lsock.close()
        for c in self.conns:
            c.close()


def test_timeout_before_request_sent_backs_off():
    srv = SilentServer()
    try:
        with Camera("https://127.0.0.1:%d" % srv.port, "--poll-timeout", "0.3", *DEBUG) as cam:
            wait_until(lambda: len(re.findall(r"retry in", cam.stderr)) >= 3, 10, "3 backoffs")
            delays = [float(x) for x in re.findall(r"retry in ([0-9.]+)s", cam.stderr)]
            assert 0.25 <= delays[0] <= 0.5 and 0.5 <= delays[1] <= 1, delays
            assert "before the request was sent" in cam.stderr, cam.stderr
            assert "client timeout" not in cam.stderr, cam.stderr
            assert len(srv.conns) <= 4, len(srv.conns)  # no re-poll at once
            exit_fast(cam)
    finally:
        srv.close()


SLOW_DNS_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* getaddrinfo that takes 10 s for slow.test: a resolver that hangs. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
        (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))
            dlsym(RTLD_NEXT, "getaddrinfo");
    if (node && strcmp(node, "slow.test") == 0) {
        const char *mark = getenv("SLOW_DNS_MARK");
        int fd = mark ? open(mark, O_WRONLY | O_CREAT, 0600) : -1;
        if (fd >= 0)
            close(fd);
        sleep(10);
        return EAI_NONAME;
    }
    return real(node, service, hints, res);
}
"""


def test_sigterm_during_dns_resolution_exits_promptly():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        mark = os.path.join(d, "mark")
        argv = [os.path.join(harness.BIN, "camera"), "--server", "http://slow.test:8080"]
        cam = harness.preloaded(d, SLOW_DNS_C, lambda: harness.Proc(argv), SLOW_DNS_MARK=mark)
        try:
            if not wait_until_or_none(lambda: os.path.exists(mark), 10):
                # e.g. a static sanitizer runtime answers getaddrinfo before the shim
                if harness.sanitized():
                    raise harness.Skip("the resolver shim is not called under ASan")
                raise AssertionError("the resolver shim was not called: %s" % cam.stderr)
            exit_fast(cam)
        finally:
            cam.kill()


SKEW_CLOCK_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
/* Every CLOCK_MONOTONIC read is 0.5 ms later than the one before it (on top
 * of the real clock): as if the process were preempted between any two. */
int clock_gettime(clockid_t c, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    static long long extra;
    if (!real) {
        const char *mark = getenv("SKEW_MARK");
        int fd = mark ? open(mark, O_WRONLY | O_CREAT, 0600) : -1;
        if (fd >= 0)
            close(fd);
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    }
    int r = real(c, ts);
    if (r == 0 && c == CLOCK_MONOTONIC) {
        long long ns = ts->tv_nsec + (extra += 500000);
        ts->tv_sec += ns / 1000000000;
        ts->tv_nsec = ns % 1000000000;
    }
    return r;
}
"""


def test_refused_polls_never_count_as_held_however_the_clock_reads_fall():
    """Polls refused at once are not held ones, even when the clock moves
    between the loop's read and the poll's start (a shim puts 0.5 ms between
    any two reads): the back-off takes the schedule's steps in order and the
    camera never says "connected again". Before, the loop's older reading
    made such a poll look held for 1 s, which reset the back-off (a CI
    failure of test_409_on_poll_backs_off_and_204_repolls_at_once)."""
    import tempfile
    with tempfile.TemporaryDirectory() as d, FakeServer(poll_status=409) as fake:
        mark = os.path.join(d, "mark")
        with harness.preloaded(d, SKEW_CLOCK_C, lambda: Camera(fake.url, *DEBUG),
                               SKEW_MARK=mark) as cam:
            fake.wait_poll(4, timeout=20)  # three back-offs: 0.25-0.5, 0.5-1, 1-2 s
            if not os.path.exists(mark):  # e.g. a static sanitizer runtime's clock_gettime
                if harness.sanitized():
                    raise harness.Skip("the clock shim is not called under ASan")
                raise AssertionError("the clock shim was not called: %s" % cam.stderr)
            wait_until(lambda: len(retries(cam)) >= 3, 5, "three backoffs logged")
            delays = retries(cam)[:3]
            steps = [(0.25, 0.5), (0.5, 1), (1, 2)]
            assert all(lo <= d <= hi for d, (lo, hi) in zip(delays, steps)), delays
            assert "connected again" not in cam.stderr, cam.stderr
            exit_fast(cam)


def wait_until_or_none(pred, timeout):
    try:
        return wait_until(pred, timeout, "condition")
    except AssertionError:
        return None


def test_keep_cut_does_not_split_a_character():
    """The 64 KiB keep-cut falls inside a two-byte character: the line is
    truncated, but the camera must not call its input invalid UTF-8."""
    with FakeServer() as fake, \
            Camera(fake.url, "--source", "stdin", stdin=True) as cam:
        for pre in (65535, 65534):  # C3 | A9 and E2 82 | AC at the cut
            ch = "\u00e9" if pre == 65535 else "\u20ac"
            cam.p.stdin.write(("x" * pre + ch + "tail\n").encode())
        cam.p.stdin.write("ok \u00e9\n".encode())
        cam.p.stdin.flush()
        wait_until(lambda: len(fake.fetch()[2]) == 3, 5, "three events")
        _, _, recs, _ = fake.fetch({"request_id": "k"})
        d = [r["description"] for r in recs]
        assert set(d[0]) == {"x"} and set(d[1]) == {"x"} and d[2] == "ok \u00e9", d[2]
        # a warning for a line is logged before its "truncated" line
        wait_until(lambda: cam.stderr.count("truncated") == 2, 5, "two truncations logged")
        assert "invalid UTF-8" not in cam.stderr, cam.stderr
        exit_fast(cam)


def test_max_body_sends_newest_that_fit():
    with FakeServer() as fake, \
            Camera(fake.url, "--source", "stdin", "--max-body", "4096", stdin=True) as cam:
        feed(cam, ["event %03d %s" % (i, "p" * 40) for i in range(200)])
        def newest_is(i):
            recs = fake.fetch({"request_id": fresh("n"), "limit": 1})[2]
            return recs and recs[0]["description"].startswith("event %03d" % i)
        wait_until(lambda: newest_is(199), 5, "all lines read")
        with fake.cv:
            n = len(fake.uploads)
        q, _, recs, eol = fake.fetch({"request_id": "all"})
        body = fake.uploads[n][4]
        assert len(body) <= 4096 and len(body) > 4096 - 150, len(body)
        got = [int(r["description"].split()[1]) for r in recs]
        assert got == list(range(200 - len(got), 200)), got  # the newest, oldest first
        wait_until(lambda: "fit --max-body 4096" in cam.stderr, 5, "log line")
        # what the filter selects is still what is sent, when it fits
        _, _, five, _ = fake.fetch({"request_id": "l", "limit": 5})
        assert [r["description"] for r in five] == [r["description"] for r in recs[-5:]]
        _, _, later, _ = fake.fetch({"request_id": "s", "since": recs[-3]["timestamp"]})
        assert later == recs[-2:], later
        exit_fast(cam)


def test_full_big_ring_fetch_stays_responsive():
    """1,000,000 retained events: a fetch of all of them sends the newest that
    fit --max-body, and a signal right after the next wake-up still stops the
    camera cleanly (within the signal limit)."""
    n = 1000000
    with FakeServer() as fake, \
            Camera(fake.url, "--source", "stdin", "--retain", str(n), stdin=True) as cam:
        fake.wait_poll()
        chunk = "".join("e%07d\n" % i for i in range(n)).encode()
        cam.p.stdin.write(chunk)
        cam.p.stdin.flush()
        def newest():
            recs = fake.fetch({"request_id": fresh("q"), "limit": 1}, timeout=30)[2]
            return recs and recs[0]["description"] == "e%07d" % (n - 1)
        wait_until(newest, 60, "a million lines read")
        t0 = time.monotonic()
        _, _, recs, _ = fake.fetch({"request_id": "big"}, timeout=30)
        dt = time.monotonic() - t0
        print("  fetch of all (%d of %d records fit 16 MiB): %.2fs" % (len(recs), n, dt))
        assert recs[-1]["description"] == "e%07d" % (n - 1) and len(recs) > 100000
        fake.wake(200, b'{"request_id":"last"}')  # taken by the next poll
        wait_until(lambda: "request_id=last" in cam.stderr, 5, "the wake-up")
        dt = exit_fast(cam)
        print("  exit after a wake-up for all: %.3fs" % dt)


if __name__ == "__main__":
    harness.run(globals())
