"""Operating the api (issue 13, api side): log lines and their levels and
formats, the start and stop lines, start-up errors and warnings,
--version, the --poll-timeout floor, /logs error bodies and 401s,
/cameras v1.1, and the latency histogram's sum. Real api processes over
loopback. Reload and revocation: test_reload.py; descriptors and
keep-alive: test_limits.py.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (LOG_TIME, Api, Async, bearer, get_json, hold_poll, http,  # noqa: E402
                     metric, private_file, stop_and_read, wait_metric, wait_until)

TMP = tempfile.mkdtemp(prefix="test_ops.")


def write(name, data, mode=0o600):
    return private_file(TMP, name, data, mode)


def api_bin():
    return os.path.join(harness.BIN, "api")


def body(resp):
    s, h, b = resp
    assert h.get("content-type") == "application/json", (s, h, b)
    return s, json.loads(b)


# --- logs ------------------------------------------------------------------------------

def test_text_lines_have_time_level_and_client():
    with Api("--poll-timeout", "1", quiet=False) as api:
        http("GET", api.url + "/healthz")
        assert http("GET", api.url + "/control-channel?camera=lv")[0] == 204
        lines = stop_and_read(api)
    assert all(re.match(LOG_TIME + r" (error|warn|info|debug) api: ", l) for l in lines), lines
    start = [l for l in lines if " info api: started " in l]
    assert len(start) == 1, lines
    for field in ("version=", "protocol=1.2", "listen=127.0.0.1:%d" % api.port, "tls=off",
                  "cameras=open", "operators=open"):
        assert field in start[0], (field, start[0])
    assert re.search(r" info api: GET /healthz client=127\.0\.0\.1:\d+ camera=- status=200 ms=",
                     "\n".join(lines)), lines
    # A routine 204 is debug: not shown at the default level.
    assert not [l for l in lines if "/control-channel" in l], lines
    stopped = [l for l in lines if " info api: stopped " in l]
    assert len(stopped) == 1 and "reason=SIGTERM" in stopped[0] and lines[-1] == stopped[0], lines


def test_json_lines_parse_and_levels():
    with Api("--log-format", "json", "--log-level", "debug", "--poll-timeout", "1",
             quiet=False) as api:
        first = hold_poll(api, "j", 1)
        second = hold_poll(api, "j", 1)  # supersedes the first: 409, debug
        assert first.result()[0] == 409
        assert second.result()[0] == 204  # debug too
        assert http("GET", api.url + "/logs?camera=j&limit=0")[0] == 400  # info
        lines = stop_and_read(api)
    objs = [json.loads(l) for l in lines]  # every line is one JSON object
    for o in objs:
        assert re.fullmatch(LOG_TIME, o["time"]) and o["prog"] == "api", o
        assert o["level"] in ("error", "warn", "info", "debug") and "msg" in o, o
    reqs = [o for o in objs if o["msg"].startswith(("GET ", "POST "))]
    by_status = {o["status"]: o for o in reqs}
    assert by_status[409]["level"] == "debug" and by_status[204]["level"] == "debug", reqs
    assert by_status[400]["level"] == "info" and by_status[400]["camera"] == "j", reqs
    for o in reqs:
        assert re.fullmatch(r"127\.0\.0\.1:\d+", o["client"]), o
        assert isinstance(o["ms"], float) and o["ms"] >= 0, o
    assert objs[-1]["msg"] == "stopped" and objs[-1]["reason"] == "SIGTERM", objs[-1]
    # warn: requests, the start and stop lines are info, so only warnings remain.
    with Api("--log-level", "warn", quiet=False) as api:
        http("GET", api.url + "/healthz")
        lines = stop_and_read(api)
    assert lines and all(" warn api: " in l for l in lines), lines
    with Api("--log-level", "error", quiet=False) as api:
        http("GET", api.url + "/healthz")
        assert stop_and_read(api) == []


def test_quiet_keeps_start_and_stop_lines():
    with Api("--log-level", "debug") as api:  # harness default: --quiet
        http("GET", api.url + "/healthz")
        lines = stop_and_read(api)
    assert not [l for l in lines if "/healthz" in l], lines
    assert [l for l in lines if " started " in l] and " stopped " in lines[-1], lines


def test_stop_line_counts_what_it_answered():
    with Api(quiet=False) as api:
        p = hold_poll(api, "s1", 1)
        w = Async("GET", api.url + "/logs?camera=other&timeout=30")
        wait_metric(api, "camlogs_logs_waiting", 1)
        api.send_signal(signal.SIGINT)
        assert p.result()[0] == 503 and w.result()[0] == 503
        assert api.wait(timeout=harness.signal_limit() + 5) == 0
        api.join_stderr()
    last = api.err_lines[-1]
    assert " stopped " in last and "reason=SIGINT" in last, last
    assert "polls=1" in last and "waiters=1" in last and "unsent=0" in last, last


def test_startup_errors_name_the_address_or_file():
    with Api() as busy:
        p = subprocess.run([api_bin(), "--listen", "127.0.0.1:%d" % busy.port],
                           capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p
    assert re.fullmatch(LOG_TIME + r" error api: --listen 127\.0\.0\.1:%d: Address already in use\n"
                        % busy.port, p.stderr), p.stderr
    missing = os.path.join(TMP, "nope")
    # (--camera-revoked-file may name a file not there yet: test_reload.py.)
    for flag in ("--camera-secret-file", "--operator-token-file"):
        p = subprocess.run([api_bin(), "--listen", "127.0.0.1:0", flag, missing],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 1 and p.stdout == "" and p.stderr.count("\n") == 1, p
        assert "error api: %s: %s: No such file" % (flag, missing) in p.stderr, p.stderr


def test_warning_for_tokens_in_clear_off_loopback():
    secret = write("secret-w", b"0123456789abcdef-secret\n")

    def warns(*args):
        with Api("--camera-secret-file", secret, *args) as api:
            return [l for l in stop_and_read(api) if " warn api: " in l and "in clear" in l]
    off = warns("--listen", "0.0.0.0:0")
    assert len(off) == 1 and "0.0.0.0:" in off[0], off
    assert warns() == []  # loopback
    assert warns("--listen", "127.0.0.2:0") == []  # all of 127/8 is loopback
    with Api("--listen", "0.0.0.0:0") as api:  # no credentials: the open-mode warning only
        lines = stop_and_read(api)
    assert not [l for l in lines if "in clear" in l], lines


def test_version():
    p = subprocess.run([api_bin(), "--version"], capture_output=True, text=True, timeout=5)
    cmake = open(os.path.join(os.path.dirname(__file__), "..", "..", "CMakeLists.txt")).read()
    version = re.search(r"project\(camlogs VERSION (\S+)", cmake).group(1)
    assert p.returncode == 0 and p.stderr == "", p
    assert re.fullmatch(r"api %s( \(git [^)]+\))? \(protocol 1\.2\)\n" % re.escape(version),
                        p.stdout), p.stdout
    p = subprocess.run([api_bin(), "--version", "--bogus"], capture_output=True, text=True,
                       timeout=5)
    assert p.returncode == 2 and p.stdout == "", p


def test_poll_timeout_floor():
    for bad in ("0.05", "0.099", "0.001"):  # contract 1.2: 0.5 is valid, below 0.1 may be refused
        p = subprocess.run([api_bin(), "--poll-timeout", bad], capture_output=True, text=True,
                           timeout=5)
        assert p.returncode == 2 and p.stdout == "" and p.stderr.count("\n") == 1, p
        assert "--poll-timeout" in p.stderr and "at least 0.1" in p.stderr, p.stderr
    for ok in ("0", "0.5", "1.5"):
        with Api("--poll-timeout", ok) as api:
            assert http("GET", api.url + "/healthz")[0] == 200


def test_bad_new_flags_exit_2():
    for args in (["--log-level", "verbose"], ["--log-format", "xml"], ["--max-waiters", "0"],
                 ["--tcp-keepalive", "60,10"], ["--tcp-keepalive", "0,10,6"],
                 ["--tcp-keepalive", "60,10,200"], ["--tcp-keepalive", "a,b,c"],
                 ["--tcp-keepalive", "60,10,6,1"], ["--tcp-user-timeout", "-1"]):
        p = subprocess.run([api_bin()] + args, capture_output=True, text=True, timeout=5)
        assert p.returncode == 2 and p.stdout == "" and p.stderr.count("\n") == 1, (args, p)
        assert args[0] in p.stderr, (args, p.stderr)


# --- errors ----------------------------------------------------------------------------

def test_logs_errors_name_their_camera():
    with Api("--connect-grace", "0.3", "--max-body", "100") as api:
        u = api.url
        assert body(http("GET", u + "/logs?camera=c1&limit=0")) == (
            400, {"error": body(http("GET", u + "/logs?camera=c1&limit=0"))[1]["error"],
                  "camera": "c1"})
        s, b = body(http("GET", u + "/logs?timeout=abc"))  # no camera: "default"
        assert s == 400 and b["camera"] == "default", b
        s, b = body(http("GET", u + "/logs?camera=bad!"))  # a bad id cannot be named
        assert s == 400 and "camera" not in b, b
        s, b = body(http("GET", u + "/logs?camera=ghost"))
        assert s == 503 and b == {"error": "camera not connected: no poll within 0.3 s",
                                  "camera": "ghost"}, b
        s, b = body(http("GET", u + "/logs?camera=ghost2&timeout=0.2"))  # its own timeout first
        assert s == 503 and b["error"].endswith("no poll within 0.2 s"), b
        p = hold_poll(api, "slow", 1)
        w = Async("GET", u + "/logs?camera=slow&timeout=0.5")
        assert p.result()[0] == 200
        assert body(w.result()) == (504, {"error": "no stats from the camera within the timeout",
                                          "camera": "slow"})
        p = hold_poll(api, "big", 1)
        w = Async("GET", u + "/logs?camera=big")
        assert p.result()[0] == 200
        assert http("POST", u + "/send-stats?camera=big", body=b"x" * 101)[0] == 413
        s, b = body(w.result())
        assert s == 502 and b["camera"] == "big", b


def test_401_carries_www_authenticate_everywhere():
    secret = write("secret-401", b"0123456789abcdef-secret\n")
    tokens = write("tokens-401", "operator-token-401-aaaaaaaa\n")
    with Api("--camera-secret-file", secret, "--operator-token-file", tokens) as api:
        for method, path in (("GET", "/control-channel?camera=a"), ("POST", "/send-stats?camera=a"),
                             ("GET", "/logs?camera=a"), ("GET", "/cameras"), ("GET", "/metrics")):
            for hdrs, want in (({}, 'Bearer realm="camlogs"'),
                               (bearer("0" * 64), 'Bearer realm="camlogs", error="invalid_token"')):
                s, h, b = http(method, "%s%s" % (api.url, path), headers=hdrs,
                               body=b"EOL\n" if method == "POST" else None)
                assert s == 401 and h.get("www-authenticate") == want, (path, s, h)
                assert "error" in json.loads(b)
        # Decision: the 401 of /logs names the camera too (the client's own input).
        s, _, b = http("GET", api.url + "/logs?camera=a")
        assert json.loads(b)["camera"] == "a", b
        assert http("GET", api.url + "/healthz")[0] == 200


# --- /cameras v1.1 -----------------------------------------------------------------------

def test_cameras_v1_1():
    with Api("--connect-grace", "1", "--poll-timeout", "0") as api:
        u = api.url
        for cam in ("zeta", "alpha", "Mid", "beta"):
            assert http("GET", u + "/logs?camera=%s&timeout=0.2" % cam)[0] == 503
        assert get_json(u + "/cameras") == (200, [])  # /logs lists none
        held = [hold_poll(api, c, i + 1) for i, c in enumerate(("zeta", "alpha", "Mid"))]
        cams = get_json(u + "/cameras")[1]
        assert [c["camera"] for c in cams] == ["Mid", "alpha", "zeta"], cams  # by id (bytes)
        for c in cams:
            assert set(c) == {"camera", "connected", "since", "last_seen"}, c
            assert c["connected"] is True, c
            assert all(re.fullmatch(LOG_TIME, c[k]) for k in ("since", "last_seen")), c
        assert metric(api, "camlogs_cameras_connected") == 3
        # A camera answered is connected for the grace, then not; since moves once.
        w = Async("GET", u + "/logs?camera=alpha")
        assert held[1].result()[0] == 200
        entry = lambda: [c for c in get_json(u + "/cameras")[1] if c["camera"] == "alpha"][0]
        before = entry()
        assert before["connected"] is True
        assert http("POST", u + "/send-stats?camera=alpha", body=b"EOL\n")[0] == 200
        assert w.result()[0] == 200
        after_upload = entry()
        assert after_upload["connected"] is True and after_upload["since"] == before["since"]
        assert after_upload["last_seen"] > before["last_seen"], (before, after_upload)
        wait_until(lambda: not entry()["connected"], 5, "alpha disconnected after the grace")
        gone = entry()
        assert gone["since"] > after_upload["last_seen"], gone
        assert metric(api, "camlogs_cameras_connected") == 2
        connected = sum(c["connected"] for c in get_json(u + "/cameras")[1])
        assert connected == 2


def test_connected_does_not_flap_between_polls():
    """A camera that re-polls right after each answer stays connected, and
    its `since` never moves."""
    with Api("--connect-grace", "1", "--poll-timeout", "1") as api:
        p = hold_poll(api, "steady", 1)
        since = get_json(api.url + "/cameras")[1][0]["since"]
        seen = set()
        end = time.monotonic() + 3.5
        while time.monotonic() < end:  # three poll timeouts, each followed by a new poll
            if p.done():
                assert p.result()[0] == 204
                p = Async("GET", api.url + "/control-channel?camera=steady")
            c = get_json(api.url + "/cameras")[1][0]
            seen.add((c["connected"], c["since"]))
            time.sleep(0.05)  # sampling interval
        assert seen == {(True, since)}, seen


# --- metrics -------------------------------------------------------------------------------

def buckets(api):
    s, _, b = http("GET", api.url + "/metrics")
    out = {}
    for line in b.decode().splitlines():
        m = re.fullmatch(r'camlogs_logs_latency_seconds_(bucket\{le="([^"]+)"\}|sum|count) (\S+)',
                         line)
        if m:
            out[m.group(2) or m.group(1)] = float(m.group(3))
    return out


def quick_fetch(api, cam):
    """A /logs and its upload sent back to back on two ready connections, so
    the fetch takes well under a millisecond when both land in one loop turn."""
    a = socket.create_connection(("127.0.0.1", api.port), timeout=10)
    b = socket.create_connection(("127.0.0.1", api.port), timeout=10)
    up = (b"POST /send-stats?camera=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nEOL\n"
          % cam.encode())
    try:
        a.sendall(b"GET /logs?camera=%s&timeout=5 HTTP/1.1\r\nHost: x\r\n\r\n" % cam.encode())
        b.sendall(up)
        got = b.recv(4096)
        if b" 409 " in got.split(b"\r\n")[0]:  # the upload overtook the /logs: once more
            wait_metric(api, "camlogs_logs_waiting", 1)
            b.sendall(up)
            b.recv(4096)
        assert a.recv(4096).startswith(b"HTTP/1.1 200"), "fetch failed"
    finally:
        a.close()
        b.close()


def test_latency_sum_has_microseconds():
    with Api("--connect-grace", "5") as api:
        for i in range(200):
            before = buckets(api)
            quick_fetch(api, "q%d" % i)
            after = buckets(api)
            if after["0.001"] - before["0.001"] == 1 and after["count"] - before["count"] == 1:
                grew = after["sum"] - before["sum"]
                assert 0 < grew < 0.001, (before, after)  # whole ms would add 0
                return
        raise harness.Skip("no fetch under 1 ms in 200 tries (machine too loaded)")


if __name__ == "__main__":
    try:
        harness.run(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
