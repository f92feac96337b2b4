"""Following a camera (GET /logs?follow=1) through the shipped nginx front
door (docs/DEPLOY.md "Follow streams") while things restart under it: every
event of the camera reaches the follower exactly once and in order across

- a camera restarted with --store, by SIGTERM and by kill -9 (same epoch:
  no event lost that the store has, none repeated, no gap);
- a camera restarted without a store (a new epoch: one `gap`, then on);
- an api process killed (kill -9): the follower reconnects with
  Last-Event-ID through nginx, to the process the camera moved to;
- that process coming back and the rebalancing step: the process the
  camera left ends its followers with `event: end` ("rebalance") and they
  resume on the owner; a follower of a camera that stays sees no end;
- an api process stopped (SIGTERM): `event: end` ("shutdown"), and the
  follower resumes on the process the camera goes to.
Also: follow=1 routed as the api reads it, a hang-up passed on, a follower
over HTTP/2 at the TLS front door, and an nginx reload (old workers close
the streams they hold, which resume on new workers).

Two api processes behind nginx; cameras read their events from stdin, so
the test knows every event. The follower (Resumer, below, on follow_lib's
SSE client) reconnects like EventSource, with Last-Event-ID.
"""
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Camera, Proc, http, wait_until  # noqa: E402
from frontdoor import Front, Node, access_fields, free_ports, rebalance  # noqa: E402
from follow_lib import Follower  # noqa: E402

GRACE = 1.0
SPREAD = 0.5
HOLD = 3  # --follow-hold: several follow uploads in each test, and their hand-overs
POLL_TIMEOUT = 40  # only the rebalancing step moves a camera in these tests


@functools.lru_cache(maxsize=None)
def slack():
    """Extra seconds on deadlines for a loaded machine (ASan: more). Once:
    harness.sanitized() runs ldd."""
    return 10.0 if harness.sanitized() else 4.0


class Resumer:
    """Follows a camera through the front door like EventSource: a stream
    that ends (`end`, or its connection closes) is opened again with
    Last-Event-ID. events: every block but comments, of every stream, in
    order; streams: how many were opened. Read only inside wait()."""

    def __init__(self, port, cam):
        self.port, self.cam = port, cam
        self.last_id, self.events, self.streams, self.f = None, [], 0, None

    def _open(self, deadline):
        while True:
            try:
                hdr = {"Last-Event-ID": self.last_id} if self.last_id else None
                self.f = Follower(self.port, "camera=" + self.cam, headers=hdr)
                assert self.f.status == 200, (self.f.status, self.f.head_body)
                self.streams += 1
                return
            except (OSError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # no api reachable for a moment: the next try

    def wait(self, pred, timeout, what):
        """Reads (reconnecting as needed) until pred(self) holds."""
        deadline = time.monotonic() + timeout
        while not pred(self):
            left = deadline - time.monotonic()
            assert left > 0, "timed out after %.1fs waiting for %s; %d streams, events %s" % (
                timeout, what, self.streams, self.events)
            if self.f is None:
                self._open(deadline)
            try:
                b = self.f.next_event(min(left, 0.5))
            except AssertionError:  # nothing within the slice: check pred again
                continue
            if b is None:  # the stream ended: resume
                self.f.close()
                self.f = None
                continue
            if "data" not in b:  # retry: (no event)
                continue
            b.setdefault("event", "message")
            if b["event"] == "message":
                self.last_id = b["id"]
            self.events.append(b)

    def messages(self):
        return [e for e in self.events if e["event"] == "message"]

    def of(self, kind):
        return [e["json"] for e in self.events if e["event"] == kind]

    def close(self):
        if self.f is not None:
            self.f.close()


class Cluster:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="test_follow_cluster.")
        args = ["--poll-timeout", str(POLL_TIMEOUT), "--connect-grace", str(GRACE),
                "--rebalance-spread", str(SPREAD), "--follow-hold", str(HOLD)]
        ports = free_ports(2)
        self.nodes = [Node("n%d" % (i + 1), ports[i], args) for i in range(2)]
        self.cams, self.pushed, self.followers = {}, {}, []
        try:
            for n in self.nodes:
                n.start()
            self.front = Front(self.nodes, tmp=self.tmp)
        except BaseException:
            self.stop()
            raise

    def camera(self, cid, *args):
        """Starts (or restarts) camera cid on stdin through the front door."""
        self.cams[cid] = Camera(self.front.url, "--id", cid, "--source", "stdin", *args,
                                stdin=True)
        self.pushed.setdefault(cid, [])
        return self.cams[cid]

    def push(self, cid, *texts):
        for t in texts:
            self.pushed[cid].append(t)
            self.cams[cid].p.stdin.write((t + "\n").encode())
        self.cams[cid].p.stdin.flush()

    def follow(self, cid):
        f = Resumer(self.front.port, cid)
        self.followers.append(f)
        return f

    def owner(self, cid):
        """The node holding cid's poll (its /cameras says connected)."""
        for n in self.nodes:
            if n.api is None or not n.api.alive():
                continue
            s, _, b = http("GET", n.url + "/cameras?connected=1")
            if s == 200 and any(c["camera"] == cid for c in json.loads(b)):
                return n
        return None

    def stop(self):
        for f in self.followers:
            f.close()
        for c in self.cams.values():
            c.kill()
        if getattr(self, "front", None) is not None:
            self.front.stop()
        bad = []
        for n in self.nodes:  # SIGTERM: a sanitizer's report (a leak) fails the test
            if n.api is not None and n.api.alive():
                rc = n.api.stop(signal.SIGTERM, timeout=20)
                n.api.join_stderr()
                if rc != 0 or "Sanitizer" in n.api.stderr:
                    bad.append((n.name, rc, n.api.stderr[-3000:]))
            n.stop()
        assert not bad, bad


def descs(f):
    return [e["json"]["description"] for e in f.messages()]


def check_order(f):
    """Every message's id is a cursor, seqs strictly increasing within an epoch."""
    last = {}
    for e in f.messages():
        epoch, seq = e["id"].split(":")
        assert int(seq) > last.get(epoch, 0), ("out of order or repeated", e, f.events)
        last[epoch] = int(seq)


def wait_all(cl, f, cid, what):
    """Waits until the follower has got exactly what was pushed to cid (and
    never more: a repeat fails at once)."""
    def done():
        got = descs(f)
        assert got == cl.pushed[cid][:len(got)], (what, got, cl.pushed[cid])
        return len(got) == len(cl.pushed[cid])
    f.wait(lambda _: done(), 10 + slack(), what)
    check_order(f)


def gaps(f):
    return f.of("gap")


def raw_follow(cl, query):
    """A follow request on a raw socket; returns it once the head is in."""
    c = socket.create_connection(("127.0.0.1", cl.front.port), timeout=10)
    c.sendall(b"GET /logs?%s HTTP/1.1\r\nHost: x\r\n\r\n" % query.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        assert d, head
        head += d
    return c, head


def test_follow_streams_routed_and_hangups_passed_on():
    """follow=1, however escaped, takes the follow location, on the camera's
    ring position; follow=0 does not; a client that leaves frees the
    follower in the api at once."""
    cl = Cluster()
    try:
        queries = ["camera=cam1&follow=1", "follow=1&camera=cam1", "camera=cam%31&follow=1",
                   "camera=cam1&fol%6Cow=%31"]
        for q in queries:  # each closed, and gone from the api (so logged), in turn
            c, head = raw_follow(cl, q)
            assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head, (q, head)
            c.close()
            wait_until(lambda: sum(n.metric("camlogs_followers") for n in cl.nodes) == 0,
                       1 + slack(), "the follower gone")
        c, head = raw_follow(cl, "camera=cam1&follow=0&timeout=0.1")
        c.close()
        lines = [access_fields(x) for x in cl.front.access_log()]
        lines = [f for f in lines if f["camera"] == "cam1"]
        reqs = [f["request"] for f in lines]
        assert reqs == ["GET /_camlogs/follow"] * 4 + ["GET /logs"], lines
        assert len({f["upstream"][0] for f in lines}) == 1, lines

        owner = next(n for n in cl.nodes if "127.0.0.1:%d" % n.port == lines[0]["upstream"][0])
        c, head = raw_follow(cl, "camera=cam1&follow=1")
        wait_until(lambda: owner.metric("camlogs_followers") == 1, 5, "a follower")
        t0 = time.monotonic()
        c.close()
        wait_until(lambda: owner.metric("camlogs_followers") == 0, 1 + slack(), "freed")
        print("     follower freed %.3fs after the client left" % (time.monotonic() - t0))
    finally:
        cl.stop()


def test_follow_over_http2_at_the_tls_front_door():
    """A browser reaches nginx over HTTP/2 (the api itself answers an HTTP/2
    follower 505): nginx follows over HTTP/1.1 and relays the stream."""
    out = subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout
    if "HTTP2" not in out:
        raise harness.Skip("curl without HTTP/2")
    tmp = tempfile.mkdtemp(prefix="test_follow_cluster.")
    cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=front", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    node = Node("n1", free_ports(1)[0]).start()
    front = cam = curl = None
    try:
        front = Front([node], tmp=tmp, tls=(cert, key))
        cam = Camera(front.url, "--id", "h2", "--source", "stdin", stdin=True)
        curl = Proc(["curl", "-sSN", "--http2", "-D", "-", "--cacert", cert,
                     front.tls_url + "/logs?camera=h2&follow=1"])
        lines = []

        def read():
            for ln in curl.p.stdout:
                lines.append(ln)
        threading.Thread(target=read, daemon=True).start()
        wait_until(lambda: node.metric("camlogs_followers") == 1, 10, "the follower")
        cam.p.stdin.write(b"e1\ne2\n")
        cam.p.stdin.flush()
        wait_until(lambda: sum(b'"description":"e' in ln for ln in lines) == 2, 10 + slack(),
                   "both events over HTTP/2")
        assert lines[0].startswith(b"HTTP/2 200"), lines
    finally:
        for p in (curl, cam):
            if p is not None:
                p.kill()
        if front is not None:
            front.stop()
        node.stop()


def test_nginx_reload_moves_followers_to_new_workers():
    """After a reload the old worker closes the follow streams it still
    holds at worker_shutdown_timeout (330 s shipped; 2 s here, written into
    the rendered nginx.conf before nginx starts), and each resumes on a new
    worker exactly once."""
    generate = Front.generate

    def short(front):
        generate(front)
        with open(front.conf) as fh:
            text = fh.read()
        assert "worker_shutdown_timeout 330s;" in text
        with open(front.conf, "w") as fh:
            fh.write(text.replace("worker_shutdown_timeout 330s;", "worker_shutdown_timeout 2s;"))
    Front.generate = short
    try:
        cl = Cluster()
    finally:
        Front.generate = generate
    try:
        cl.camera("r1")
        f = cl.follow("r1")
        cl.push("r1", "r1-1")
        wait_all(cl, f, "r1", "before the reload")
        cl.front.proc.send_signal(signal.SIGHUP)
        f.wait(lambda r: r.streams == 2, 2 + slack() + 5, "the stream resumed on a new worker")
        cl.push("r1", "r1-2")
        wait_all(cl, f, "r1", "after the reload")
    finally:
        cl.stop()


def run_restarts(store):
    cl = Cluster()
    try:
        args = ("--store", os.path.join(cl.tmp, "store")) if store else ()
        cl.camera("cam", *args)
        f = cl.follow("cam")
        cl.push("cam", "a1", "a2", "a3")
        wait_all(cl, f, "cam", "the first events")
        cl.cams["cam"].stop(signal.SIGTERM)
        cl.camera("cam", *args)
        cl.push("cam", "b1", "b2")
        wait_all(cl, f, "cam", "the events after a SIGTERM restart")
        if store:
            cl.cams["cam"].kill()  # kill -9
            cl.camera("cam", *args)
            cl.push("cam", "c1", "c2")
            wait_all(cl, f, "cam", "the events after a kill -9 restart")
        return cl, f
    except BaseException:
        cl.stop()
        raise


def test_camera_restart_with_store():
    """SIGTERM then kill -9: one epoch throughout, every event once, no gap."""
    cl, f = run_restarts(store=True)
    try:
        assert gaps(f) == [], gaps(f)
        assert len({e["id"].split(":")[0] for e in f.messages()}) == 1, f.messages()
        assert f.of("end") == [], f.events
    finally:
        cl.stop()


def test_camera_restart_without_store():
    """A new epoch: exactly one gap, naming the old cursor and the new epoch."""
    cl, f = run_restarts(store=False)
    try:
        g = gaps(f)
        assert len(g) == 1, f.events
        old, new = f.messages()[2]["id"], f.messages()[3]["id"]
        assert g[0]["after"] == old and g[0]["camera"] == "cam", (g, old)
        # The new epoch's camera holds all of it: next is before its first event.
        assert g[0]["next"] == new.split(":")[0] + ":0", (g, new)
        kinds = [e["event"] for e in f.events if e["event"] in ("message", "gap")]
        assert kinds == ["message"] * 3 + ["gap"] + ["message"] * 2, f.events
    finally:
        cl.stop()


def cameras_on_both(cl):
    """Starts cameras until each node holds one; returns {node name: cam id}."""
    by_node = {}
    for i in range(12):
        cid = "k%d" % i
        cl.camera(cid)
        n = wait_until(lambda: cl.owner(cid), 10 + slack(), cid + " connected")
        by_node.setdefault(n.name, cid)
        if len(by_node) == 2:
            return by_node
    raise AssertionError("12 cameras all on one node: %s" % by_node)


def test_api_kill9_then_rebalance():
    """The moving camera leaves `other` either at the rebalance's 204 or, if
    a follow upload ends first, at its next poll (nginx already points at
    the restarted owner): both are a departure after the rebalance marked
    it (tests/test_follow.c checks each side of the mark in C)."""
    cl = Cluster()
    try:
        by_node = cameras_on_both(cl)
        victim, other = cl.nodes[0], cl.nodes[1]
        moving, staying = by_node[victim.name], by_node[other.name]
        fm, fs = cl.follow(moving), cl.follow(staying)
        for cid in (moving, staying):
            cl.push(cid, cid + "-1", cid + "-2")
        wait_all(cl, fm, moving, "before the kill")
        wait_all(cl, fs, staying, "before the kill (the other camera)")

        victim.kill9()
        cl.push(moving, moving + "-3", moving + "-4")
        wait_all(cl, fm, moving, "after kill -9 of its api, through the next server")
        assert fm.streams >= 2, "the follower did not reconnect"
        assert cl.owner(moving) is other

        victim.start()
        t = time.monotonic()
        rebalance(cl.front.nodes_file, except_name=victim.name)
        fm.wait(lambda f: f.of("end"), GRACE + SPREAD + HOLD + slack(), "end (rebalance)")
        assert fm.of("end") == [{"camera": moving, "reason": "rebalance"}], fm.events
        cl.push(moving, moving + "-5", moving + "-6")
        wait_all(cl, fm, moving, "after the rebalance, on the camera's owner")
        print("     follower back on the owner %.2fs after the rebalance" % (time.monotonic() - t))
        assert cl.owner(moving) is victim
        assert victim.metric("camlogs_followers") == 1.0
        assert other.metric("camlogs_followers") == 1.0  # the staying camera's

        cl.push(staying, staying + "-3")
        wait_all(cl, fs, staying, "the staying camera after the rebalance")
        assert fs.streams == 1 and fs.of("end") == [], fs.events

        # The staying camera's process stops (SIGTERM): `end` (shutdown), and
        # its follower goes on, through nginx, where the camera goes.
        assert other.api.stop(signal.SIGTERM, timeout=20) == 0, other.api.stderr[-3000:]
        cl.push(staying, staying + "-4")
        wait_all(cl, fs, staying, "after its api stopped")
        assert fs.of("end") == [{"camera": staying, "reason": "shutdown"}], fs.events
        assert cl.owner(staying) is victim
        assert gaps(fm) == [] and gaps(fs) == [], (fm.events, fs.events)
    finally:
        cl.stop()


if __name__ == "__main__":
    harness.run(globals())
