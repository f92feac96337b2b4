"""An HTTP proxy in front of the real api for the page's live-view tests
(test_web_live.py): it records every request line and its headers (so a
test sees whether a token ever went into a URL), streams Server-Sent Events
through unbuffered, and can cut every open stream (as a restarted api or a
lost connection would).

Until the api serves GET /logs?follow=1 (it answers 501), `follow=1` is
stood in for here from the real api's /logs: the events after the cursor,
each with the id EPOCH:SEQ it has in the camera's numbering, polled every
0.1 s. Once the api streams, the proxy passes its stream through as is.
"""
import json
import socket
import threading
import time
import urllib.parse
from http.client import HTTPConnection, HTTPException
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import http

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
        if r.status == 501 and h.path.startswith("/logs?") and "follow=1" in h.path:
            r.read()
            c.close()
            return self.stand_in(h, headers)
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

    def stand_in(self, h, headers):
        """follow=1 from the api's /logs (see the module's doc)."""
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(h.path).query))
        cam = q["camera"]
        state = {"after": headers.get("last-event-id") or q.get("after"), "first": True,
                 "away": False, "quiet": time.monotonic()}
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.end_headers()
        pending = [b"retry: 300\n\n"]

        def more():
            while not pending:
                pending.extend(self.poll(cam, q, headers, state))
                if not pending:
                    if time.monotonic() - state["quiet"] > 1:
                        pending.append(b": keep-alive\n\n")
                    else:
                        time.sleep(0.1)
            state["quiet"] = time.monotonic()
            return pending.pop(0)
        self.pump(h, more)

    def poll(self, cam, q, headers, state):
        ask = {"camera": cam, "timeout": "5"}
        if state["after"]:
            ask["after"] = state["after"]
        elif state["first"]:
            ask.update({k: q[k] for k in ("limit", "since") if k in q})
        auth = {k: v for k, v in headers.items() if k == "authorization"}
        s, hd, body = http("GET", "%s/logs?%s" % (self.api.url, urllib.parse.urlencode(ask)),
                           headers=auth, timeout=10)
        out = []
        if s != 200:
            if not state["away"]:
                state["away"] = True
                out.append(b'event: offline\ndata: {"camera":"%s"}\n\n' % cam.encode())
            return out
        if state["away"]:
            state["away"] = False
            out.append(b'event: online\ndata: {"camera":"%s"}\n\n' % cam.encode())
        state["first"] = False
        epoch, n = hd["camlogs-cursor"].rsplit(":", 1)
        recs = json.loads(body)
        for i, r in enumerate(recs):
            data = json.dumps({"description": r["description"], "timestamp": r["timestamp"]})
            out.append(("id: %s:%d\ndata: %s\n\n" % (epoch, int(n) - len(recs) + 1 + i,
                                                     data)).encode())
        state["after"] = hd["camlogs-cursor"]
        return out
