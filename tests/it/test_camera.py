"""Integration tests for the camera.

Part 1 runs the camera against a fake server written here (the camera's
behaviour independent of the api). Part 2 runs it end to end against the
real api.
"""
import itertools
import json
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Async, Camera, get_json, wait_metric, wait_until  # noqa: E402

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


# --- a fake api ----------------------------------------------------------------

class FakeServer:
    """Minimal /control-channel + /send-stats server. Polls are held until the
    test calls wake(); only the newest poll can be woken (older ones are
    answered 204 when superseded). Every request is recorded."""

    def __init__(self, upload_status=200, poll_status=None, port=0):
        self.cv = threading.Condition()
        self.polls = []    # (monotonic time, path, query dict, headers dict)
        self.uploads = []  # (monotonic time, path, query dict, headers dict, body bytes)
        self.pending = None  # (status, body) for the newest poll
        self.poll_status = poll_status  # answer every poll at once with this
        self.upload_status = upload_status
        self.upload_statuses = []  # answers for the next uploads, first first; then upload_status
        self.poll_body = b""  # body of the poll_status answers
        self.upload_body = None  # body of a non-200 upload answer (None: {"error":"x"})
        self.upload_gate = threading.Event()  # cleared: uploads wait for their reply
        self.upload_gate.set()
        self.latest = 0
        fake = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, status, body=b""):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if body:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def parts(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
                return u.path, q, {k.lower(): v for k, v in self.headers.items()}

            def do_GET(self):
                path, q, hdrs = self.parts()
                if path != "/control-channel":
                    return self.reply(404)
                with fake.cv:
                    fake.latest += 1
                    me = fake.latest
                    fake.polls.append((time.monotonic(), path, q, hdrs))
                    fake.cv.notify_all()
                    if fake.poll_status is not None:
                        return self.reply(fake.poll_status, fake.poll_body)
                    ok = fake.cv.wait_for(lambda: fake.latest != me or fake.pending, 60)
                    if not ok or fake.latest != me:
                        return self.reply(204)
                    status, body = fake.pending
                    fake.pending = None
                self.reply(status, body)

            def do_POST(self):
                path, q, hdrs = self.parts()
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with fake.cv:
                    fake.uploads.append((time.monotonic(), path, q, hdrs, body))
                    fake.cv.notify_all()
                    status = (fake.upload_statuses.pop(0) if fake.upload_statuses
                              else fake.upload_status)
                    err = fake.upload_body if fake.upload_body is not None else b'{"error":"x"}'
                fake.upload_gate.wait(30)
                self.reply(status, b'{"accepted":0}' if status == 200 else err)

        class Srv(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the camera hanging up on a held poll is normal here

        self.srv = Srv(("127.0.0.1", port), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def wait_poll(self, n=1, timeout=10):
        """Waits until at least n polls arrived in total."""
        with self.cv:
            if not self.cv.wait_for(lambda: len(self.polls) >= n, timeout):
                raise AssertionError("no poll #%d within %ss" % (n, timeout))

    def wait_upload(self, n=1, timeout=10):
        """Waits until at least n uploads arrived in total."""
        with self.cv:
            if not self.cv.wait_for(lambda: len(self.uploads) >= n, timeout):
                raise AssertionError("no upload #%d within %ss" % (n, timeout))

    def wake(self, status=200, body=b""):
        with self.cv:
            self.pending = (status, body)
            self.cv.notify_all()

    def fetch(self, msg=None, timeout=10):
        """Wakes the camera (msg: dict sent as JSON; None: old-style empty 200)
        and returns the next upload: (query, headers, records, eol line)."""
        with self.cv:
            n = len(self.uploads)
            polls = len(self.polls)
        self.wait_poll(max(polls, 1), timeout)
        self.wake(200, json.dumps(msg).encode() if msg is not None else b"")
        with self.cv:
            if not self.cv.wait_for(lambda: len(self.uploads) > n, timeout):
                raise AssertionError("no upload within %ss" % timeout)
            _, _, q, hdrs, body = self.uploads[n]
        return (q, hdrs) + parse_eol(body)

    def close(self):
        self.upload_gate.set()
        self.srv.shutdown()
        self.srv.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse_eol(body):
    """Checks an EOL stream strictly; returns (records, final line)."""
    assert body.endswith(b"\n"), body[-100:]
    lines = body[:-1].split(b"\n")
    recs = []
    for ln in lines[:-1]:
        assert len(ln) <= 65536, len(ln)
        obj = json.loads(ln.decode("utf-8"))  # strict UTF-8
        assert set(obj) == {"description", "timestamp"}, obj
        assert TS_RE.match(obj["timestamp"]), obj
        recs.append(obj)
    assert lines[-1] == b"EOL %d" % len(recs), lines[-1]
    return recs, lines[-1]


def exit_fast(cam, limit=None):
    """SIGTERM; returns the seconds until it exited (fails past `limit`,
    default the contract's second, 5 s under ASan)."""
    limit = limit or harness.signal_limit()
    t0 = time.monotonic()
    rc = cam.stop(signal.SIGTERM, timeout=limit)
    dt = time.monotonic() - t0
    assert rc == 0, (rc, cam.stderr)
    return dt


_rid_numbers = itertools.count(1)


def fresh(prefix):
    """A request_id not used before, as the api's are: a wake-up repeating
    the id of an upload the camera is still answering (its reply may not
    be read yet) is ignored (docs/CAMERA.md, "Retries")."""
    return "%s%d" % (prefix, next(_rid_numbers))


def seqs(recs):
    return [int(r["description"].split()[0][1:]) for r in recs]


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


def run_camera(args, timeout=5):
    """Runs the camera to its exit; returns (exit code, stderr lines)."""
    p = harness.Proc([os.path.join(harness.BIN, "camera")] + args)
    rc = p.wait(timeout)
    p.join_stderr(timeout)
    return rc, p.err_lines


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
        assert q == {"camera": "cam1"}, q
        assert hdrs.get("content-type") == "application/x-ndjson", hdrs
        assert "expect" not in hdrs, hdrs
        assert recs[:len(first)] == first  # the earlier fetch took nothing away
        assert seqs(recs) == list(range(1, len(recs) + 1)), seqs(recs)
        assert fake.polls[0][2] == {"camera": "cam1"}
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
        assert q == {"camera": "c2", "request_id": "r-1"}, q
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


# Every back-off is logged, but repeats of one failure only at debug level
# (docs/CAMERA.md, "Log lines"): tests that count them run with this.
DEBUG = ("--log-level", "debug")


def retries(cam):
    """The backoff delays the camera logged so far, in seconds (with DEBUG)."""
    return [float(x) for x in re.findall(r"retry in ([0-9.]+)s", cam.stderr)]


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
        times = [p[0] for p in fake.polls[3:7]]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert gaps[0] >= 0.24 and gaps[1] >= 0.49 and gaps[2] >= 0.99, gaps
        assert time.monotonic() - t0 < 15  # 3.5 s at worst: the delays are bounded
        # a held poll ended by 204 is healthy: it resets the backoff
        with fake.cv:
            fake.poll_status = None
            n = len(fake.polls)
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
        gaps = [b[0] - a[0] for a, b in zip(fake.polls, fake.polls[1:3])]
        assert all(0.25 < g < 3 for g in gaps), gaps
        wait_until(lambda: cam.stderr.count("client timeout") >= 2, 5, "two client timeouts")
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
    import shutil
    import subprocess
    import tempfile
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "no C compiler for the resolver shim"
    with tempfile.TemporaryDirectory() as d:
        src, so, mark = (os.path.join(d, n) for n in ("slowdns.c", "slowdns.so", "mark"))
        with open(src, "w") as f:
            f.write(SLOW_DNS_C)
        subprocess.run([cc, "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True,
                       capture_output=True, timeout=60)
        env = dict(os.environ, LD_PRELOAD=so, SLOW_DNS_MARK=mark,
                   ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") +
                                 ":verify_asan_link_order=0").lstrip(":"))
        argv = [os.path.join(harness.BIN, "camera"), "--server", "http://slow.test:8080"]
        saved = os.environ.copy()
        os.environ.update(env)  # Proc inherits the environment
        try:
            cam = harness.Proc(argv)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            if not wait_until_or_none(lambda: os.path.exists(mark), 10):
                # e.g. a static sanitizer runtime answers getaddrinfo before the shim
                if harness.sanitized():
                    raise harness.Skip("the resolver shim is not called under ASan")
                raise AssertionError("the resolver shim was not called: %s" % cam.stderr)
            exit_fast(cam)
        finally:
            cam.kill()


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


def feed(cam, lines):
    cam.p.stdin.write("".join(s + "\n" for s in lines).encode())
    cam.p.stdin.flush()


# --- end to end with the real api --------------------------------------------------

def logs(api, cam_id, timeout=10, **params):
    q = urllib.parse.urlencode(dict(camera=cam_id, timeout=timeout, **params))
    return get_json("%s/logs?%s" % (api.url, q), timeout=timeout + 5)


def wait_connected(api, cam_id):
    def ok():
        status, cams = get_json(api.url + "/cameras")
        return status == 200 and any(c["camera"] == cam_id and c["connected"] for c in cams)
    wait_until(ok, 5, "%s connected" % cam_id)


def wait_logs(api, cam_id, pred, timeout=10, **params):
    """Fetches until pred(records) holds; returns the records."""
    def ok():
        status, recs = logs(api, cam_id, **params)
        return recs if status == 200 and pred(recs) else None
    return wait_until(ok, timeout, "/logs matching for %s" % cam_id)


def test_e2e_logs_are_the_cameras_events():
    with Api() as api, Camera(api.url, "--id", "e1", "--interval", "0.02") as cam:
        recs = wait_logs(api, "e1", lambda r: len(r) >= 5)
        assert seqs(recs) == list(range(1, len(recs) + 1))
        assert all(TS_RE.match(r["timestamp"]) for r in recs)
        status, again = logs(api, "e1")
        assert status == 200 and again[:len(recs)] == recs  # copies, never removes
        status, two = logs(api, "e1", limit=2)
        assert status == 200 and len(two) == 2 and seqs(two)[0] > seqs(recs)[-1] - 2
        exit_fast(cam)


def test_e2e_stdin_lines_arrive_in_order():
    with Api() as api, Camera(api.url, "--id", "e2", "--source", "stdin", stdin=True) as cam:
        lines = ["line %d: caf\u00e9" % i for i in range(50)]
        feed(cam, lines)
        recs = wait_logs(api, "e2", lambda r: len(r) == 50)
        assert [r["description"] for r in recs] == lines
        exit_fast(cam)


def test_e2e_api_restart_on_same_port():
    api = Api()
    port = api.port
    with Camera(api.url, "--id", "e3", "--source", "stdin", stdin=True) as cam:
        feed(cam, ["before"])
        wait_logs(api, "e3", lambda r: len(r) == 1)
        api.stop()
        wait_until(lambda: "retry in" in cam.stderr, 5, "camera backing off")
        feed(cam, ["while down"])
        time.sleep(1.5)  # let the backoff grow a little before the restart
        t0 = time.monotonic()
        with Api(port=port) as api2:
            recs = wait_logs(api2, "e3", lambda r: len(r) == 2, timeout=35)
            assert [r["description"] for r in recs] == ["before", "while down"]
            assert time.monotonic() - t0 < 35
        exit_fast(cam)


def test_e2e_20_cameras_in_parallel_no_cross_talk():
    with Api() as api:
        cams = [Camera(api.url, "--id", "p%02d" % i, "--source", "stdin", stdin=True)
                for i in range(20)]
        try:
            for i, c in enumerate(cams):
                feed(c, ["p%02d-%d" % (i, k) for k in range(5)])
            wait_metric(api, "camlogs_polls_held", 20, timeout=30)  # every camera polls
            for i in range(20):  # and has read its five lines
                wait_logs(api, "p%02d" % i, lambda r: len(r) == 5, timeout=30)
            reqs = [Async("GET", "%s/logs?camera=p%02d&timeout=10" % (api.url, i), timeout=15)
                    for i in range(20)]
            for i, r in enumerate(reqs):
                status, _, body = r.result(20)
                assert status == 200, (i, status, body)
                got = [x["description"] for x in json.loads(body)]
                assert got == ["p%02d-%d" % (i, k) for k in range(5)], (i, got)
        finally:
            for c in cams:
                c.kill()


def test_e2e_since_after_limit_has_no_gap():
    """A reader that fetched limit=N and then asks since=<newest stamp it saw>
    gets every event pushed after its first fetch, also those stamped in the
    same clock tick: stamps strictly increase (microseconds). The writer is
    paced on the reader: each round writes a batch, fetches limit=3 while the
    camera may still be reading it, writes a second batch, waits until the
    camera has read it, then fetches since; that answer is known exactly."""
    rounds, batch = 40, 1000
    with Api() as api, Camera(api.url, "--id", "g1", "--source", "stdin", "--retain", "1000000",
                              stdin=True) as cam:
        wait_connected(api, "g1")
        written = []
        pairs = []

        def write_batch():
            lines = ["f%06d" % k for k in range(len(written), len(written) + batch)]
            feed(cam, lines)
            written.extend(lines)
        for _ in range(rounds):
            write_batch()
            st, a = logs(api, "g1", limit=3)
            assert st == 200, st
            write_batch()
            wait_logs(api, "g1", lambda r: r and r[-1]["description"] == written[-1], limit=1)
            if not a:
                continue  # the camera had read nothing yet: no stamp to ask since
            st, b = logs(api, "g1", since=a[-1]["timestamp"])
            assert st == 200, st
            i = written.index(a[-1]["description"]) + 1
            assert [r["description"] for r in b] == written[i:], (a[-1], b[:2], written[i:i + 2])
            pairs.append((a, b))
        assert len(pairs) >= rounds - 1, len(pairs)
        n = len(written)
        full = wait_logs(api, "g1", lambda r: len(r) == n, timeout=20)
        assert [r["description"] for r in full] == written
        stamps = [r["timestamp"] for r in full]
        assert all(x < y for x, y in zip(stamps, stamps[1:])), "stamps not strictly increasing"
        index = {r["description"]: i for i, r in enumerate(full)}
        for a, b in pairs:  # the stamps too are exactly the stored ones
            i = index[a[-1]["description"]] + 1
            assert b == full[i:i + len(b)], (a[-1], b[:2], full[i:i + 2])
        exit_fast(cam)


class StallProxy:
    """TCP proxy to `port` that swallows /send-stats uploads while .stall is
    set: a camera's upload that never arrives, with its poll still held."""

    def __init__(self, port):
        self.up = port
        self.stall = True
        self.polls = 0
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.up))
            threading.Thread(target=self._pump, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, False), daemon=True).start()

    def _pump(self, src, dst, from_camera):
        held = False
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if from_camera and b.startswith(b"GET /control-channel"):
                    self.polls += 1
                held = held or (from_camera and self.stall and b.startswith(b"POST /send-stats"))
                if not held:
                    dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):  # one side gone: so is the other
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.lsock.close()


def test_e2e_camera_killed_while_fetch_waits():
    with Api("--connect-grace", "1") as api:
        proxy = StallProxy(api.port)
        cam = Camera(proxy.url, "--id", "e5", "--source", "stdin", stdin=True)
        try:
            feed(cam, ["a"])
            wait_until(lambda: "id=e5" in cam.stderr, 5, "camera started")
            t0 = time.monotonic()
            req = Async("GET", "%s/logs?camera=e5&timeout=20" % api.url, timeout=25)
            wait_until(lambda: "poll: 200" in cam.stderr, 10, "wake-up delivered")
            # its upload is stuck in the proxy; the api holds the camera's next poll
            wait_metric(api, "camlogs_polls_held", 1, timeout=10)
            cam.kill()
            status, _, body = req.result(10)
            dt = time.monotonic() - t0
            assert status == 502 and dt < 5, (status, dt, body)
        finally:
            cam.kill()
            proxy.close()
        with Camera(api.url, "--id", "e5", "--source", "stdin", stdin=True) as cam2:
            feed(cam2, ["b"])
            recs = wait_logs(api, "e5", lambda r: len(r) == 1)
            assert recs[0]["description"] == "b"
            exit_fast(cam2)


def test_e2e_events_survive_a_failed_upload():
    with Api() as api, Camera(api.url, "--id", "e6", "--source", "stdin", stdin=True) as cam:
        feed(cam, ["one", "two"])
        wait_logs(api, "e6", lambda r: len(r) == 2)
        wait_metric(api, "camlogs_polls_held", 1)  # holding its next poll
        cam.p.send_signal(signal.SIGSTOP)
        status, _ = logs(api, "e6", timeout=1)  # nobody answers: 504, fetch abandoned
        assert status == 504, status
        cam.p.send_signal(signal.SIGCONT)  # its late upload is refused (409)
        wait_until(lambda: "dropped, events kept" in cam.stderr, 5, "refused upload")
        feed(cam, ["three"])
        recs = wait_logs(api, "e6", lambda r: len(r) == 3)
        assert [r["description"] for r in recs] == ["one", "two", "three"]
        exit_fast(cam)


def test_e2e_operator_leaving_mid_wait_loses_nothing():
    """An operator whose reply cannot be given (it hung up while the fetch
    waited) takes nothing with it: the next /logs has every event."""
    with Api() as api, Camera(api.url, "--id", "e7", "--source", "stdin", stdin=True) as cam:
        feed(cam, ["one", "two"])
        wait_logs(api, "e7", lambda r: len(r) == 2)
        wait_metric(api, "camlogs_polls_held", 1)  # holding its next poll
        cam.p.send_signal(signal.SIGSTOP)  # the fetch waits for the camera's upload
        try:
            s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
            s.sendall(b"GET /logs?camera=e7&timeout=20 HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_metric(api, "camlogs_logs_waiting", 1)
            s.close()  # the operator leaves mid-wait
            wait_metric(api, "camlogs_logs_waiting", 0)
        finally:
            cam.p.send_signal(signal.SIGCONT)
        feed(cam, ["three"])
        recs = wait_logs(api, "e7", lambda r: len(r) == 3)
        assert [r["description"] for r in recs] == ["one", "two", "three"]
        exit_fast(cam)


def test_e2e_camera_token_accepted_and_wrong_one_backs_off():
    import hashlib
    import hmac
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        secret = b"0123456789abcdef-secret"
        path = os.path.join(d, "secret")
        with open(path, "wb") as f:
            f.write(secret + b"\n")
        os.chmod(path, 0o600)
        token = hmac.new(secret, b"k1", hashlib.sha256).hexdigest()
        with Api("--camera-secret-file", path) as api, \
                Camera(api.url, "--id", "k1", "--token", token, "--interval", "0.05") as good, \
                Camera(api.url, "--id", "k2", "--token", token) as bad:
            wait_logs(api, "k1", lambda r: len(r) >= 1)
            wait_until(lambda: "status 401" in bad.stderr, 5, "401 for another camera's token")
            assert "retry in" in bad.stderr and token not in good.stderr + bad.stderr
            exit_fast(good)
            exit_fast(bad)


def test_e2e_https_verified_with_cacert():
    import shutil
    import subprocess
    import tempfile
    assert shutil.which("openssl"), "no openssl command (scripts/deps.sh installs it)"
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        with Api("--tls-cert", cert, "--tls-key", key) as api:
            url = api.url.replace("http://", "https://")
            with Camera(url, "--id", "s1", "--cacert", cert, "--interval", "0.05") as good, \
                    Camera(url, "--id", "s2") as unverified:
                wait_until(lambda: logs_tls(api, "s1", cert), 10, "fetch over https")
                wait_until(lambda: "retry in" in unverified.stderr, 5, "certificate refused")
                # curl's error buffer names the failed check, not just "error 60"
                assert "SSL certificate problem" in unverified.stderr, unverified.stderr
                exit_fast(good)
                exit_fast(unverified)


def logs_tls(api, cam_id, cert):
    import http.client
    import ssl
    ctx = ssl.create_default_context(cafile=cert)
    c = http.client.HTTPSConnection("127.0.0.1", api.port, context=ctx, timeout=10)
    try:
        c.request("GET", "/logs?camera=%s&timeout=5" % cam_id)
        r = c.getresponse()
        body = r.read()
        return r.status == 200 and len(json.loads(body)) >= 1
    finally:
        c.close()


if __name__ == "__main__":
    harness.run(globals())
