"""Many cameras in one thread, over real HTTP against the real api: each
holds a /control-channel poll on its own raw socket (HTTP/1.1 keep-alive)
and polls again when the api answers (204 at --poll-timeout, 409 when
superseded). A camera that is `closed()` hangs up and is shown offline
after the api's connect grace. They never answer a fetch: a /logs for one
of them waits for the timeout asked (use a real Camera for logs).

    with Fleet(api.url, 500) as f:       # fleet-000 .. fleet-499
        f.close_some(50)                 # the first 50 go offline
"""
import selectors
import socket
import threading
import urllib.parse


class Fleet:
    def __init__(self, url, n, prefix="fleet-", headers=None):
        u = urllib.parse.urlsplit(url)
        self.addr = (u.hostname, u.port)
        self.ids = ["%s%03d" % (prefix, i) for i in range(n)]
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.req = {i: ("GET /control-channel?camera=%s HTTP/1.1\r\nHost: x\r\n%s\r\n"
                        % (i, extra)).encode() for i in self.ids}
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.socks = {}
        self.stop = False
        for i in self.ids:
            self.open(i)
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def open(self, cam):
        s = socket.create_connection(self.addr, timeout=10)
        s.setblocking(False)
        s.sendall(self.req[cam])
        self.socks[cam] = s
        self.sel.register(s, selectors.EVENT_READ, cam)

    def loop(self):
        while not self.stop:
            for key, _ in self.sel.select(0.2):
                with self.lock:
                    self.read(key.data, key.fileobj)

    def read(self, cam, s):
        """A reply (or the end): poll again, as a camera does. The replies the
        api sends a poll are small and arrive whole; an end reconnects."""
        try:
            data = s.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if self.socks.get(cam) is not s:
            return
        if not data or b"connection: close" in data.lower():
            self.sel.unregister(s)
            s.close()
            self.open(cam)
            return
        s.sendall(self.req[cam])

    def close_some(self, k):
        """The first k cameras hang up for good; returns their ids."""
        gone = self.ids[:k]
        with self.lock:
            for cam in gone:
                s = self.socks.pop(cam)
                self.sel.unregister(s)
                s.close()
        return gone

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.t.join(5)
        with self.lock:
            for s in self.socks.values():
                s.close()
            self.socks.clear()
        self.sel.close()
