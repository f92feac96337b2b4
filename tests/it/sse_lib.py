"""A Server-Sent Events client for the integration tests (GET /logs?follow=1,
docs/API.md): one raw HTTP/1.1 connection read by a thread of its own, the
body (chunked, or up to the close) parsed into events as the W3C parser
does; and a Follower that reconnects with Last-Event-ID the way a browser's
EventSource does, so a test can check that every event came exactly once
and in order across ends, kills and restarts.

Every wait has a deadline. Nothing here sleeps to let something happen:
waits are on a condition the reader thread signals.
"""
import json
import socket
import threading
import time
import urllib.parse


class Event:
    """One dispatched event: type ("message" unless `event:` said), id (the
    last `id:` seen, as the W3C parser keeps it), data (lines joined by LF)."""

    def __init__(self, type_, id_, data):
        self.type, self.id, self.data = type_, id_, data

    def json(self):
        return json.loads(self.data)

    def __repr__(self):
        return "Event(%s, id=%s, %s)" % (self.type, self.id, self.data)


class Stream:
    """One GET on a raw socket. status/headers/body once the head (and, for
    a reply that is not 200 text/event-stream, the body) is read; events,
    comments (their count), retry and closed as the stream goes."""

    def __init__(self, url, headers=None, last_event_id=None, connect_timeout=5):
        u = urllib.parse.urlsplit(url)
        self.status, self.headers, self.body = None, {}, b""
        self.events, self.comments, self.retry, self.closed, self.error = [], 0, None, False, None
        self.cond = threading.Condition()
        self.last_id = last_event_id or ""
        hdrs = dict(headers or {})
        if last_event_id:
            hdrs["Last-Event-ID"] = last_event_id
        head = "GET %s HTTP/1.1\r\nHost: %s\r\n" % (u.path + ("?" + u.query if u.query else ""),
                                                  u.netloc)
        head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        self.sock = socket.create_connection((u.hostname, u.port), timeout=connect_timeout)
        self.sock.settimeout(None)
        self.sock.sendall(head.encode())
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # The reader thread ------------------------------------------------------------
    def _run(self):
        self.buf, self.pending = b"", {"event": "", "data": []}
        try:
            self._head()
            chunked = "chunked" in self.headers.get("transfer-encoding", "")
            sse = self.status == 200 and "event-stream" in self.headers.get("content-type", "")
            while True:
                data = self._chunk() if chunked else self._recv()
                if not data:
                    break
                if sse:
                    self._feed(data)
                else:
                    self.body += data
        except OSError as e:
            self.error = e
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def _recv(self):
        if self.buf:
            d, self.buf = self.buf, b""
            return d
        return self.sock.recv(65536)

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise OSError("connection closed in a line")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise OSError("connection closed in a chunk")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _head(self):
        status = self._line().decode()
        self.status = int(status.split()[1])
        while True:
            line = self._line().decode()
            if not line:
                break
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        with self.cond:
            self.cond.notify_all()

    def _chunk(self):
        size = int(self._line().split(b";")[0], 16)
        data = self._exact(size)
        self._line()
        return data

    def _feed(self, data):
        self.sbuf = getattr(self, "sbuf", b"") + data
        while True:
            cut = [i for i in (self.sbuf.find(b"\n"), self.sbuf.find(b"\r")) if i >= 0]
            if not cut:
                return
            i = min(cut)
            if self.sbuf[i:i + 1] == b"\r" and i + 1 == len(self.sbuf):
                return  # a CR at the end: wait for a possible LF
            line = self.sbuf[:i].decode()
            skip = 2 if self.sbuf[i:i + 2] == b"\r\n" else 1
            self.sbuf = self.sbuf[i + skip:]
            self._field(line)

    def _field(self, line):
        p = self.pending
        if line == "":
            if p["data"]:
                ev = Event(p["event"] or "message", self.last_id, "\n".join(p["data"]))
                with self.cond:
                    self.events.append(ev)
                    self.cond.notify_all()
            self.pending = {"event": "", "data": []}
            return
        if line.startswith(":"):
            with self.cond:
                self.comments += 1
                self.cond.notify_all()
            return
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            p["data"].append(value)
        elif name == "event":
            p["event"] = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry = int(value)

    # The test's side ----------------------------------------------------------
    def wait(self, pred, timeout, what):
        """Waits until pred(self) is true (checked under the lock, at each
        thing the reader adds); fails after timeout seconds."""
        end = time.monotonic() + timeout
        with self.cond:
            while not pred(self):
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.1fs waiting for %s; %s" %
                                         (timeout, what, self.summary()))
                self.cond.wait(left)

    def wait_head(self, timeout=10):
        self.wait(lambda s: s.status is not None or s.closed, timeout, "the reply's head")
        return self.status

    def messages(self):
        return [e for e in self.events if e.type == "message"]

    def of_type(self, type_):
        return [e for e in self.events if e.type == type_]

    def summary(self):
        return "status %s, %d events (last %s), closed %s %s" % (
            self.status, len(self.events), self.events[-1:], self.closed, self.error or "")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


class Follower:
    """Follows one camera like EventSource: a stream that ends is opened
    again with Last-Event-ID after `retry_s` (connection refused: again,
    until `give_up_s` without a stream). streams holds every Stream opened;
    messages() is every message event of all of them, in order."""

    def __init__(self, base_url, camera, headers=None, query="", retry_s=0.05, give_up_s=30):
        self.url = "%s/logs?camera=%s&follow=1%s" % (base_url, urllib.parse.quote(camera),
                                                     "&" + query if query else "")
        self.headers, self.retry_s, self.give_up_s = headers, retry_s, give_up_s
        self.streams, self.stopped = [], False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _open(self):
        last = self.streams[-1].last_id if self.streams else None
        end = time.monotonic() + self.give_up_s
        while not self.stopped:
            try:
                return Stream(self.url, self.headers, last_event_id=last)
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(self.retry_s)  # a refused connect: the next try
        return None

    def _run(self):
        while not self.stopped:
            s = self._open()
            if s is None:
                return
            with self.cond:
                self.streams.append(s)
                self.cond.notify_all()
            s.cond.acquire()
            while not s.closed and not self.stopped:
                s.cond.wait(0.2)
                with self.cond:
                    self.cond.notify_all()
            s.cond.release()
            if s.status not in (None, 200) or self.ends_for_good(s):
                return
            time.sleep(self.retry_s)

    @staticmethod
    def ends_for_good(s):
        """An `end` after which the contract says not to reconnect."""
        ends = s.of_type("end")
        return bool(ends) and ends[-1].json().get("reason") in ("revoked", "not numbered")

    def events(self):
        return [e for s in list(self.streams) for e in list(s.events)]

    def messages(self):
        return [e for e in self.events() if e.type == "message"]

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while not pred(self):
            left = end - time.monotonic()
            if left <= 0:
                last = self.streams[-1].summary() if self.streams else "no stream"
                raise AssertionError("timed out after %.1fs waiting for %s; %d streams, %s" %
                                     (timeout, what, len(self.streams), last))
            with self.cond:
                self.cond.wait(min(left, 0.2))

    def close(self):
        self.stopped = True
        for s in list(self.streams):
            s.close()
        self.thread.join(5)
