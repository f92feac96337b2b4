"""Integration tests for the camera end to end with the real api (the
camera's behaviour against a fake server is test_camera.py's).
"""
import json
import os
import signal
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from camfake import DEBUG, TS_RE, Proxy, exit_fast, feed, retries, seqs  # noqa: E402
from harness import Api, Async, Camera, get_json, wait_metric, wait_until  # noqa: E402


# --- end to end with the real api --------------------------------------------------

def logs(api, cam_id, timeout=10, **params):
    q = urllib.parse.urlencode(dict(camera=cam_id, timeout=timeout, **params))
    return get_json("%s/logs?%s" % (api.url, q), timeout=timeout + 5)


def wait_connected(api, cam_id):
    def ok():
        status, cams = get_json(api.url + "/cameras")
        return status == 200 and any(c["camera"] == cam_id and c["connected"] for c in cams)
    wait_until(ok, 5, "%s connected" % cam_id)


def wait_logs(api, cam_id, pred, timeout=10, **params):
    """Fetches until pred(records) holds; returns the records."""
    def ok():
        status, recs = logs(api, cam_id, **params)
        return recs if status == 200 and pred(recs) else None
    return wait_until(ok, timeout, "/logs matching for %s" % cam_id)


def test_e2e_logs_are_the_cameras_events():
    with Api() as api, Camera(api.url, "--id", "e1", "--interval", "0.02") as cam:
        recs = wait_logs(api, "e1", lambda r: len(r) >= 5)
        assert seqs(recs) == list(range(1, len(recs) + 1))
        assert all(TS_RE.match(r["timestamp"]) for r in recs)
        status, again = logs(api, "e1")
        assert status == 200 and again[:len(recs)] == recs  # copies, never removes
        status, two = logs(api, "e1", limit=2)
        assert status == 200 and len(two) == 2 and seqs(two)[0] > seqs(recs)[-1] - 2
        exit_fast(cam)


def test_e2e_stdin_lines_arrive_in_order():
    with Api() as api, Camera(api.url, "--id", "e2", "--source", "stdin", stdin=True) as cam:
        lines = ["line %d: caf\u00e9" % i for i in range(50)]
        feed(cam, lines)
        recs = wait_logs(api, "e2", lambda r: len(r) == 50)
        assert [r["description"] for r in recs] == lines
        exit_fast(cam)


def test_e2e_api_restart_on_same_port():
    api = Api()
    port = api.port
    with Camera(api.url, "--id", "e3", "--source", "stdin", *DEBUG, stdin=True) as cam:
        feed(cam, ["before"])
        wait_logs(api, "e3", lambda r: len(r) == 1)
        api.stop()
        wait_until(lambda: "retry in" in cam.stderr, 5, "camera backing off")
        feed(cam, ["while down"])
        # The back-off grows a little before the restart: its third step (1-2 s).
        wait_until(lambda: len(retries(cam)) >= 3, 10, "the third back-off")
        t0 = time.monotonic()
        with Api(port=port) as api2:
            recs = wait_logs(api2, "e3", lambda r: len(r) == 2, timeout=35)
            assert [r["description"] for r in recs] == ["before", "while down"]
            assert time.monotonic() - t0 < 35
        exit_fast(cam)


def test_e2e_20_cameras_in_parallel_no_cross_talk():
    with Api() as api:
        cams = [Camera(api.url, "--id", "p%02d" % i, "--source", "stdin", stdin=True)
                for i in range(20)]
        try:
            for i, c in enumerate(cams):
                feed(c, ["p%02d-%d" % (i, k) for k in range(5)])
            wait_metric(api, "camlogs_polls_held", 20, timeout=30)  # every camera polls
            for i in range(20):  # and has read its five lines
                wait_logs(api, "p%02d" % i, lambda r: len(r) == 5, timeout=30)
            reqs = [Async("GET", "%s/logs?camera=p%02d&timeout=10" % (api.url, i), timeout=15)
                    for i in range(20)]
            for i, r in enumerate(reqs):
                status, _, body = r.result(20)
                assert status == 200, (i, status, body)
                got = [x["description"] for x in json.loads(body)]
                assert got == ["p%02d-%d" % (i, k) for k in range(5)], (i, got)
        finally:
            for c in cams:
                c.kill()


def test_e2e_since_after_limit_has_no_gap():
    """A reader that fetched limit=N and then asks since=<newest stamp it saw>
    gets every event pushed after its first fetch, also those stamped in the
    same clock tick: stamps strictly increase (microseconds). The writer is
    paced on the reader: each round writes a batch, fetches limit=3 while the
    camera may still be reading it, writes a second batch, waits until the
    camera has read it, then fetches since; that answer is known exactly."""
    rounds, batch = 40, 1000
    with Api() as api, Camera(api.url, "--id", "g1", "--source", "stdin", "--retain", "1000000",
                              stdin=True) as cam:
        wait_connected(api, "g1")
        written = []
        pairs = []

        def write_batch():
            lines = ["f%06d" % k for k in range(len(written), len(written) + batch)]
            feed(cam, lines)
            written.extend(lines)
        for _ in range(rounds):
            write_batch()
            st, a = logs(api, "g1", limit=3)
            assert st == 200, st
            write_batch()
            wait_logs(api, "g1", lambda r: r and r[-1]["description"] == written[-1], limit=1)
            if not a:
                continue  # the camera had read nothing yet: no stamp to ask since
            st, b = logs(api, "g1", since=a[-1]["timestamp"])
            assert st == 200, st
            i = written.index(a[-1]["description"]) + 1
            assert [r["description"] for r in b] == written[i:], (a[-1], b[:2], written[i:i + 2])
            pairs.append((a, b))
        assert len(pairs) >= rounds - 1, len(pairs)
        n = len(written)
        full = wait_logs(api, "g1", lambda r: len(r) == n, timeout=20)
        assert [r["description"] for r in full] == written
        stamps = [r["timestamp"] for r in full]
        assert all(x < y for x, y in zip(stamps, stamps[1:])), "stamps not strictly increasing"
        index = {r["description"]: i for i, r in enumerate(full)}
        for a, b in pairs:  # the stamps too are exactly the stored ones
            i = index[a[-1]["description"]] + 1
            assert b == full[i:i + len(b)], (a[-1], b[:2], full[i:i + 2])
        exit_fast(cam)


class StallProxy(Proxy):
    """TCP proxy to `port` that swallows /send-stats uploads while .stall is
    set: a camera's upload that never arrives, with its poll still held."""

    def __init__(self, port):
        self.stall = True
        self.polls = 0
        self.listen(port)

    def _pump(self, src, dst, from_camera):
        held = False
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if from_camera and b.startswith(b"GET /control-channel"):
                    self.polls += 1
                held = held or (from_camera and self.stall and b.startswith(b"POST /send-stats"))
                if not held:
                    dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):  # one side gone: so is the other
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass



def test_e2e_camera_killed_while_fetch_waits():
    with Api("--connect-grace", "1") as api:
        proxy = StallProxy(api.port)
        cam = Camera(proxy.url, "--id", "e5", "--source", "stdin", stdin=True)
        try:
            feed(cam, ["a"])
            wait_until(lambda: "id=e5" in cam.stderr, 5, "camera started")
            t0 = time.monotonic()
            req = Async("GET", "%s/logs?camera=e5&timeout=20" % api.url, timeout=25)
            wait_until(lambda: "poll: 200" in cam.stderr, 10, "wake-up delivered")
            # its upload is stuck in the proxy; the api holds the camera's next poll
            wait_metric(api, "camlogs_polls_held", 1, timeout=10)
            cam.kill()
            status, _, body = req.result(10)
            dt = time.monotonic() - t0
            assert status == 502 and dt < 5, (status, dt, body)
        finally:
            cam.kill()
            proxy.close()
        with Camera(api.url, "--id", "e5", "--source", "stdin", stdin=True) as cam2:
            feed(cam2, ["b"])
            recs = wait_logs(api, "e5", lambda r: len(r) == 1)
            assert recs[0]["description"] == "b"
            exit_fast(cam2)


def test_e2e_events_survive_a_failed_upload():
    with Api() as api, Camera(api.url, "--id", "e6", "--source", "stdin", stdin=True) as cam:
        feed(cam, ["one", "two"])
        wait_logs(api, "e6", lambda r: len(r) == 2)
        wait_metric(api, "camlogs_polls_held", 1)  # holding its next poll
        cam.p.send_signal(signal.SIGSTOP)
        status, _ = logs(api, "e6", timeout=1)  # nobody answers: 504, fetch abandoned
        assert status == 504, status
        cam.p.send_signal(signal.SIGCONT)  # its late upload is refused (409)
        wait_until(lambda: "dropped, events kept" in cam.stderr, 5, "refused upload")
        feed(cam, ["three"])
        recs = wait_logs(api, "e6", lambda r: len(r) == 3)
        assert [r["description"] for r in recs] == ["one", "two", "three"]
        exit_fast(cam)


def test_e2e_operator_leaving_mid_wait_loses_nothing():
    """An operator whose reply cannot be given (it hung up while the fetch
    waited) takes nothing with it: the next /logs has every event."""
    with Api() as api, Camera(api.url, "--id", "e7", "--source", "stdin", stdin=True) as cam:
        feed(cam, ["one", "two"])
        wait_logs(api, "e7", lambda r: len(r) == 2)
        wait_metric(api, "camlogs_polls_held", 1)  # holding its next poll
        cam.p.send_signal(signal.SIGSTOP)  # the fetch waits for the camera's upload
        try:
            s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
            s.sendall(b"GET /logs?camera=e7&timeout=20 HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_metric(api, "camlogs_logs_waiting", 1)
            s.close()  # the operator leaves mid-wait
            wait_metric(api, "camlogs_logs_waiting", 0)
        finally:
            cam.p.send_signal(signal.SIGCONT)
        feed(cam, ["three"])
        recs = wait_logs(api, "e7", lambda r: len(r) == 3)
        assert [r["description"] for r in recs] == ["one", "two", "three"]
        exit_fast(cam)


def test_e2e_camera_token_accepted_and_wrong_one_backs_off():
    import hashlib
    import hmac
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        secret = b"0123456789abcdef-secret"
        path = os.path.join(d, "secret")
        with open(path, "wb") as f:
            f.write(secret + b"\n")
        os.chmod(path, 0o600)
        token = hmac.new(secret, b"k1", hashlib.sha256).hexdigest()
        with Api("--camera-secret-file", path) as api, \
                Camera(api.url, "--id", "k1", "--token", token, "--interval", "0.05") as good, \
                Camera(api.url, "--id", "k2", "--token", token) as bad:
            wait_logs(api, "k1", lambda r: len(r) >= 1)
            wait_until(lambda: "status 401" in bad.stderr, 5, "401 for another camera's token")
            assert "retry in" in bad.stderr and token not in good.stderr + bad.stderr
            exit_fast(good)
            exit_fast(bad)


def test_e2e_https_verified_with_cacert():
    import shutil
    import subprocess
    import tempfile
    assert shutil.which("openssl"), "no openssl command (scripts/deps.sh installs it)"
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        with Api("--tls-cert", cert, "--tls-key", key) as api:
            url = api.url.replace("http://", "https://")
            with Camera(url, "--id", "s1", "--cacert", cert, "--interval", "0.05") as good, \
                    Camera(url, "--id", "s2") as unverified:
                wait_until(lambda: logs_tls(api, "s1", cert), 10, "fetch over https")
                wait_until(lambda: "retry in" in unverified.stderr, 5, "certificate refused")
                # curl's error buffer names the failed check, not just "error 60"
                assert "SSL certificate problem" in unverified.stderr, unverified.stderr
                exit_fast(good)
                exit_fast(unverified)


def logs_tls(api, cam_id, cert):
    import http.client
    import ssl
    ctx = ssl.create_default_context(cafile=cert)
    c = http.client.HTTPSConnection("127.0.0.1", api.port, context=ctx, timeout=10)
    try:
        c.request("GET", "/logs?camera=%s&timeout=5" % cam_id)
        r = c.getresponse()
        body = r.read()
        return r.status == 200 and len(json.loads(body)) >= 1
    finally:
        c.close()


if __name__ == "__main__":
    harness.run(globals())
