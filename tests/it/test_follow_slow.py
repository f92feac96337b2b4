"""GET /logs?follow=1 with followers that do not keep up (PROTOCOL.md 1.2,
docs/API.md "Follow: slow followers"): one that never reads is cut once more
than 1 MiB of its stream waits and it has taken nothing for a second, while
another follower of the same camera gets every event, in order, on time; a
follower of a camera revoked by a reload ends with `event: end`; many idle
followers cost little memory; over HTTP/2 a follower is refused 505, over
HTTP/1.1 curl -N streams."""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, metric, wait_until  # noqa: E402
from follow_lib import Follower, messages, say, slurp, stdin_camera, until_event  # noqa: E402


def test_slow_follower_cut_others_served():
    with Api("--follow-hold", "10") as api, stdin_camera(api, "s1") as cam:
        say(cam, "start")
        good = Follower(api.port, "camera=s1")
        assert [d for d, _ in messages(good, 1)] == ["start"]
        slow = Follower(api.port, "camera=s1", rcvbuf=4096)  # never reads
        wait_until(lambda: metric(api, "camlogs_followers") == 2, 5, "2 followers")
        n, big = 400, "x" * 30000  # 12 MB: past what the kernel's buffers hold
        t0 = time.monotonic()
        for i in range(n):
            say(cam, "%d %s" % (i, big))
        slurp(good, b"\nid: ", n, timeout=60)
        got = messages(good, n, timeout=60)
        took = time.monotonic() - t0
        assert [int(d.split()[0]) for d, _ in got] == list(range(n))
        seqs = [int(i.split(":")[1]) for _, i in got]
        assert seqs == list(range(2, n + 2)), seqs[:5]
        wait_until(lambda: metric(api, "camlogs_followers") == 1, 10, "the slow follower cut")
        slow.close()  # (draining what the kernel holds through its 4 KiB window takes seconds)
        say(cam, "after")
        assert [d for d, _ in messages(good, 1)] == ["after"]
        print("   %d events of 30 kB to the good follower in %.2f s" % (n, took))


def test_revoked_camera_ends_followers():
    with tempfile.TemporaryDirectory() as d:
        secret = harness.private_file(d, "secret", b"s" * 32)
        revoked = harness.private_file(d, "revoked", b"")
        with Api("--camera-secret-file", secret, "--camera-revoked-file", revoked) as api:
            tok = harness.cam_token(b"s" * 32, "r1")
            cam = stdin_camera(api, "r1", "--token", tok)
            say(cam, "one")
            f = Follower(api.port, "camera=r1")
            assert [d_ for d_, _ in messages(f, 1)] == ["one"]
            with open(revoked, "w") as w:
                w.write("r1\n")
            api.send_signal(signal.SIGHUP)
            end = f.next_event(timeout=10)
            assert end["event"] == "end" and end["json"]["reason"] == "revoked", end
            assert f.next_block() is None
            cam.kill()


def test_idle_followers_are_cheap():
    n = 400
    with Api() as api, stdin_camera(api, "m1") as cam:
        say(cam, "x")
        first = Follower(api.port, "camera=m1")
        messages(first, 1)
        before = harness.rss_kib(api.p.pid)
        fs = [Follower(api.port, "camera=m1") for _ in range(n)]
        for f in fs:
            messages(f, 1)
        wait_until(lambda: metric(api, "camlogs_followers") == n + 1, 10, "followers")
        per = (harness.rss_kib(api.p.pid) - before) / n
        print("   %.2f KiB of api RSS per idle follower (%d)" % (per, n))
        if not harness.sanitized():
            assert per <= 5, per
        say(cam, "y")
        for f in fs[::50]:
            assert [d for d, _ in messages(f, 1)] == ["y"]
        for f in fs:
            f.close()
        wait_until(lambda: metric(api, "camlogs_followers") == 1, 10, "followers gone")


def test_http2_refused_curl_streams():
    with Api("--http2") as api, stdin_camera(api, "h1") as cam:
        say(cam, "one")
        out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", api.url +
                              "/logs?camera=h1&follow=1"], capture_output=True, text=True,
                             timeout=15)
        assert out.returncode == 0, out.stderr
        assert out.stdout == '{"error":"follow=1 is served over HTTP/1.1 only","camera":"h1"}', \
            out.stdout
        c = subprocess.Popen(["curl", "-sSN", api.url + "/logs?camera=h1&follow=1"],
                             stdout=subprocess.PIPE)
        deadline = threading.Timer(10, c.kill)  # the reads below end by then
        deadline.start()
        try:
            lines = []
            while '"description":"one"' not in "".join(lines):  # once the camera is there
                line = c.stdout.readline().decode()
                assert line, "curl ended: %r" % lines
                lines.append(line)
            assert lines[0] == "retry: 2000\n", lines
        finally:
            deadline.cancel()
            c.kill()
            c.wait()


if __name__ == "__main__":
    harness.run(globals())
