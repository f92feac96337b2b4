"""Integration tests for the camera against a hostile server (issue 20): a
non-200 answer whose body never ends is read no further than 4 KiB, logged
once with its status and the api's reason, closed and backed off, on the
poll and on the upload alike (docs/CAMERA.md, "Replies"). The server is
endless.py's, on raw sockets; the camera is the real one.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from camfake import DEBUG, exit_fast, lines_with, retries  # noqa: E402
from endless import ENDLESS, EndlessServer  # noqa: E402
from harness import Camera, wait_until  # noqa: E402

CUT = "status 500 (reply cut after 4096 bytes)"
STEPS = [(0.25, 0.5), (0.5, 1), (1, 2)]  # the back-off schedule's first delays, s


def check_backed_off(srv, method, path, delays):
    """Each delay is the next step of the schedule and was waited out: the
    next request came no sooner after the one before (load only delays it)."""
    assert all(lo <= d <= hi for d, (lo, hi) in zip(delays, STEPS)), delays
    with srv.cv:
        times = [t for t, m, p in srv.requests if m == method and p.startswith(path)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= d - 0.01 for g, d in zip(gaps, delays)), (gaps, delays)


def test_endless_500_on_the_poll_is_cut_logged_and_backed_off():
    # The default --poll-timeout is 60 s: a camera that read the body to its
    # end (or to that timeout) would not close it within the 10 s below.
    with EndlessServer(lambda m, p: ENDLESS) as srv, Camera(srv.url, *DEBUG) as cam:
        srv.wait("the camera closing the endless body", lambda: srv.closed, 10)
        line = wait_until(lambda: (lines_with(cam, "poll: " + CUT) or [None])[0], 5,
                          "the log line")
        assert line.endswith(" error=overloaded"), line  # the api's reason
        srv.wait("three polls", lambda: len(srv.requests) >= 3, 10)  # 0.25-0.5, 0.5-1 s
        srv.wait("two closed", lambda: len(srv.closed) >= 2, 10)
        wait_until(lambda: len(retries(cam)) >= 2, 5, "two backoffs logged")
        check_backed_off(srv, "GET", "/control-channel", retries(cam)[:2])
        assert len(lines_with(cam, CUT)) >= 2, cam.stderr  # each one said (the repeat at debug)
        assert "connected again" not in cam.stderr, cam.stderr  # a cut answer is no held poll
        exit_fast(cam)


def upload_answer(method, path):
    """The first poll wakes the camera for request r1, later ones are held;
    every upload gets an endless 500."""
    if method == "POST":
        return ENDLESS
    if not getattr(upload_answer, "woken", False):
        upload_answer.woken = True
        body = json.dumps({"request_id": "r1"}).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body)) + body
    return None


def test_endless_500_on_the_upload_is_cut_logged_and_retried():
    with EndlessServer(upload_answer) as srv, Camera(srv.url, *DEBUG) as cam:
        srv.wait("two uploads", lambda: srv.count("POST", "/send-stats") >= 2, 15)
        srv.wait("both closed", lambda: len(srv.closed) >= 2, 10)
        wait_until(lambda: len(retries(cam)) >= 2, 5, "two retries logged")
        lines = lines_with(cam, "upload request_id=r1: " + CUT)
        assert lines and lines[0].endswith(" error=overloaded"), cam.stderr
        check_backed_off(srv, "POST", "/send-stats", retries(cam)[:1])
        assert not re.search(r"poll: status", cam.stderr), cam.stderr  # the poll is held
        exit_fast(cam)


if __name__ == "__main__":
    harness.run(globals())
