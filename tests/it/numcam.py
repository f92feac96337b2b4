"""A scripted camera on raw HTTP (http.client sockets) for the api's side of
v1.2 (PROTOCOL.md "Event numbers and cursors"): it holds an epoch and a
numbered history, polls /control-channel with its epoch, and answers a
wake-up the way the contract says a camera does (its own `after`, then
`since`, then `limit`), so that the tests control exactly what the api is
sent. `model_reply` is the contract's full-fetch reply, computed here
independently of the api.
"""
import json
import os
import sys
import urllib.parse
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Async, http, metric, wait_until  # noqa: E402


def instant(ts):
    """A sortable key for an RFC 3339 timestamp the tests write (UTC, 'Z',
    fractions of any length, no leap seconds)."""
    d = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
    frac = ts[19:-1].lstrip(".")
    return (d, int(frac.ljust(9, "0")) if frac else 0)


def select(events, since=None, limit=None):
    """events (seq, desc, ts) after `since` (strictly later), then the last `limit`."""
    out = [e for e in events if since is None or instant(e[2]) > instant(since)]
    if limit:
        out = out[-limit:]
    return out


class NumCam:
    """A numbering camera: events (seq, description, timestamp), the oldest
    held at index 0; epoch None = a 1.1 camera."""

    def __init__(self, api, cid, epoch="e0000000000000001"):
        self.api, self.cid, self.epoch = api, cid, epoch
        self.events = []
        self.next = 1
        self.poll = None
        self.uploads = []  # (wake-up message, query, body)

    def add(self, n=1, ts=None, desc="ev"):
        for _ in range(n):
            stamp = ts or "2026-11-28T06:%02d:%02d.%03dZ" % (
                (self.next // 60000) % 60, (self.next // 1000) % 60, self.next % 1000)
            self.events.append((self.next, "%s %d" % (desc, self.next), stamp))
            self.next += 1

    def drop_below(self, first):
        self.events = [e for e in self.events if e[0] >= first]

    def restart(self, epoch):
        """A new history (no store): numbering starts again at 1."""
        self.epoch, self.events, self.next = epoch, [], 1

    def first(self):
        return self.events[0][0] if self.events else self.next

    def query(self):
        q = "camera=" + self.cid
        return q + ("&epoch=" + self.epoch if self.epoch else "")

    def start_poll(self):
        """Holds a poll; waits until the api holds it."""
        held = metric(self.api, "camlogs_polls_held") or 0
        self.poll = Async("GET", self.api.url + "/control-channel?" + self.query(), timeout=30)
        wait_until(lambda: self.poll.done() or metric(self.api, "camlogs_polls_held") > held,
                   10, "the poll held")

    def selected(self, msg):
        ev = self.events
        after = msg.get("after")
        if after and self.epoch and after.rsplit(":", 1)[0] == self.epoch:
            s = int(after.rsplit(":", 1)[1])
            ev = [e for e in ev if e[0] > s]
        return select(ev, msg.get("since"), msg.get("limit"))

    def body(self, recs, seq=True):
        lines = []
        for s, d, t in recs:
            o = {"description": d, "timestamp": t}
            if seq and self.epoch:
                o["seq"] = s
            lines.append(json.dumps(o, separators=(",", ":")))
        return ("".join(ln + "\n" for ln in lines) + "EOL %d\n" % len(recs)).encode()

    def wake(self, timeout=10):
        """The wake-up message of the held poll."""
        s, _, b = self.poll.result(timeout)
        assert s == 200, (s, b)
        return json.loads(b)

    def upload(self, msg, body=None):
        q = self.query() + "&request_id=" + msg["request_id"]
        if self.epoch:
            q += "&first=%d" % self.first()
        if body is None:
            body = self.body(self.selected(msg))
        self.uploads.append((msg, q, body))
        return http("POST", self.api.url + "/send-stats?" + q, body=body)

    def serve(self):
        """Answers the held poll's wake-up; returns its message."""
        msg = self.wake()
        s, _, b = self.upload(msg)
        assert s == 200, (s, b)
        return msg


def logs(api, cam, params="", serve=True, timeout=10):
    """A /logs for cam with `params` (a query string after camera=); the
    camera polls and answers. Returns (status, headers, parsed body, the
    wake-up message or None)."""
    cam.start_poll()
    url = api.url + "/logs?camera=" + cam.cid + ("&" + params if params else "")
    a = Async("GET", url, timeout=timeout)
    msg = cam.serve() if serve else None
    s, h, b = a.result(timeout)
    return s, h, json.loads(b) if b else None, msg


def model_reply(cam, params):
    """What a full fetch returns for `params` (dict): the camera's events
    after `after` (unless a gap), since, limit; and whether it is a gap."""
    ev, gap = cam.events, False
    after = params.get("after")
    if after:
        epoch, s = after.rsplit(":", 1)
        if epoch != cam.epoch or int(s) + 1 < cam.first():
            gap = True
        else:
            ev = [e for e in ev if e[0] > int(s)]
    out = select(ev, params.get("since"), params.get("limit"))
    return [{"description": d, "timestamp": t} for _, d, t in out], gap


def qs(params):
    return urllib.parse.urlencode(params, safe=":")
