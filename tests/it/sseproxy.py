"""An HTTP proxy in front of the real api for the page's live-view tests
(test_web_live.py): it records every request line and its headers (so a
test sees whether a token ever went into a URL), passes Server-Sent Events
through unbuffered, and can cut every open stream (as a lost connection
would).
"""
import socket
import threading
import urllib.parse
from http.client import HTTPConnection, HTTPException
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PASS_HEADERS = ("authorization", "last-event-id", "accept", "if-none-match", "user-agent")


class Proxy:
    def __init__(self, api):
        self.api = api
        self.requests = []  # (path, {header: value}) in arrival order
        self.streams = set()  # sockets of streams open now
        self.lock = threading.Lock()
        proxy = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                hdrs = {k.lower(): v for k, v in self.headers.items()}
                with proxy.lock:
                    proxy.requests.append((self.path, hdrs))
                proxy.forward(self, {k: v for k, v in hdrs.items() if k in PASS_HEADERS})

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.cut()
        self.srv.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def cut(self):
        """Closes every stream open now; returns how many."""
        with self.lock:
            socks = list(self.streams)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(socks)

    def follows(self):
        """The /logs?follow=1 requests so far: [(query dict, headers)]."""
        with self.lock:
            reqs = list(self.requests)
        return [(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(p).query)), h)
                for p, h in reqs if p.startswith("/logs?") and "follow=1" in p]

    def forward(self, h, headers):
        c = HTTPConnection("127.0.0.1", self.api.port, timeout=60)
        c.request("GET", h.path, headers=headers)
        r = c.getresponse()
        stream = (r.getheader("content-type") or "").startswith("text/event-stream")
        h.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date",
                                 "server"):
                h.send_header(k, v)
        if not stream:
            body = r.read()
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return c.close()
        h.end_headers()
        self.pump(h, lambda: r.read1(65536))
        c.close()

    def pump(self, h, more):
        """Writes what more() gives until it is empty or the stream is cut."""
        sock = h.connection
        with self.lock:
            self.streams.add(sock)
        try:
            while True:
                data = more()
                if not data:
                    break
                h.wfile.write(data)
                h.wfile.flush()
        except (OSError, ValueError, HTTPException):
            pass  # cut here, or the api ended it
        finally:
            with self.lock:
                self.streams.discard(sock)
            h.close_connection = True
