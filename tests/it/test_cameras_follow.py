"""GET /cameras?follow=1 (docs/API.md; issue 24 item 2): Server-Sent Events
of the cameras' connectivity. A raw HTTP client reads the stream while real
cameras arrive and leave: first one `cameras` event (the /cameras list,
filters applied), then `connected` / `gone` with the camera's /cameras
entry, `?prefix=` on every event, `?connected=` on the snapshot only, a
keep-alive comment within 15 s, operator auth as /cameras, `end` at the
api's shutdown.
"""
import json
import os
import queue
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Api, Camera, bearer, get_json, http, run  # noqa: E402

TOKEN = "operator-token-for-cameras-follow"


class Stream:
    """One /cameras?follow=1 on a raw socket: the head, then each event
    ([event, data as JSON]) or comment (["comment", text]) in a queue."""

    def __init__(self, api, query="", headers=None):
        self.q = queue.Queue()
        self.s = socket.create_connection(("127.0.0.1", api.port), timeout=30)
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.s.sendall(("GET /cameras?follow=1%s HTTP/1.1\r\nHost: t\r\n%s\r\n"
                        % (query, extra)).encode())
        self.f = self.s.makefile("rb")
        self.status = int(self.f.readline().split()[1])
        self.head = {}
        for line in iter(self.f.readline, b"\r\n"):
            k, v = line.decode().split(":", 1)
            self.head[k.strip().lower()] = v.strip()
        threading.Thread(target=self._read, daemon=True).start()

    def _lines(self):
        """The body's lines, chunked framing removed."""
        rest = b""
        while True:
            size = int(self.f.readline().strip() or b"0", 16)
            if size == 0:
                return
            rest += self.f.read(size)
            self.f.readline()
            *lines, rest = rest.split(b"\n")
            yield from (line.decode() for line in lines)

    def _read(self):
        ev, data = None, []
        try:
            for line in self._lines():
                if line.startswith(":"):
                    self.q.put(["comment", line[1:].strip()])
                elif line.startswith("event: "):
                    ev = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and data:
                    self.q.put([ev or "message", json.loads("\n".join(data))])
                    ev, data = None, []
        except (OSError, ValueError):
            pass
        self.q.put(["closed", None])

    def next(self, timeout=10, skip_comments=True):
        end = time.monotonic() + timeout
        while True:
            got = self.q.get(timeout=max(0.01, end - time.monotonic()))
            if not (skip_comments and got[0] == "comment"):
                return got

    def close(self):
        self.s.close()


def camera(api, cam_id):
    return Camera(api.url, "--id", cam_id, "--source", "stdin", stdin=True)


def test_arrive_and_leave_with_filters():
    with Api("--connect-grace", "0.5") as api:
        t0 = time.monotonic()
        every = Stream(api)
        assert every.status == 200
        assert every.head["content-type"] == "text/event-stream", every.head
        assert every.head["cache-control"] == "no-cache"
        assert every.head["x-accel-buffering"] == "no"
        assert every.next() == ["cameras", []]
        pre = Stream(api, "&prefix=door")
        assert pre.next() == ["cameras", []]
        with camera(api, "door1") as cam:
            ev, entry = every.next()
            assert ev == "connected" and entry["camera"] == "door1" and entry["connected"], entry
            assert set(entry) == {"camera", "connected", "since", "last_seen"}, entry
            assert pre.next() == [ev, entry]
            s, listed = get_json(api.url + "/cameras")
            assert listed == [entry], (listed, entry)
            with camera(api, "yard1"):
                ev, entry = every.next()
                assert (ev, entry["camera"], entry["connected"]) == ("connected", "yard1", True)
                online = Stream(api, "&connected=1")
                ev, snap = online.next()
                assert ev == "cameras" and [c["camera"] for c in snap] == ["door1", "yard1"]
                away = Stream(api, "&connected=0&prefix=door")
                assert away.next() == ["cameras", []]
            ev, entry = every.next()
            assert (ev, entry["camera"], entry["connected"]) == ("gone", "yard1", False), entry
            assert online.next()[1]["camera"] == "yard1", "a departure from the connected set"
            cam.stop()
        ev, entry = every.next()
        assert (ev, entry["camera"], entry["connected"]) == ("gone", "door1", False), entry
        assert pre.next() == [ev, entry], "prefix=door sees door1 only"
        assert away.next() == [ev, entry], "connected=0 shapes only the snapshot"
        # Nothing of yard1 came to the door streams; a comment comes within 15 s.
        got = pre.next(timeout=max(1, 16 - (time.monotonic() - t0)), skip_comments=False)
        assert got == ["comment", "keep-alive"], got
        assert time.monotonic() - t0 < 16
        s, h, body = http("GET", api.url + "/cameras?follow=2")
        assert s == 400, (s, body)
        api.send_signal(15)
        assert every.next() == ["end", {"reason": "the api is shutting down"}]
        assert every.next()[0] == "closed"
        assert api.wait(5) == 0


def test_operator_token():
    tmp = tempfile.mkdtemp(prefix="test_cameras_follow.")
    tokens = os.path.join(tmp, "operators")
    with open(tokens, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(tokens, 0o600)
    with Api("--operator-token-file", tokens) as api:
        s, h, body = http("GET", api.url + "/cameras?follow=1")
        assert s == 401 and json.loads(body)["error"], (s, body)
        st = Stream(api, headers=bearer(TOKEN))
        assert st.status == 200 and st.next() == ["cameras", []]
        kept = Stream(api, headers=bearer(TOKEN))
        assert kept.next() == ["cameras", []]
        st.close()  # noticed at the next write: the arrival below
        with camera(api, "after-close"):
            assert kept.next()[0] == "connected"
        assert kept.next()[0] == "gone"
        assert api.stop() == 0, api.stderr  # under ASan: nothing leaked


if __name__ == "__main__":
    run(globals())
