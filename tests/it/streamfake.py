"""A fake api on a raw socket, for the camera's follow uploads (PROTOCOL.md
1.2, the wake-up's "follow":S): it holds /control-channel polls until a test
wakes one, and reads /send-stats bodies itself, chunked or not, noting when
each line of a body arrived (time.monotonic()), so that a test sees the
stream as it comes rather than once it ends. http.server cannot: it reads a
body by Content-Length only.

One thread per connection; connections are kept alive as the camera's curl
reuses them. Every wait has a deadline.
"""
import json
import socket
import ssl
import threading
import time
import urllib.parse


class Upload:
    """One /send-stats request as it arrives."""

    def __init__(self, query, headers, peer):
        self.t0 = time.monotonic()
        self.query = query
        self.headers = headers
        self.peer = peer  # the camera's end of the connection: (address, port)
        self.lines = []  # (arrival time, line bytes without its LF)
        self.raw = b""  # the body so far
        self.done = False  # the body ended (the last chunk, or Content-Length)
        self.broken = False  # the connection closed before the body ended
        self.t_end = None

    def records(self):
        """The record lines (JSON objects) so far."""
        return [json.loads(ln) for _, ln in self.lines if not ln.startswith(b"EOL")]

    def eol(self):
        """The EOL line, or None before it came."""
        return next((ln for _, ln in self.lines if ln.startswith(b"EOL")), None)

    def line_time(self, pred):
        """The arrival time of the first record line whose JSON satisfies pred."""
        for t, ln in self.lines:
            if not ln.startswith(b"EOL") and pred(json.loads(ln)):
                return t
        return None


class _Conn:
    """Reads one connection's bytes with recv; knows nothing of HTTP."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def more(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def until(self, sep):
        while sep not in self.buf:
            self.more()
        head, self.buf = self.buf.split(sep, 1)
        return head

    def exactly(self, n):
        while len(self.buf) < n:
            self.more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class StreamFake:
    def __init__(self, tls=None):
        """tls: (certificate file, key file) to speak https."""
        self.ctx = None
        if tls:
            self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ctx.load_cert_chain(*tls)
        self.cv = threading.Condition()
        self.polls = []  # (time, query)
        self.uploads = []  # Upload, in arrival order
        self.pending = None  # the wake-up body for the newest poll
        self.latest = 0
        self.statuses = []  # answers for the next uploads (first first), then 200
        self.cut_after = {}  # upload index -> close the connection once it has N lines
        self.early = {}  # upload index -> status answered at its head, before the body
        self.on_line = None  # called (upload, line) as each line arrives, from the reader
        self.answer_gate = threading.Event()  # cleared: a complete upload waits for its answer
        self.answer_gate.set()
        self.closing = False
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.answer_gate.set()
        with self.cv:
            self.closing = True
            self.cv.notify_all()
        self.lsock.close()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        try:
            peer = s.getpeername()
            if self.ctx:  # the handshake writes TLS 1.3's session tickets too
                s.settimeout(10)
                s = self.ctx.wrap_socket(s, server_side=True)
                s.settimeout(None)
        except (OSError, ssl.SSLError):
            s.close()
            return
        c = _Conn(s)
        try:
            while True:
                head = c.until(b"\r\n\r\n").decode("latin-1").split("\r\n")
                method, target, _ = head[0].split(" ", 2)
                hdrs = {k.strip().lower(): v.strip() for k, v in
                        (h.split(":", 1) for h in head[1:] if h)}
                u = urllib.parse.urlsplit(target)
                q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
                if method == "GET" and u.path == "/control-channel":
                    self._poll(s, q)
                elif method == "POST" and u.path == "/send-stats":
                    if not self._upload(s, c, q, hdrs, peer):
                        return
                else:
                    self._reply(s, 404, b'{"error":"no such path"}')
        except (EOFError, OSError, ValueError):
            pass
        finally:
            s.close()

    @staticmethod
    def _reply(s, status, body=b""):
        s.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (status, len(body), body))

    def _poll(self, s, q):
        with self.cv:
            self.latest += 1
            me = self.latest
            self.polls.append((time.monotonic(), q))
            self.cv.notify_all()
            self.cv.wait_for(lambda: self.latest != me or self.pending or self.closing, 60)
            if self.latest != me or not self.pending:
                body, status = b"", 204
            else:
                body, status = self.pending, 200
                self.pending = None
        self._reply(s, status, body)

    def _take(self, up, idx, data):
        """Body bytes arrived: note each line that they complete."""
        with self.cv:
            up.raw += data
            start = sum(len(ln) + 1 for _, ln in up.lines)
            while b"\n" in up.raw[start:]:
                end = up.raw.index(b"\n", start)
                line = up.raw[start:end].rstrip(b"\r")
                up.lines.append((time.monotonic(), line))
                if self.on_line:
                    self.on_line(up, line)
                start = end + 1
            self.cv.notify_all()
            return len(up.lines) >= self.cut_after.get(idx, 1 << 60)

    def _upload(self, s, c, q, hdrs, peer):
        """Reads one upload as it comes; False when the connection was cut."""
        up = Upload(q, hdrs, peer)
        with self.cv:
            idx = len(self.uploads)
            self.uploads.append(up)
            self.cv.notify_all()
            early = self.early.get(idx)
        if early:  # as the api refuses a request (409) and then drops its body
            self._reply(s, early, b'{"error":"x"}')
        try:
            if hdrs.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int(c.until(b"\r\n").split(b";")[0], 16)
                    if size == 0:
                        c.until(b"\r\n")  # no trailers from curl
                        break
                    cut = self._take(up, idx, c.exactly(size))
                    c.exactly(2)
                    if cut:
                        raise EOFError
            else:
                self._take(up, idx, c.exactly(int(hdrs.get("content-length", "0"))))
        except EOFError:
            with self.cv:
                up.broken = True
                self.cv.notify_all()
            return False
        with self.cv:
            up.done, up.t_end = True, time.monotonic()
            status = self.statuses.pop(0) if self.statuses else 200
            self.cv.notify_all()
        if early:
            return True
        self.answer_gate.wait(30)
        n = len(up.records())
        self._reply(s, status, b'{"accepted":%d}' % n if status == 200 else b'{"error":"x"}')
        return True

    # --- for tests -------------------------------------------------------------------

    def wait(self, pred, timeout, what):
        with self.cv:
            if not self.cv.wait_for(pred, timeout):
                raise AssertionError("%s: not within %ss" % (what, timeout))

    def wait_poll(self, n=1, timeout=10):
        self.wait(lambda: len(self.polls) >= n, timeout, "poll #%d" % n)

    def wake(self, msg, timeout=10):
        """Wakes the newest poll with the JSON `msg`; returns the time it was sent."""
        self.wait(lambda: self.polls and self.pending is None, timeout, "a poll to wake")
        with self.cv:
            self.pending = json.dumps(msg).encode()
            t = time.monotonic()
            self.cv.notify_all()
        return t

    def upload(self, i, timeout=10):
        """The i-th upload (0-based), once it has started."""
        self.wait(lambda: len(self.uploads) > i, timeout, "upload #%d" % i)
        return self.uploads[i]

    def wait_lines(self, up, n, timeout=10):
        self.wait(lambda: len(up.lines) >= n, timeout, "%d lines of an upload" % n)

    def wait_end(self, up, timeout):
        self.wait(lambda: up.done or up.broken, timeout, "the upload's end")

