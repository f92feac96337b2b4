"""The camera's fake api for the integration tests: a minimal
/control-channel + /send-stats server that records every request and holds
polls until the test wakes them, and the small helpers the camera tests
share (strict EOL parsing, a prompt SIGTERM exit, fresh request ids, stdin
feeding, the logged back-off delays, the camera run to its exit, its log
lines with a text, a loopback TCP proxy to build on)."""
import itertools
import json
import os
import re
import signal
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

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
        self.poll_body = b""  # body of the poll_status answers (or a function of the poll's number)
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
                        body = fake.poll_body(me) if callable(fake.poll_body) else fake.poll_body
                        return self.reply(fake.poll_status, body)
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
        # 1.2: "seq" last (docs/CAMERA.md "Event numbers"); test_numbers.py checks it
        assert list(obj) == ["description", "timestamp", "seq"], obj
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



# Every back-off is logged, but repeats of one failure only at debug level
# (docs/CAMERA.md, "Log lines"): tests that count them run with this.
DEBUG = ("--log-level", "debug")


def retries(cam):
    """The backoff delays the camera logged so far, in seconds (with DEBUG)."""
    return [float(x) for x in re.findall(r"retry in ([0-9.]+)s", cam.stderr)]


def feed(cam, lines):
    cam.p.stdin.write("".join(s + "\n" for s in lines).encode())
    cam.p.stdin.flush()


def run_camera(args, timeout=5):
    """Runs the camera to its exit; returns (exit code, stderr lines)."""
    p = harness.Proc([os.path.join(harness.BIN, "camera")] + args)
    rc = p.wait(timeout)
    p.join_stderr(timeout)
    return rc, p.err_lines


def lines_with(cam, text):
    """The camera's stderr lines so far that contain text."""
    return [ln for ln in cam.err_lines if text in ln]


class Proxy:
    """A TCP proxy on an ephemeral loopback port (.url) to 127.0.0.1:`up`:
    each connection accepted gets its own to `up`, and the subclass's
    _pump(src, dst, from_camera) moves the bytes of each direction."""

    def listen(self, up):
        self.up = up
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

    def close(self):
        self.lsock.close()
