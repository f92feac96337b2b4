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


if __name__ == "__main__":
    harness.run(globals())
