"""Integration tests for the camera against a fake server (camfake.py):
its flags and its behaviour independent of the api. test_camera_e2e.py
runs it end to end against the real api.
"""
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from camfake import DEBUG, FakeServer, exit_fast, feed, fresh, retries, run_camera, seqs  # noqa: E402
from harness import Camera, wait_until  # noqa: E402


# --- flags ----------------------------------------------------------------------

def test_help():
    p = harness.Proc([os.path.join(harness.BIN, "camera"), "--help"])
    assert p.wait(5) == 0
    out = p.p.stdout.read().decode()
    assert "usage: camera" in out and "--poll-timeout" in out, out


def test_bad_flags_exit_2_with_one_line():
    bad = [["--nope"], ["--interval", "abc"], ["--interval", "0"], ["--interval"],
           ["--id", "bad id"], ["--id", "x" * 65], ["--source", "file"], ["--retain", "0"],
           ["--retain", "-1"], ["--server", "ftp://x"], ["--poll-timeout", "0"],
           ["--token", "a b"], ["positional"], ["--retain", "1000001"],
           ["--max-body", "4095"], ["--max-body", "1073741825"], ["--token-file"],
           ["--token", "abc", "--token-file", "/dev/null"]]
    for args in bad:
        rc, lines = run_camera(args)
        assert rc == 2, (args, rc)
        assert len(lines) == 1 and lines[0], (args, lines)


def test_unknown_flag_alone_says_unknown_and_echo_is_escaped():
    rc, lines = run_camera(["--bogus"])
    assert rc == 2 and lines == ["camera: unknown flag --bogus (see --help)"], (rc, lines)
    # what the user typed is echoed, but never a control byte a terminal acts on
    for args in (["--bo\x1b]0;x\x07gus"], ["--interval", "1\x1b[2J"], ["x\ry"]):
        rc, lines = run_camera(args)
        assert rc == 2 and len(lines) == 1, (args, rc, lines)
        assert not re.search(r"[\x00-\x1f\x7f]", lines[0]), (args, lines)
        assert "\\x1b" in lines[0] or "\\x0d" in lines[0], (args, lines)


def test_retain_max_accepted():
    with FakeServer() as fake, Camera(fake.url, "--retain", "1000000") as cam:
        fake.wait_poll()
        wait_until(lambda: "retain=1000000" in cam.stderr, 5, "the start line")
        exit_fast(cam)


def test_unreadable_cacert_exits_1():
    for path in ("/nonexistent/ca.pem", "/tmp", "/dev/null"):
        rc, lines = run_camera(["--cacert", path])
        assert rc == 1, (path, rc)
        assert len(lines) == 1 and path in lines[0], (path, lines)


# --- against the fake server --------------------------------------------------------

def test_old_style_empty_200_uploads_without_request_id():
    with FakeServer() as fake, Camera(fake.url, "--id", "cam1", "--interval", "0.02") as cam:
        def three():
            recs = fake.fetch(None)[2]
            return recs if len(recs) >= 3 else None
        first = wait_until(three, 10, "three events")
        with fake.cv:
            polls, uploads = len(fake.polls), len(fake.uploads)
        fake.upload_gate.clear()  # the next upload gets no reply until released
        q, hdrs, recs, _ = fake.fetch(None)
        assert dict(q, epoch="E", first="F") == {"camera": "cam1", "epoch": "E", "first": "F"}, q
        assert hdrs.get("content-type") == "application/x-ndjson", hdrs
        assert "expect" not in hdrs, hdrs
        assert recs[:len(first)] == first  # the earlier fetch took nothing away
        assert seqs(recs) == list(range(1, len(recs) + 1)), seqs(recs)
        assert dict(fake.polls[0][2], epoch="E") == {"camera": "cam1", "epoch": "E"}
        # the camera polls again while its upload is still unanswered
        fake.wait_poll(polls + 1)
        with fake.cv:
            assert len(fake.uploads) == uploads + 1
        fake.upload_gate.set()
        exit_fast(cam)


def test_control_message_limit_and_since():
    lines = ["event %02d" % i for i in range(20)]
    with FakeServer() as fake, \
            Camera(fake.url, "--id", "c2", "--source", "stdin", stdin=True) as cam:
        feed(cam, lines)  # a fixed set of events: every answer is known exactly
        wait_until(lambda: len(fake.fetch()[2]) == 20, 10, "20 events")
        q, _, all1, _ = fake.fetch({"request_id": "r-1", "camera": "c2"})
        assert dict(q, epoch="E", first="F") == {"camera": "c2", "request_id": "r-1",
                                                 "epoch": "E", "first": "F"}, q
        assert [r["description"] for r in all1] == lines
        # limit: the newest N, in order
        q, _, last3, eol = fake.fetch({"request_id": "r.2", "camera": "c2", "limit": 3})
        assert q["request_id"] == "r.2" and eol == b"EOL 3", (q, eol)
        assert last3 == all1[-3:], last3
        # since: strictly later instants only (the cut record itself is not later)
        mid = len(all1) // 2
        cut = all1[mid]["timestamp"]
        _, _, later, _ = fake.fetch({"request_id": "r3", "camera": "c2", "since": cut})
        assert later == all1[mid + 1:], (cut, later[:2])
        # a fetch copies: everything is still there
        _, _, all2, _ = fake.fetch({"request_id": "r4", "camera": "c2"})
        assert all2 == all1
        # since + limit: since first, then the last N
        _, _, both, _ = fake.fetch({"request_id": "r5", "camera": "c2", "since": cut,
                                    "limit": 2})
        assert both == all1[-2:], both
        _, _, few, _ = fake.fetch({"request_id": "r6", "camera": "c2",
                                   "since": all1[-3]["timestamp"], "limit": 5})
        assert few == all1[-2:], few
        exit_fast(cam)


def test_malformed_control_message_backs_off_without_upload():
    with FakeServer() as fake, Camera(fake.url, "--interval", "0.05") as cam:
        fake.wait_poll()
        fake.wake(200, b'{"request_id":"bad id!"}')
        fake.wait_poll(2, timeout=5)
        gap = fake.polls[1][0] - fake.polls[0][0]
        assert gap >= 0.2, gap
        assert not fake.uploads
        wait_until(lambda: "malformed control message" in cam.stderr, 5, "log line")
        exit_fast(cam)


def test_409_on_poll_backs_off_and_204_repolls_at_once():
    with FakeServer() as fake, Camera(fake.url, *DEBUG) as cam:
        fake.wait_poll()
        for i in range(3):
            fake.wake(204)
            fake.wait_poll(i + 2)
        gaps = [b[0] - a[0] for a, b in zip(fake.polls, fake.polls[1:])]
        assert max(gaps) < 1, gaps
        assert retries(cam) == [], cam.stderr  # a 204 is never backed off
        t0 = time.monotonic()
        with fake.cv:
            fake.poll_status = 409
        fake.wake(409)
        fake.wait_poll(7, timeout=20)  # 409, then backoffs of 0.25-0.5, 0.5-1, 1-2 s
        with fake.cv:  # the 4th delay (2-4 s) runs: the next poll is held
            fake.poll_status = None
            n = len(fake.polls)
        assert time.monotonic() - t0 < 15  # 3.5 s at worst: the delays are bounded
        # Each delay the camera drew is the next step of the schedule (every
        # poll was refused at once: nothing resets it), and it waited each
        # one out: the next poll came no sooner (load only makes it later).
        wait_until(lambda: len(retries(cam)) >= 3, 5, "three backoffs logged")
        delays = retries(cam)[:3]
        steps = [(0.25, 0.5), (0.5, 1), (1, 2)]
        assert all(lo <= d <= hi for d, (lo, hi) in zip(delays, steps)), delays
        times = [p[0] for p in fake.polls[3:7]]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert all(g >= d - 0.01 for g, d in zip(gaps, delays)), (gaps, delays)
        assert "connected again" not in cam.stderr, cam.stderr  # no poll was held
        # a held poll ended by 204 is healthy: it resets the backoff
        fake.wait_poll(n + 1, timeout=15)  # after the 4th delay, 2-4 s; now held
        fake.wake(204)
        fake.wait_poll(n + 2, timeout=5)
        before = len(retries(cam))
        assert before == 4, retries(cam)  # the 204 added no backoff
        fake.wake(409)
        wait_until(lambda: len(retries(cam)) == before + 1, 5, "the next backoff")
        assert retries(cam)[-1] <= 0.5, retries(cam)  # the first step again
        exit_fast(cam)


def test_sigterm_and_sigint_during_long_poll_exit_promptly():
    limit = harness.signal_limit()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with FakeServer() as fake, Camera(fake.url) as cam:
            fake.wait_poll()  # the fake holds it: the state under test
            t0 = time.monotonic()
            rc = cam.stop(sig, timeout=limit)
            assert rc == 0 and time.monotonic() - t0 < limit, (rc, cam.stderr)


def test_client_poll_timeout_repolls_at_once():
    with FakeServer() as fake, Camera(fake.url, "--poll-timeout", "0.3", *DEBUG) as cam:
        fake.wait_poll(3, timeout=10)
        # the polls ended by the camera's own timeout (its log says so), and
        # the next came without a back-off; arrival gaps are not compared with
        # 0.3 s, as a loaded machine delays an arrival, not the camera's clock
        wait_until(lambda: cam.stderr.count("client timeout") >= 2, 5, "two client timeouts")
        gaps = [b[0] - a[0] for a, b in zip(fake.polls, fake.polls[1:3])]
        assert all(g < 3 for g in gaps), gaps
        assert retries(cam) == [], cam.stderr  # polled again at once, no backoff
        exit_fast(cam)


def test_token_sent_on_poll_and_upload():
    with FakeServer() as fake, Camera(fake.url, "--token", "s3cr3t-token") as cam:
        fake.wait_poll()
        assert fake.polls[0][3].get("authorization") == "Bearer s3cr3t-token"
        q, hdrs, recs, _ = fake.fetch({"request_id": "a"})
        assert hdrs.get("authorization") == "Bearer s3cr3t-token"
        assert recs == [] and "s3cr3t" not in cam.stderr
        exit_fast(cam)


def test_refused_upload_keeps_events():
    with FakeServer(upload_status=409) as fake, \
            Camera(fake.url, "--source", "stdin", stdin=True) as cam:
        cam.p.stdin.write(b"one\ntwo\n")
        cam.p.stdin.flush()
        wait_until(lambda: len(fake.fetch()[2]) == 2, 5, "two events")
        wait_until(lambda: "status 409; dropped" in cam.stderr, 5, "drop logged")
        fake.upload_status = 200
        _, _, recs, _ = fake.fetch({"request_id": "b"})
        assert [r["description"] for r in recs] == ["one", "two"]
        exit_fast(cam)


def test_server_down_backoff_grows_and_recovers():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    url = "http://127.0.0.1:%d" % port
    with Camera(url, *DEBUG) as cam:
        wait_until(lambda: len(retries(cam)) >= 4, 30, "4 retries")  # 7.5 s at worst
        delays = retries(cam)
        assert 0.25 <= delays[0] <= 0.5 and 0.5 <= delays[1] <= 1, delays
        assert 1 <= delays[2] <= 2 and 2 <= delays[3] <= 4, delays
        # The server comes up: the camera's next attempt (at most 8 s away) gets in.
        with FakeServer(port=port) as fake:
            fake.wait_poll(timeout=30)
            q, _, _, _ = fake.fetch({"request_id": "up"})
            assert q.get("request_id") == "up", q
            exit_fast(cam)


def test_stdin_lines_repaired_truncated_and_skipped():
    long_line = b"x" * 70000
    quoted = b'"\\' * 40000  # escaping doubles it: must still fit one line
    with FakeServer() as fake, \
            Camera(fake.url, "--source", "stdin", stdin=True) as cam:
        data = (b"first\n\nsecond\r\n" + b"bad \xc3\x28 \xed\xa0\x80 nul\x00.\n" + long_line
                + b"\n" + quoted + b"\n" + "caf\u00e9 \U0001f4f7\n".encode() + b"last")
        cam.p.stdin.write(data)
        cam.p.stdin.close()  # EOF: the unterminated last line counts, camera keeps serving
        wait_until(lambda: len(fake.fetch()[2]) == 7, 5, "seven events")
        _, _, recs, _ = fake.fetch({"request_id": "x"})
        d = [r["description"] for r in recs]
        assert d[0:2] == ["first", "second"], d[:2]
        assert d[2] == "bad \ufffd( \ufffd\ufffd\ufffd nul\ufffd.", d[2]
        assert 65000 < len(d[3]) < 65536 and set(d[3]) == {"x"}, len(d[3])
        assert 30000 < len(d[4]) < 33000, len(d[4])
        assert d[5] == "caf\u00e9 \U0001f4f7" and d[6] == "last", d[5:]
        wait_until(lambda: "stdin closed" in cam.stderr, 5, "EOF logged")
        assert "truncated" in cam.stderr and "invalid UTF-8" in cam.stderr
        exit_fast(cam)


def test_retain_keeps_newest_and_big_upload():
    n = 12000
    with FakeServer() as fake, \
            Camera(fake.url, "--source", "stdin", "--retain", "10000", stdin=True) as cam:
        pad = "p" * 100
        cam.p.stdin.write("".join("line %05d %s\n" % (i, pad) for i in range(n)).encode())
        cam.p.stdin.flush()
        def newest():
            recs = fake.fetch({"request_id": fresh("q"), "limit": 1})[2]
            return recs[0]["description"] if recs else ""
        wait_until(lambda: newest().startswith("line %05d" % (n - 1)), 10, "all lines read")
        q, hdrs, recs, _ = fake.fetch({"request_id": "all"})
        assert len(recs) == 10000 and "expect" not in hdrs  # > 1 MiB, no 100-continue
        assert [r["description"] for r in recs] == ["line %05d %s" % (i, pad)
                                                    for i in range(n - 10000, n)]
        exit_fast(cam)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_no_cpu_while_idle():
    """Holding a poll, the camera sleeps: no busy loop (which would use ~300
    ticks in the 3 s window)."""
    with FakeServer() as fake, Camera(fake.url, "--interval", "10") as cam:
        fake.wait_poll()
        wait_until(lambda: "id=" in cam.stderr, 5, "the start line")
        time.sleep(0.5)  # settle: start-up work is not idleness
        t0 = cpu_ticks(cam.p.pid)
        time.sleep(3)  # measuring idleness: nothing to wait for
        used = cpu_ticks(cam.p.pid) - t0
        assert used <= 5, used  # ticks of 10 ms
        exit_fast(cam)


if __name__ == "__main__":
    harness.run(globals())
