"""Helpers for the camera path's tests (test_campath*.py): raw HTTP/1.1
connections whose every byte is the test's, credentials, EOL streams, and
a fetch made pending so that an upload is one the api reads."""
import hashlib
import hmac
import json
import os
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Async, http, wait_until  # noqa: E402

TMP = tempfile.mkdtemp(prefix="test_campath.")


def cleanup():
    shutil.rmtree(TMP, ignore_errors=True)


SECRET = b"campath-secret-0123456789"
OP = "operator-token-campath-0001"
TS = "2026-11-28T06:44:%02d.000Z"


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


AUTH = ("--camera-secret-file", write("secret", SECRET + b"\n"),
        "--operator-token-file", write("tokens", OP.encode() + b"\n"))


def token(cam):
    return hmac.new(SECRET, cam.encode(), hashlib.sha256).hexdigest()


def stream(n, first=0):
    body = "".join(json.dumps({"description": "event %d" % i, "timestamp": TS % (i % 60)}) + "\n"
                   for i in range(first, first + n))
    return (body + "EOL %d\n" % n).encode()


class Conn:
    """One raw connection: send bytes, read whole HTTP/1.1 replies."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def read_by(self, port, timeout=5):
        """Waits until the server on port has read every byte sent here: its
        end's receive queue is empty (harness.tcp_socket)."""
        ends = (("127.0.0.1", port), self.s.getsockname())
        wait_until(lambda: (harness.tcp_socket(*ends) or {}).get("rx") == 0, timeout,
                   "the server reading what was sent")

    def _fill(self):
        b = self.s.recv(65536)
        if not b:
            raise EOFError("connection closed; had %r" % self.buf[:200])
        self.buf += b

    def reply(self):
        """The next reply: (status, headers with lower-case names, body)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body

    def closed(self, timeout=5):
        """True when the server closes the connection within `timeout` s
        (after whatever it still had to send), False if it stays open."""
        self.s.settimeout(timeout)
        try:
            while True:
                b = self.s.recv(65536)
                if not b:
                    return True
                self.buf += b
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


def head(method, path, *fields):
    return ("%s %s HTTP/1.1\r\nHost: x\r\n" % (method, path) + "".join(f + "\r\n" for f in fields)
            + "\r\n").encode()


def bearer(cam):
    return "Authorization: Bearer " + token(cam)


def err(reply, status):
    s, h, b = reply
    assert s == status, (s, b)
    assert h.get("content-type") == "application/json", h
    return json.loads(b)


def fetch_pending(api, cam, auth=(), timeout=20):
    """Polls for `cam`, starts a /logs and returns it once the poll was woken."""
    hdrs = {"Authorization": "Bearer " + token(cam)} if auth else {}
    poll = Async("GET", api.url + "/control-channel?camera=" + cam, headers=hdrs)
    wait_until(lambda: poll.done() or metric_auth(api, "camlogs_polls_held") >= 1, 5, "poll held")
    logs = Async("GET", api.url + "/logs?camera=%s&timeout=%d" % (cam, timeout),
                 headers={"Authorization": "Bearer " + OP}, timeout=timeout + 5)
    s, _, b = poll.result(5)
    assert s == 200, (s, b)
    return logs, json.loads(b)["request_id"]


def metric_auth(api, name):
    s, _, b = http("GET", api.url + "/metrics", headers={"Authorization": "Bearer " + OP})
    assert s == 200, (s, b)
    for line in b.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def connected(api, cam):
    s, _, b = http("GET", api.url + "/cameras", headers={"Authorization": "Bearer " + OP})
    return any(c["camera"] == cam and c["connected"] for c in json.loads(b))


