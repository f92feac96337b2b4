"""A Server-Sent Events client for the follow tests: one raw HTTP/1.1
connection, the head parsed, the chunked body decoded, events read with a
deadline each. Every wait has a deadline."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Camera  # noqa: E402


class Follower:
    """GET /logs?follow=1 on its own connection."""

    def __init__(self, port, query, headers=None, rcvbuf=None, timeout=10):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        h = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.s.sendall(("GET /logs?follow=1&%s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (query, h)).encode())
        self.raw = b""      # bytes read, not yet de-chunked
        self.body = bytearray()  # de-chunked body, parsed into events up to pos
        self.pos = 0
        self.ended = False  # the stream's last chunk came, or the connection closed
        self.status = None
        self.headers = {}
        self.head_body = b""
        if rcvbuf is None:
            self._read_head(timeout)

    def _fill(self, deadline):
        self.s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.s.recv(65536)
        except socket.timeout:
            return False
        if not data:
            self.ended = True
            return False
        self.raw += data
        return True

    def _read_head(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.raw:
            if not self._fill(deadline) and (self.ended or time.monotonic() > deadline):
                raise AssertionError("no head: %r" % self.raw)
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        if self.status != 200:  # an error reply: its body by Content-Length
            n = int(self.headers.get("content-length", "0"))
            while len(self.raw) < n and self._fill(deadline):
                pass
            self.head_body = self.raw[:n]

    def error(self):
        return json.loads(self.head_body)

    def _dechunk(self):
        at = 0
        while self.chunked:
            eol = self.raw.find(b"\r\n", at)
            if eol < 0:
                break
            size = int(self.raw[at:eol], 16)
            if len(self.raw) < eol + 2 + size + 2:
                break
            if size == 0:
                self.ended = True
                at = len(self.raw)
                break
            self.body += self.raw[eol + 2:eol + 2 + size]
            at = eol + 2 + size + 2
        if not self.chunked:
            self.body += self.raw
            at = len(self.raw)
        self.raw = self.raw[at:]

    def next_block(self, timeout=10):
        """The next SSE block as a dict (event, id, data, comment), or None
        when the stream ended. Fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            self._dechunk()
            end = self.body.find(b"\n\n", self.pos)
            if end >= 0:
                block = self.body[self.pos:end]
                self.pos = end + 2
                if self.pos > (1 << 20):  # a long stream: drop what was read
                    del self.body[:self.pos]
                    self.pos = 0
                return parse_block(block.decode())
            if self.ended:
                return None
            if not self._fill(deadline) and not self.ended and time.monotonic() > deadline:
                raise AssertionError("no SSE block within %ss (have %r)" % (timeout, self.body))

    def next_event(self, timeout=10):
        """The next block that is not a comment (keep-alive)."""
        deadline = time.monotonic() + timeout
        while True:
            b = self.next_block(max(0.01, deadline - time.monotonic()))
            if b is None or "comment" not in b or len(b) > 1:
                return b

    def close(self):
        self.s.close()


def parse_block(text):
    out = {}
    for line in text.split("\n"):
        if line.startswith(":"):
            out["comment"] = line[1:].strip()
            continue
        k, _, v = line.partition(":")
        out[k] = v[1:] if v.startswith(" ") else v
    if "data" in out and out["data"].startswith("{"):
        out["json"] = json.loads(out["data"])
    return out


def slurp(f, marker, n, timeout=30):
    """Reads raw bytes as fast as they come until `marker` was seen n times
    (parsed later with messages(): a client that keeps up, even on a busy
    machine)."""
    deadline = time.monotonic() + timeout
    seen, buf = 0, bytearray(f.raw)
    scan = 0
    while seen < n:
        f.s.settimeout(max(0.01, deadline - time.monotonic()))
        data = f.s.recv(1 << 20)
        assert data, "closed after %d of %d" % (seen, n)
        buf += data
        seen += buf.count(marker, scan)
        scan = max(scan, len(buf) - len(marker) + 1)
        assert time.monotonic() < deadline, "%d of %d within %ss" % (seen, n, timeout)
    f.raw = bytes(buf)


def messages(f, n, timeout=10):
    """The next n message events (gap/online/offline/keep-alive skipped);
    their descriptions and ids."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        b = f.next_event(max(0.01, deadline - time.monotonic()))
        assert b is not None, "stream ended after %d of %d" % (len(got), n)
        if b.get("event") is None and "id" in b:
            got.append((b["json"]["description"], b["id"]))
    return got


def until_event(f, name, timeout=10):
    """Reads up to (and returns) the next `event: name` block; the message
    events before it are returned too."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        b = f.next_event(max(0.01, deadline - time.monotonic()))
        assert b is not None, "stream ended before event %s (saw %r)" % (name, seen)
        if b.get("event") == name:
            return b, seen
        seen.append(b)


def stdin_camera(api, cam_id, *args):
    """A numbering camera whose events are the lines written to its stdin."""
    return Camera(api.url, "--id", cam_id, "--source", "stdin", *args, stdin=True)


def say(cam, *lines):
    cam.p.stdin.write("".join(s + "\n" for s in lines).encode())
    cam.p.stdin.flush()
