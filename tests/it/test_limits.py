"""Descriptors and dead paths (issue 12, api side): --max-waiters and the
descriptor budget under prlimit --nofile=256, and TCP keep-alive on live
held connections (ss -tio). Real api processes over loopback.
"""
import json
import os
import re
import resource
import select
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Api, Async, hold_poll, http, metric, wait_metric, wait_until)  # noqa: E402


# --- descriptors, keep-alive -----------------------------------------------------------------

def test_max_waiters_flag():
    with Api("--max-waiters", "2") as api:
        ws = [Async("GET", api.url + "/logs?camera=mw&timeout=10") for _ in range(2)]
        wait_metric(api, "camlogs_logs_waiting", 2)
        t0 = time.monotonic()
        s, h, b = http("GET", api.url + "/logs?camera=mw&timeout=10")
        assert time.monotonic() - t0 < 2
        assert s == 503 and json.loads(b) == {"error": "too many /logs waiters",
                                              "camera": "mw"}, b
        assert h.get("connection") == "close", h
        assert not any(w.done() for w in ws)


def read_replies(socks, deadline):
    """Reads what each socket got until it closed or sent a whole reply head;
    returns {socket: bytes}, leaving sockets with no data yet as b""."""
    got = {s: b"" for s in socks}
    open_ = set(socks)
    while open_ and time.monotonic() < deadline:
        r, _, _ = select.select(list(open_), [], [], 0.2)
        if not r:
            break
        for s in r:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            got[s] += data
            if not data or b"\r\n\r\n" in got[s]:
                open_.discard(s)
    return got


def test_400_waiters_under_256_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    if shutil.which("prlimit") is None:
        raise harness.Skip("no prlimit")
    with Api("--poll-timeout", "0", "--connect-grace", "60",
             prefix=("prlimit", "--nofile=256")) as api:
        start = [l for l in api.err_lines if " started " in l] or wait_until(
            lambda: [l for l in api.err_lines if " started " in l], 5, "start line")
        cap = int(re.search(r"max_waiters=(\d+)", start[0]).group(1))
        polls = int(re.search(r"max_polls=(\d+)", start[0]).group(1))
        assert cap + polls <= 256 - 64, start[0]  # the budget keeps a reserve
        # A camera that takes the wake-up and never answers.
        p = hold_poll(api, "mute", 1)
        first = Async("GET", api.url + "/logs?camera=mute&timeout=60")
        assert p.result()[0] == 200
        socks = []
        for i in range(399):
            s = socket.create_connection(("127.0.0.1", api.port), timeout=10)
            s.sendall(b"GET /logs?camera=mute&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        got = read_replies(socks, time.monotonic() + 30)
        refused = [s for s, d in got.items() if d.startswith(b"HTTP/1.1 503")]
        assert all(b'"too many /logs waiters"' in got[s] for s in refused)
        assert len(refused) == 400 - cap, (len(refused), cap)
        assert metric(api, "camlogs_logs_waiting") == cap
        # /healthz and a new camera's poll are still served.
        assert http("GET", api.url + "/healthz", timeout=5)[0] == 200
        newcam = hold_poll(api, "newcam", 1)
        assert metric(api, "camlogs_polls_held") == 1 and not newcam.done()
        for s in socks:
            s.close()
        wait_metric(api, "camlogs_logs_waiting", 1, timeout=10)  # only `first` is left
        assert not first.done()


def keepalive_timers(port):
    """Seconds left on the keep-alive timer of each api-side connection on
    `port` (ss -tio), or None for a connection with no such timer."""
    out = subprocess.run(["ss", "-tion", "state", "established", "( sport = :%d )" % port],
                         capture_output=True, text=True, timeout=10).stdout
    timers = []
    for line in out.splitlines():
        if not re.search(r":%d\s" % port, line):
            continue
        m = re.search(r"timer:\(keepalive,(?:(\d+)min)?(?:(\d+)(?:\.\d+)?sec)?(?:(\d+)ms)?,", line)
        timers.append(None if not m else int(m.group(1) or 0) * 60 + int(m.group(2) or 0))
    return timers, out


def test_keepalive_on_held_connections():
    if shutil.which("ss") is None:
        raise harness.Skip("no ss (iproute2)")
    for args, lo, hi in (((), 45, 60), (("--tcp-keepalive", "20,5,3"), 10, 20),
                         (("--tcp-keepalive", "0"), None, None)):
        with Api("--poll-timeout", "0", *args) as api:
            p = hold_poll(api, "ka", 1)  # python's client sets no keep-alive of its own
            timers, out = keepalive_timers(api.port)
            assert len(timers) == 1, out
            if lo is None:
                assert timers == [None], out
            else:
                assert timers[0] is not None and lo <= timers[0] <= hi, (args, out)
            assert not p.done()


# --- the camera table ----------------------------------------------------------------------

def cameras(api):
    return {c["camera"]: c["connected"] for c in json.loads(http("GET", api.url + "/cameras")[2])}


def test_a_camera_shown_connected_is_neither_forgotten_nor_evicted():
    # The poll is answered 204 at once-ish (--poll-timeout 1); the camera then
    # lingers connected for the grace (3 s): the sweep (--forget-after 0) and
    # /logs for new ids in a full table must leave it alone meanwhile.
    with Api("--poll-timeout", "1", "--connect-grace", "3", "--forget-after", "0",
             "--max-cameras", "2") as api:
        assert http("GET", api.url + "/control-channel?camera=real", timeout=5)[0] == 204
        t0 = time.monotonic()
        for typo in ("typo1", "typo2", "typo3"):  # each evicts the entry before it
            assert http("GET", api.url + "/logs?camera=%s&timeout=0.2" % typo)[0] == 503
        time.sleep(0.5)  # several sweeps (every 100 ms with --forget-after 0)
        if time.monotonic() - t0 < 2.5:  # still inside the grace: must be there
            assert cameras(api) == {"real": True}, cameras(api)
        wait_until(lambda: "real" not in cameras(api), 10, "forgotten once no longer connected")


def test_max_polls_lets_a_vanished_camera_back_in():
    # B's fetch was delivered and its re-poll closed (gone): its next poll is
    # answered at once, so a full --max-polls must not refuse it.
    with Api("--connect-grace", "5", "--max-polls", "2", "--poll-timeout", "0") as api:
        a = hold_poll(api, "A", 1)
        b = hold_poll(api, "B", 2)
        logs = Async("GET", api.url + "/logs?camera=B&timeout=20", timeout=30)
        rid = json.loads(b.result(10)[2])["request_id"]
        again = socket.create_connection(("127.0.0.1", api.port), timeout=10)
        again.sendall(b"GET /control-channel?camera=B HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: metric(api, "camlogs_polls_held") == 2, 10, "B polls again")
        again.close()  # B vanishes: gone
        wait_until(lambda: metric(api, "camlogs_polls_held") == 1, 10, "B's poll closed")
        c = hold_poll(api, "C", 2)
        s, _, body = http("GET", api.url + "/control-channel?camera=B", timeout=10)
        assert s == 200 and json.loads(body)["request_id"] == rid, (s, body)
        assert http("GET", api.url + "/control-channel?camera=D", timeout=10)[0] == 503
        assert http("POST", api.url + "/send-stats?camera=B&request_id=" + rid,
                    body=b"EOL\n")[0] == 200
        assert logs.result(10)[0] == 200
        assert not a.done() and not c.done()


def test_a_405_on_logs_names_its_camera():
    with Api() as api:
        s, h, b = http("POST", api.url + "/logs?camera=cam1", body=b"", timeout=5)
        assert (s, json.loads(b)) == (405, {"error": "method not allowed", "camera": "cam1"}), b
        assert h["allow"] == "GET", h
        s, _, b = http("POST", api.url + "/logs?camera=bad!", body=b"", timeout=5)
        assert (s, json.loads(b)) == (405, {"error": "method not allowed"}), b


if __name__ == "__main__":
    harness.run(globals())
