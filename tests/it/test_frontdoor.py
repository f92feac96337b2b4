"""The nginx front door's configuration, piece by piece (deploy/nginx/,
docs/DEPLOY.md): the hash key of percent-encoded ids, hang-ups passed to the
api, upload bodies streamed and routed by request id, the merged /cameras,
the per-node paths, TLS with the api's own auth, the /logs retry after a
503, and a node joining. nginx runs with the shipped configuration in a
temporary prefix; nodes are real api processes except where a test needs to
see exactly what nginx sends (a fake upstream)."""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPSConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Async, Camera, http, wait_until  # noqa: E402
from frontdoor import (Front, Node, access_fields, bearer, cam_token, free_ports,  # noqa: E402
                       rebalance, write_private)

TMP = tempfile.mkdtemp(prefix="test_frontdoor.")
OP = "frontdoor-operator-token-0123"


def slack():
    return 5.0 if harness.sanitized() else 2.0


def cluster(n, *args, extra_nodes=(), tls=None):
    ports = free_ports(n)
    nodes = [Node("n%d" % (i + 1), ports[i], args).start() for i in range(n)]
    return nodes, Front(nodes, tmp=tempfile.mkdtemp(dir=TMP), extra_nodes=extra_nodes, tls=tls)


def stop(nodes, front, *cams):
    try:
        for c in cams:
            c.kill()
        front.stop()
    finally:
        for n in nodes:
            n.stop()


def holder(nodes, cam, headers=None):
    """The node whose table says it holds camera `cam`'s poll, or None."""
    for n in nodes:
        s, _, b = http("GET", n.url + "/cameras", headers=headers or {})
        assert s == 200, (s, b)
        if any(c["camera"] == cam and c["connected"] for c in json.loads(b)):
            return n
    return None


def raw_poll(port, cam):
    """A poll on a raw socket (to close it at will)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /control-channel?camera=%s HTTP/1.1\r\nHost: x\r\n\r\n" % cam.encode())
    return s


def logs_lines(front, cam_query):
    return [f for f in map(access_fields, front.access_log())
            if f["request"] == "GET /logs" and f.get("camera") == cam_query]


def test_percent_encoded_camera_ids_hash_like_the_api_decodes_them():
    nodes, front = cluster(3)
    cam = Camera(front.url, "--id", "cam1", "--interval", "0.1")
    try:
        wait_until(lambda: holder(nodes, "cam1"), 10 + slack(), "cam1 connected")
        home = "127.0.0.1:%d" % holder(nodes, "cam1").port
        for q in ("camera=cam%31", "camera=%63%61%6D1", "%63amera=cam1",
                  "since=2000-01-01T00%3A00%3A00Z&camera=cam1", "x=%41&camera=cam1"):
            s, _, b = http("GET", front.url + "/logs?timeout=5&" + q)
            assert s == 200 and isinstance(json.loads(b), list), (q, s, b)
        lines = [f for f in map(access_fields, front.access_log()) if f["request"] == "GET /logs"]
        assert len(lines) == 5 and all(f["camera"] == "cam1" for f in lines), lines
        assert all(f["upstream"] == [home] for f in lines), (home, lines)
        # `Camera` is not `camera` to the api (camera default): nor here.
        s, _, b = http("GET", front.url + "/logs?timeout=0.5&Camera=cam1")
        assert s == 503 and json.loads(b).get("camera", "default") == "default", (s, b)
        f = [access_fields(x) for x in front.access_log()][-1]
        assert f["camera"] == "default", f
    finally:
        stop(nodes, front, cam)


def test_hangups_reach_the_api_at_once():
    nodes, front = cluster(1)
    n = nodes[0]
    try:
        s = raw_poll(front.port, "h1")
        wait_until(lambda: n.metric("camlogs_polls_held") == 1, 5, "poll held")
        w = socket.create_connection(("127.0.0.1", front.port), timeout=10)
        w.sendall(b"GET /logs?camera=h1&timeout=30 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200"), "wake-up"
        wait_until(lambda: n.metric("camlogs_logs_waiting") == 1, 5, "waiter")
        s2 = raw_poll(front.port, "h1")
        wait_until(lambda: n.metric("camlogs_polls_held") == 1, 5, "second poll held")
        t0 = time.monotonic()
        w.close()
        wait_until(lambda: n.metric("camlogs_logs_waiting") == 0, 1 + slack(), "waiter freed")
        s2.close()
        wait_until(lambda: n.metric("camlogs_polls_held") == 0, 1 + slack(), "poll freed")
        print("     both hang-ups seen by the api %.3fs after the close" % (time.monotonic() - t0))
        s.close()
    finally:
        stop(nodes, front)


class FakeUpstream:
    """A node that records what nginx sends: answers 413 as soon as it has
    the head, and closes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.got = b""
        self.head_at = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        c, _ = self.sock.accept()
        c.settimeout(10)
        while b"\r\n\r\n" not in self.got:
            self.got += c.recv(65536)
        self.head_at = time.monotonic()
        body = b'{"error":"body larger than --max-body"}'
        c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        # A lingering close, as the api's: closing with body bytes unread
        # would reset the connection, maybe before nginx read the reply. The
        # body is read and dropped until nginx, answered, closes its end.
        c.shutdown(socket.SHUT_WR)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()


def test_upload_bodies_are_streamed_not_buffered():
    fake = FakeUpstream()
    nodes, front = cluster(1, extra_nodes=[("f1", fake.port)])
    try:
        c = socket.create_connection(("127.0.0.1", front.port), timeout=10)
        c.sendall(b"POST /send-stats?camera=c&request_id=f1.0.1 HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 50000000\r\n\r\n" + b"x" * 1000)
        reply = c.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413"), reply
        assert b"--max-body" in reply, reply
        # The head reached the api while 49,999,000 bytes were still unsent,
        # and with the head came no body nginx would have had to hold.
        assert fake.head_at is not None and b"content-length: 50000000" in fake.got.lower()
        c.close()
    finally:
        stop(nodes, front)


def wake(front, node, cam):
    """A poll and a /logs for `cam` through the front door: (waiter, rid)."""
    p = raw_poll(front.port, cam)
    wait_until(lambda: node.metric("camlogs_polls_held") == 1, 5, "poll held")
    w = Async("GET", front.url + "/logs?timeout=20&camera=" + cam, timeout=30)
    msg = p.recv(4096)
    assert msg.startswith(b"HTTP/1.1 200"), msg
    p.close()
    return w, json.loads(msg.split(b"\r\n\r\n", 1)[1])["request_id"]


def test_the_apis_checks_from_the_head_and_early_502_hold_through_nginx():
    nodes, front = cluster(1, "--max-body", "1000")
    try:
        # Content-Length over --max-body: the api's JSON 413 from the head,
        # no body byte sent; the waiters know at once.
        w, rid = wake(front, nodes[0], "e1")
        c = socket.create_connection(("127.0.0.1", front.port), timeout=10)
        t0 = time.monotonic()
        c.sendall(b"POST /send-stats?camera=e1&request_id=%s HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 5000\r\n\r\n" % rid.encode())
        reply = c.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413") and b"application/json" in reply, reply
        s, _, b = w.result(10)
        assert s == 502 and time.monotonic() - t0 < 1 + slack(), (s, b)
        c.close()
        # A bad first line while the rest of the body is still coming: the
        # waiters get 502 at once, the upload's connection still open.
        w, rid = wake(front, nodes[0], "e2")
        c = socket.create_connection(("127.0.0.1", front.port), timeout=10)
        t0 = time.monotonic()
        c.sendall(b"POST /send-stats?camera=e2&request_id=%s HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 900\r\n\r\n{\"oops\n" % rid.encode())
        s, _, b = w.result(10)
        took = time.monotonic() - t0
        assert s == 502 and took < 1 + slack(), (s, b, took)
        c.close()
    finally:
        stop(nodes, front)


def test_uploads_follow_their_request_id_and_a_gone_node_is_409():
    nodes, front = cluster(2, extra_nodes=[("n9", free_ports(1)[0])])
    try:
        # A fetch made on each node directly (as after a ring change): its
        # upload through the front door must reach that node, whatever the
        # hash of the camera says.
        for n in nodes:
            p = Async("GET", n.url + "/control-channel?camera=rid1")
            wait_until(lambda: n.metric("camlogs_polls_held") == 1, 5, "poll")
            w = Async("GET", n.url + "/logs?camera=rid1&timeout=10")
            rid = json.loads(p.result(10)[2])["request_id"]
            assert rid.startswith(n.name + "."), rid
            s, _, b = http("POST", "%s/send-stats?camera=rid1&request_id=%s" % (front.url, rid),
                           body=b"EOL 0\n")
            assert s == 200, (n.name, s, b)
            assert w.result(10)[0] == 200
        s, h, b = http("POST", front.url + "/send-stats?camera=rid1&request_id=n9.0.1",
                       body=b"EOL 0\n")
        assert s == 409 and h["content-type"] == "application/json", (s, h, b)
        assert json.loads(b) == {"error": "the api process that issued this request_id is gone",
                                 "camera": "rid1"}, b
        # An id without a node's name goes by the camera's hash (the api says 409).
        s, _, b = http("POST", front.url + "/send-stats?camera=rid1&request_id=x1", body=b"EOL 0\n")
        assert s == 409 and "pending" in json.loads(b)["error"], (s, b)
    finally:
        stop(nodes, front)


def test_metrics_per_node_and_paths_kept_from_clients():
    nodes, front = cluster(2)
    try:
        for n in nodes:
            s, h, b = http("GET", "%s/nodes/%s/metrics" % (front.url, n.name))
            assert s == 200 and b"camlogs_polls_held" in b, (s, b)
            assert h["content-type"].startswith("text/plain"), h
        for method, path in (("GET", "/nodes/zz/metrics"), ("GET", "/metrics"),
                             ("POST", "/rebalance"), ("GET", "/_camlogs/node/n1/cameras")):
            s, h, b = http(method, front.url + path)
            assert s == 404 and h["content-type"] == "application/json", (path, s, h)
            assert "error" in json.loads(b), (path, b)
        s, _, b = http("GET", front.url + "/healthz")
        assert s == 200 and json.loads(b) == {"status": "ok"}, (s, b)
        s, _, b = http("GET", front.url + "/nosuch")
        assert s == 404 and json.loads(b)["error"] == "no such endpoint", (s, b)
    finally:
        stop(nodes, front)


def test_cameras_merged_sorted_one_entry_per_camera():
    ops = write_private(os.path.join(TMP, "ops"), OP + "\n")
    nodes, front = cluster(2, "--operator-token-file", ops, "--connect-grace", "0.2")
    socks = []
    try:
        for cam in ("b", "__proto__", "a", "zz"):
            socks.append(raw_poll(front.port, cam))
        # "dup" is known to both: connected on n1, gone from n2.
        socks.append(raw_poll(nodes[0].port, "dup"))
        gone = raw_poll(nodes[1].port, "dup")

        def held_on_n2():  # other cameras may hash to n2 too: look for dup itself
            s, _, b = http("GET", nodes[1].url + "/cameras", headers=bearer(OP))
            return s == 200 and any(c["camera"] == "dup" and c["connected"] for c in json.loads(b))
        wait_until(held_on_n2, 5 + slack(), "dup's poll held on n2")
        gone.close()

        def merged():
            s, h, b = http("GET", front.url + "/cameras", headers=bearer(OP))
            assert s == 200, (s, b)
            lst = json.loads(b)
            return (lst, h) if len(lst) == 5 and all(c["connected"] for c in lst) else None
        lst, h = wait_until(merged, 5 + slack(), "5 cameras merged")
        assert [c["camera"] for c in lst] == ["__proto__", "a", "b", "dup", "zz"], lst
        assert [c for c in lst if c["camera"] == "dup"][0]["node"] == "n1", lst
        assert set(c["node"] for c in lst) <= {"n1", "n2"} and "x-camlogs-missing" not in h
        s, h, b = http("GET", front.url + "/cameras")
        assert s == 401 and h.get("www-authenticate", "").startswith("Bearer"), (s, h)
        assert h["content-type"] == "application/json" and "error" in json.loads(b)
        nodes[1].stop()
        s, h, b = http("GET", front.url + "/cameras", headers=bearer(OP))
        assert s == 200 and h.get("x-camlogs-missing") == "n2", (s, h)
        assert all(c["node"] == "n1" for c in json.loads(b)), b
    finally:
        for s in socks:
            s.close()
        stop(nodes, front)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=TMP,
                   timeout=30)


def make_cert():
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "front.key", "-out", "front.pem", "-days", "2",
            "-subj", "/CN=front", "-addext", "subjectAltName=IP:127.0.0.1")
    return os.path.join(TMP, "front.pem"), os.path.join(TMP, "front.key")


def https(port, method, path, cafile, headers=None, body=None):
    c = HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(cafile=cafile),
                        timeout=15)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def test_tls_at_the_front_door_with_the_apis_tokens():
    secret = b"frontdoor-camera-secret-0123456"
    sfile = write_private(os.path.join(TMP, "secret"), secret)
    ops = write_private(os.path.join(TMP, "ops2"), OP + "\n")
    cert, key = make_cert()
    nodes, front = cluster(2, "--camera-secret-file", sfile, "--operator-token-file", ops,
                           tls=(cert, key))
    tok = write_private(os.path.join(TMP, "t1.token"), cam_token(secret, "t1"))
    cam = Camera(front.tls_url, "--id", "t1", "--interval", "0.1", "--token-file", tok,
                 "--cacert", cert)
    try:
        wait_until(lambda: holder(nodes, "t1", bearer(OP)), 10 + slack(), "t1 connected over TLS")
        def events():
            s, b = https(front.tls_port, "GET", "/logs?camera=t1&timeout=5", cert, bearer(OP))
            assert s == 200, (s, b)
            return json.loads(b)
        wait_until(events, 5 + slack(), "t1's events over TLS")
        s, b = https(front.tls_port, "GET", "/logs?camera=t1", cert, bearer("wrong" * 5))
        assert s == 401 and json.loads(b)["error"] == "missing or wrong operator token", (s, b)
        s, b = https(front.tls_port, "POST", "/send-stats?camera=t1", cert,
                     bearer(cam_token(secret, "t2")), b"EOL 0\n")
        assert s == 401 and "camera token" in json.loads(b)["error"], (s, b)
    finally:
        stop(nodes, front, cam)


def test_a_503_logs_is_tried_once_more_on_the_next_node():
    nodes, front = cluster(2, "--connect-grace", "1")
    try:
        # Where the ring sends camera m1, then its poll on the other node.
        p = raw_poll(front.port, "m1")
        owner = wait_until(lambda: holder(nodes, "m1"), 5, "m1 placed")
        p.close()
        other = [n for n in nodes if n is not owner][0]
        wait_until(lambda: owner.metric("camlogs_polls_held") == 0, 5, "poll gone")
        p = raw_poll(other.port, "m1")
        wait_until(lambda: other.metric("camlogs_polls_held") == 1, 5, "misplaced poll")
        t0 = time.monotonic()
        w = Async("GET", front.url + "/logs?camera=m1&timeout=10")
        wake = p.recv(4096)
        assert wake.startswith(b"HTTP/1.1 200"), wake
        rid = json.loads(wake.split(b"\r\n\r\n", 1)[1])["request_id"]
        http("POST", "%s/send-stats?camera=m1&request_id=%s" % (other.url, rid), body=b"EOL 0\n")
        s, _, b = w.result(10)
        took = time.monotonic() - t0
        assert s == 200 and json.loads(b) == [], (s, b)
        assert 1 - 0.1 <= took <= 1 + slack(), took
        f = logs_lines(front, "m1")[-1]
        assert f["upstream_status"] == ["503", "200"], f
        # An offline camera: 503 after both nodes' grace, the api's JSON.
        t0 = time.monotonic()
        s, _, b = http("GET", front.url + "/logs?camera=offline&timeout=10")
        took = time.monotonic() - t0
        assert s == 503 and json.loads(b).get("camera", "offline") == "offline", (s, b)
        assert logs_lines(front, "offline")[-1]["upstream_status"] == ["503", "503"]
        assert 2 - 0.1 <= took <= 2 + slack(), took
        p.close()
    finally:
        stop(nodes, front)


def test_a_node_joins_reload_then_rebalance():
    nodes, front = cluster(2, "--rebalance-spread", "1", "--poll-timeout", "40")
    ids = ["j%02d" % i for i in range(20)]
    cams = [Camera(front.url, "--id", c, "--interval", "0.2") for c in ids]
    new = Node("n3", free_ports(1)[0], ["--rebalance-spread", "1", "--poll-timeout", "40"])
    try:
        wait_until(lambda: sum(n.metric("camlogs_polls_held") for n in nodes) == 20,
                   15 + slack(), "20 polls held")
        new.start()
        front.reload([(n.name, n.port) for n in nodes + [new]])  # returns once in effect
        t0 = time.monotonic()
        out = rebalance(front.nodes_file)
        assert out.count('"polls":') == 3, out

        def settled():  # the spread is over and every camera polls again
            held = [n.metric("camlogs_polls_held") for n in nodes + [new]]
            over = time.monotonic() - t0 > 1.0
            return held if over and sum(held) == 20 and held[2] > 0 else None
        held = wait_until(settled, 2 + 1 + slack(), "cameras moved to n3")
        took = time.monotonic() - t0
        print("     polls per node after the join %s, %.2fs after the rebalance" % (held, took))
        # Every camera's /logs is answered by the node it is held on, first try.
        for c in ids:
            s, _, _ = http("GET", front.url + "/logs?timeout=5&camera=" + c)
            assert s == 200, (c, s)
        for f in [x for x in map(access_fields, front.access_log()) if
                  x["request"] == "GET /logs"]:
            assert len(f["upstream"]) == 1 and f["status"] == "200", f
    finally:
        stop(nodes + [new], front, *cams)


if __name__ == "__main__":
    harness.run(globals())
