"""A hostile HTTP server on raw sockets (issue 20): a test or bench script
says how each request is answered (answer(method, path) -> ENDLESS with a
status, the bytes of a whole reply, or None to hold it); an endless answer
is a status line, a huge Content-Length, the `head_body` given (e.g. the
api's JSON "error") and then spaces for as long as the client reads. Every
request and every close of an endless answer by the client are recorded,
with the bytes sent before it."""
import socket
import threading
import time

ENDLESS = "endless"


class EndlessServer:
    def __init__(self, answer, status=500, head_body=b'{"error":"overloaded"}'):
        self.answer = answer
        self.head = (b"HTTP/1.1 %d Hostile\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000000000\r\n\r\n" % status) + head_body
        self.cv = threading.Condition()
        self.requests = []  # (monotonic time, method, path)
        self.closed = []    # (monotonic time, bytes sent): endless answers the client closed
        self.stopping = threading.Event()
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _request(self, c, buf):
        """Reads one request head (its body, if any, is left unread):
        (method, path, the bytes after the head) or None at EOF."""
        while b"\r\n\r\n" not in buf:
            b = c.recv(65536)
            if not b:
                return None
            buf += b
        head, rest = buf.split(b"\r\n\r\n", 1)
        method, path = head.split(b"\r\n", 1)[0].decode(errors="replace").split(" ")[:2]
        return method, path, rest

    def _endless(self, c):
        sent, chunk = 0, b" " * 65536
        try:
            c.sendall(self.head)
            while not self.stopping.is_set():
                sent += c.send(chunk)
        except OSError:
            with self.cv:
                self.closed.append((time.monotonic(), sent))
                self.cv.notify_all()

    def _serve(self, c):
        buf = b""
        with c:
            while True:
                req = self._request(c, buf)
                if req is None:
                    return
                method, path, buf = req
                with self.cv:
                    self.requests.append((time.monotonic(), method, path))
                    self.cv.notify_all()
                how = self.answer(method, path)
                if how == ENDLESS:
                    return self._endless(c)
                if how is None:
                    return self.stopping.wait()
                c.sendall(how)

    def wait(self, what, pred, timeout):
        with self.cv:
            if not self.cv.wait_for(pred, timeout):
                raise AssertionError("%s not within %ss" % (what, timeout))

    def count(self, method, path):
        with self.cv:
            return len([r for r in self.requests if r[1] == method and r[2].startswith(path)])

    def close(self):
        self.stopping.set()
        self.srv.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
