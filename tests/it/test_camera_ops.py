"""Integration tests for the camera in operation: upload retries, the
request-rate floor and TCP keep-alive (issues 12 and 13, camera side; its
log lines, --version and --help are test_camera_log.py's).

The fake server is camfake.py's; the real api is used where the point
is the two programs together (a resetting proxy, the api's own refusals).
"""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, get_json, wait_until  # noqa: E402
from camfake import DEBUG, FakeServer, Proxy, exit_fast, feed, lines_with, parse_eol  # noqa: E402


def upload_rids(fake):
    with fake.cv:
        return [u[2].get("request_id") for u in fake.uploads]


# --- upload retry -------------------------------------------------------------

class ResetProxy(Proxy):
    """TCP proxy to `port` that resets the first `resets` /send-stats
    requests: it accepts the upload's connection and resets it (RST, no
    byte forwarded), so the api never sees those attempts."""

    def __init__(self, port, resets=2):
        self.resets_left = resets
        self.reset = 0
        self.forwarded = 0
        self.lock = threading.Lock()
        self.listen(port)

    def _should_reset(self, b):
        if not b.startswith(b"POST /send-stats"):
            return False
        with self.lock:
            if self.resets_left == 0:
                self.forwarded += 1
                return False
            self.resets_left -= 1
            self.reset += 1
            return True

    def _pump(self, src, dst, from_camera):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if from_camera and self._should_reset(b):
                    src.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):  # one side gone: so is the other
            try:
                s.close()
            except OSError:
                pass



def test_retry_through_resetting_proxy_with_real_api():
    """The first two uploads are reset before the api sees them: the
    camera's retries (same request_id) answer the operator within seconds,
    long before the fetch's 20 s timeout. The api's own resend of a lost
    wake-up waits a --connect-grace, here 10 s: what comes sooner is the
    camera's doing."""
    with Api("--connect-grace", "10") as api:
        proxy = ResetProxy(api.port, resets=2)
        try:
            with Camera(proxy.url, "--id", "rc", "--source", "stdin", *DEBUG, stdin=True) as cam:
                events = ["event %d" % i for i in range(5)]
                feed(cam, events)
                wait_until(lambda: "starting" in cam.stderr, 5, "the start line")
                harness.wait_metric(api, "camlogs_polls_held", 1, timeout=10)
                t0 = time.monotonic()
                status, recs = get_json(api.url + "/logs?camera=rc&timeout=20", timeout=30)
                dt = time.monotonic() - t0
                print("  /logs after two resets: %d in %.2fs" % (status, dt))
                assert status == 200, (status, recs, cam.stderr)
                assert [r["description"] for r in recs] == events, recs
                assert dt < 8, dt  # retries 0.25-0.5 s then 0.5-1 s; the timeout is 20 s
                assert proxy.reset == 2 and proxy.forwarded == 1, (proxy.reset, proxy.forwarded)
                rid = re.search(r"poll: 200 request_id=(\S+)", cam.stderr).group(1)
                # curl itself retries once when a reused connection dies before
                # any answer, so two resets cost the camera one or two retries
                done = wait_until(lambda: lines_with(cam, "request_id=%s: 200, 5 records" % rid),
                                  5, "the upload's 200")[0]
                backoffs = lines_with(cam, "upload request_id=%s: Recv failure" % rid)
                assert 1 <= len(backoffs) <= 2 and all("retry in" in b for b in backoffs), backoffs
                assert "(attempt %d)" % (len(backoffs) + 1) in done, (done, backoffs)
                exit_fast(cam)
        finally:
            proxy.close()


def test_5xx_retried_with_same_request_id_and_body():
    with FakeServer() as fake, \
            Camera(fake.url, "--source", "stdin", stdin=True) as cam:
        feed(cam, ["one", "two"])
        wait_until(lambda: len(fake.fetch()[2]) == 2, 5, "two events")
        with fake.cv:
            n = len(fake.uploads)
            fake.upload_statuses = [503, 500]
        fake.wake(200, b'{"request_id":"r5","camera":"default"}')
        fake.wait_upload(n + 3, timeout=15)
        with fake.cv:
            ups = fake.uploads[n:n + 3]
        assert [u[2].get("request_id") for u in ups] == ["r5"] * 3, [u[2] for u in ups]
        assert ups[0][4] == ups[1][4] == ups[2][4], "a retry must send the same body"
        assert [r["description"] for r in parse_eol(ups[2][4])[0]] == ["one", "two"]
        gaps = [b[0] - a[0] for a, b in zip(ups, ups[1:])]
        assert 0.2 <= gaps[0] and 0.45 <= gaps[1], gaps  # 0.25-0.5 s, then 0.5-1 s
        wait_until(lambda: "request_id=r5: 200, 2 records (attempt 3)" in cam.stderr, 5,
                   "the answer after two retries")
        exit_fast(cam)


def test_refusals_are_not_retried():
    """409, 400, 401 and 413 end the upload at once. A retry would come
    0.25-0.5 s after the refusal: each case watches 1.5 s for it."""
    for status in (409, 400, 401, 413):
        with FakeServer(upload_status=status) as fake, \
                Camera(fake.url, "--source", "stdin", stdin=True) as cam:
            feed(cam, ["kept"])
            fake.upload_body = b'{"error":"refused on purpose"}'
            fake.wake(200, b'{"request_id":"nr%d"}' % status)
            fake.wait_upload(1)
            wait_until(lambda: "dropped, events kept (1 attempt)" in cam.stderr, 5,
                       "the drop line for %d" % status)
            time.sleep(1.5)  # the window a retry would fall into
            assert upload_rids(fake) == ["nr%d" % status], (status, upload_rids(fake))
            line = lines_with(cam, "request_id=nr%d" % status)[-1]
            assert "status %d" % status in line and 'error="refused on purpose"' in line, line
            # the events are still there for the next fetch
            fake.upload_status = 200
            _, _, recs, _ = fake.fetch({"request_id": "after"})
            assert [r["description"] for r in recs] == ["kept"], (status, recs)
            exit_fast(cam)


def test_duplicate_wakeup_ignored_and_newer_one_supersedes():
    with FakeServer() as fake, Camera(fake.url, *DEBUG) as cam:
        fake.wait_poll()
        with fake.cv:
            fake.upload_statuses = [503, 503, 503]
        fake.upload_gate.clear()  # the first attempt stays in flight
        fake.wake(200, b'{"request_id":"dup"}')
        fake.wait_upload(1)
        fake.wait_poll(2)
        fake.wake(200, b'{"request_id":"dup"}')  # the api resending its wake-up
        wait_until(lambda: "request_id=dup: woken again while answering it; ignored"
                   in cam.stderr, 5, "the duplicate ignored")
        assert upload_rids(fake) == ["dup"], upload_rids(fake)
        fake.upload_gate.set()  # three 503s: dup backs off 0.25-0.5, 0.5-1, then 1-2 s
        wait_until(lambda: len(lines_with(cam, "request_id=dup: status 503; retry in")) == 3,
                   10, "the third back-off")
        fake.wake(200, b'{"request_id":"new"}')  # a new fetch: dup is over for the api
        wait_until(lambda: "request_id=new: 200" in cam.stderr, 5, "the new upload")
        wait_until(lambda: "request_id=dup: superseded by a newer wake-up; given up, events kept"
                   " (3 attempts)" in cam.stderr, 5, "dup given up")
        time.sleep(2.5)  # dup's next attempt was due within 2 s of its third back-off
        assert upload_rids(fake) == ["dup"] * 3 + ["new"], upload_rids(fake)
        exit_fast(cam)


# --- request-rate floor ----------------------------------------------------------

def count_over(fake, seconds):
    """Polls and uploads that arrived during the next `seconds` s."""
    with fake.cv:
        p0, u0 = len(fake.polls), len(fake.uploads)
    time.sleep(seconds)  # measuring a rate: the window is the point
    with fake.cv:
        return len(fake.polls) - p0, len(fake.uploads) - u0


# The floor is 200-250 ms from one poll's start to the next: at most one
# poll per 200 ms, so 15 in 3 s, plus one for the window's edge.
RATE_MAX_3S = 16


def test_rate_floor_against_instant_204():
    with FakeServer(poll_status=204) as fake, Camera(fake.url) as cam:
        fake.wait_poll()
        polls, _ = count_over(fake, 3)
        print("  instant 204: %d polls in 3 s" % polls)
        assert 3 <= polls <= RATE_MAX_3S, polls  # still polling at once, but not a busy loop
        exit_fast(cam)


def test_rate_floor_against_instant_empty_200():
    with FakeServer(poll_status=200) as fake, Camera(fake.url) as cam:
        fake.wait_upload()
        polls, uploads = count_over(fake, 3)
        print("  instant empty 200: %d polls, %d uploads in 3 s" % (polls, uploads))
        assert 3 <= polls <= RATE_MAX_3S and uploads <= RATE_MAX_3S, (polls, uploads)
        exit_fast(cam)


def test_rate_floor_against_instant_wakeups():
    """A broken api answering every poll at once with a new wake-up: the poll
    after a 200 that started an upload may take the floor's next slot early
    (a first follower's follow fetch, docs/CAMERA.md), never two in a row,
    so the rate stays the floor's: one early poll more in the window at
    most."""
    with FakeServer(poll_status=200) as fake, Camera(fake.url, *DEBUG) as cam:
        fake.poll_body = lambda n: json.dumps({"request_id": "w%d" % n}).encode()
        fake.wait_upload()
        polls, uploads = count_over(fake, 3)
        print("  instant new wake-ups: %d polls, %d uploads in 3 s" % (polls, uploads))
        assert 3 <= polls <= RATE_MAX_3S + 1 and uploads <= RATE_MAX_3S + 1, (polls, uploads)
        kinds = [("early" if "slot taken early" in line else "200")
                 for line in cam.err_lines if "slot taken early" in line or "poll: 200" in line]
        assert kinds.count("early") >= 2, kinds  # the early poll is taken
        pairs = list(zip(kinds, kinds[1:], kinds[2:], kinds[3:]))
        assert ("200", "early", "200", "early") not in pairs, kinds  # but never twice in a row
        exit_fast(cam)


# --- TCP keep-alive ------------------------------------------------------------------

def ss_line(pid, port):
    """`ss -tio` for the camera's established connection to `port`."""
    out = subprocess.run(["ss", "-tiopH", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True, timeout=10).stdout
    entries = re.split(r"\n(?=\S)", out.strip())
    mine = [e for e in entries if "pid=%d," % pid in e]
    return mine[0] if mine else None


def sockopts(pid, port):
    """The camera's own socket options on that connection (pidfd_getfd), or
    None where the kernel does not let us copy the descriptor."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        pfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            n = libc.syscall(438, pfd, int(fd), 0)  # pidfd_getfd
            if n < 0:
                return None
            try:
                s = socket.socket(fileno=n)
            except OSError:  # not a socket
                os.close(n)
                continue
            try:
                if s.type == socket.SOCK_STREAM and s.family == socket.AF_INET and \
                        s.getpeername()[1] == port:
                    g = s.getsockopt
                    return (g(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                            g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                            g(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                            g(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                            g(socket.IPPROTO_TCP, 18))  # TCP_USER_TIMEOUT
            except OSError:
                pass
            finally:
                s.close()  # our copy only
    finally:
        os.close(pfd)
    return None


def ss_seconds(timer):
    """ss's timer text in seconds: "29sec", "5.992ms" (5 s 992 ms), "1min3sec"."""
    m = re.fullmatch(r"(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?", timer)
    assert m and timer, timer
    mins, secs, ms = (int(g) if g else 0 for g in m.groups())
    return mins * 60 + secs + ms / 1000


def test_keepalive_on_the_live_poll_socket():
    for args, idle, opts in (((), 30, (1, 30, 10, 9, 120000)),
                             (("--tcp-keepalive", "7,3,4"), 7, (1, 7, 3, 4, 19000)),
                             (("--tcp-keepalive", "7,3,9", "--tcp-user-timeout", "2.5"), 7,
                              (1, 7, 3, 9, 2500))):
        with FakeServer() as fake, Camera(fake.url, *args) as cam:
            fake.wait_poll()  # held: the state a dead path would hide in
            line = wait_until(lambda: ss_line(cam.p.pid, fake.port), 5, "the poll's socket")
            m = re.search(r"timer:\(keepalive,([^,]+),\d+\)", line)
            assert m, line
            left = ss_seconds(m.group(1))
            assert 0 < left <= idle, (left, line)
            got = sockopts(cam.p.pid, fake.port)
            print("  keep-alive %s: ss timer %ss, sockopts %s" % (args or "default", left, got))
            assert got is None or got == opts, got
            exit_fast(cam)
    for off in ("off", "0"):  # "0" as the api's --tcp-keepalive has it
        with FakeServer() as fake, Camera(fake.url, "--tcp-keepalive", off) as cam:
            fake.wait_poll()
            line = wait_until(lambda: ss_line(cam.p.pid, fake.port), 5, "the poll's socket")
            assert "keepalive" not in line, line
            got = sockopts(cam.p.pid, fake.port)
            assert got is None or (got[0], got[4]) == (0, 0), got  # no user timeout either
            exit_fast(cam)


def test_tcp_keepalive_bad_values_exit_2():
    bad = [("--tcp-keepalive", v) for v in ("0,10,9", "30", "30,10", "30,10,0", "30,10,128",
                                            "x", "30,10,9,1", "")]
    bad += [("--tcp-user-timeout", v) for v in ("-1", "x", "3601", "")]
    for flag, v in bad:
        p = harness.Proc([os.path.join(harness.BIN, "camera"), flag, v])
        assert p.wait(5) == 2, v
        p.join_stderr()
        assert len(p.err_lines) == 1 and flag in p.err_lines[0], (v, p.err_lines)


if __name__ == "__main__":
    harness.run(globals())
