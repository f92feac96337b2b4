"""Conformance of the real api to PROTOCOL.md, over real HTTP on loopback:
the order of checks and parameters, /cameras and /metrics, forgetting idle
cameras, the request log, SIGTERM, the command line and bad input over raw
sockets (test_api.py: the exchanges themselves).

The test acts as camera and operator itself (no camera process), so every
status path can be driven deliberately (api_lib.py).
"""
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from api_lib import (TS, accepted, connected, control, err, logs, poll, records,  # noqa: E402
                     stream, upload, waiting)
from harness import (Api, Async, get_json, http, metric, raw, run, wait_metric,  # noqa: E402
                     wait_until)


# --- checks and parameters ----------------------------------------------------------------

def test_order_of_checks_and_parameters():
    with Api() as api:
        u = api.url
        assert http("POST", u + "/control-channel?camera=bad!", body=b"")[0] == 405
        for q in ["camera=", "camera=a&camera=b", "camera=bad!", "camera=" + "x" * 65,
                  "camera=%zz", "camera=a+b"]:
            err(http("GET", u + "/control-channel?" + q), 400)
            err(http("POST", u + "/send-stats?" + q, body=b"EOL\n"), 400)
            err(http("GET", u + "/logs?" + q), 400)
        for q in ["timeout=0.09", "timeout=300.001", "timeout=abc", "timeout=1e2", "timeout=",
                  "limit=0", "limit=1000001", "limit=-1", "limit=1.5", "since=yesterday",
                  "since=2025-02-29T00:00:00Z", "timeout=1&timeout=2", "x=%4"]:
            err(http("GET", u + "/logs?camera=ok&" + q), 400)
        err(http("POST", u + "/send-stats?request_id=bad!", body=b"EOL\n"), 400)
        # Every endpoint checks escapes; parameters an endpoint does not take are ignored.
        for path in ["/healthz", "/cameras", "/metrics"]:
            err(http("GET", u + path + "?a=%zz"), 400)
            assert http("GET", u + path + "?a=1&a=2&limit=0")[0] == 200
        err(http("GET", u + "/control-channel?camera=q&x=%g1"), 400)
        err(http("POST", u + "/send-stats?camera=q&timeout=x&limit=0", body=b"EOL\n"), 409)
        s, _, _ = http("GET", u + "/logs?camera=q&request_id=*&timeout=0.1")
        assert s == 503
        # Accepted forms: percent-decoding, unknown parameters, edge values.
        s, _, b = http("GET", u + "/logs?camera=c%31&timeout=0.1&limit=1000000&foo=bar&foo=baz")
        assert s == 503 and json.loads(b)["camera"] == "c1", b
        # v1.1: a /logs for an id that never made a request lists none.
        assert not any(c["camera"] == "c1" for c in get_json(u + "/cameras")[1])
        s, _, _ = http("GET", u + "/logs?camera=t&timeout=0.100&since=2026-01-01t00:00:00.5z")
        assert s == 503
    with Api("--poll-timeout", "1") as api:
        s, _, _ = http("GET", api.url + "/control-channel?camera=q&limit=0&since=x")
        assert s == 204


def test_cameras_and_metrics():
    with Api("--connect-grace", "0.5") as api:
        p0 = poll(api, "mc")
        _, cams = get_json(api.url + "/cameras")
        c = [c for c in cams if c["camera"] == "mc"][0]
        assert c["connected"] is True and c["since"].endswith("Z")
        assert c["last_seen"] >= c["since"], c
        p = Async("GET", api.url + "/control-channel?camera=mc")
        err(p0.result(), 409)  # superseded: still connected, since unchanged
        c2 = [c for c in get_json(api.url + "/cameras")[1] if c["camera"] == "mc"][0]
        assert (c2["connected"], c2["since"]) == (True, c["since"]), (c, c2)
        op = logs(api, "camera=mc")
        control(p)
        accepted(upload(api, stream([("a", TS % 1), ("b", TS % 2)]), "camera=mc"), 2)
        assert records(op.result()) == [("a", TS % 1), ("b", TS % 2)]
        s, h, b = http("GET", api.url + "/metrics")
        assert s == 200 and h["content-type"].startswith("text/plain")
        assert metric(api, "camlogs_records_relayed_total") == 2
        assert metric(api, 'camlogs_logs_replies_total{code="200"}') == 1
        assert metric(api, 'camlogs_send_stats_replies_total{code="200"}') == 1
        assert metric(api, "camlogs_logs_latency_seconds_count") == 1
        assert metric(api, 'camlogs_control_replies_total{code="409"}') == 1
        # Answered, no poll held: connected for the grace, then not (gauge and list agree).
        wait_metric(api, "camlogs_cameras_connected", 0)
        assert not connected(api, "mc")
        http("GET", api.url + "/logs?camera=bad!")
        assert metric(api, 'camlogs_logs_replies_total{code="400"}') == 1


def test_idle_cameras_are_forgotten():
    with Api("--forget-after", "2", "--connect-grace", "0") as api:
        p = poll(api, "gone-soon")
        err(http("GET", api.url + "/logs?camera=left"), 503)  # at once: no poll
        names = lambda: {c["camera"] for c in get_json(api.url + "/cameras")[1]}
        assert names() == {"gone-soon"}  # "left" never made a request: not listed
        assert metric(api, "camlogs_cameras_known") == 2  # but it has an entry
        wait_metric(api, "camlogs_cameras_known", 1, timeout=6)
        assert connected(api, "gone-soon")  # a camera holding a poll is never forgotten
        assert not p.done()


LOG_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def request_lines(api):
    return [l for l in api.err_lines if re.match(LOG_TIME + r" \w+ api: [A-Z]+ /", l)]


def test_request_log_line_and_quiet():
    with Api(quiet=False) as api:
        http("GET", api.url + "/healthz?x=1")
        http("GET", api.url + "/logs?camera=bad!")
        wait_until(lambda: len(request_lines(api)) >= 2, 5, "log lines")
        lines = request_lines(api)
        assert re.fullmatch(LOG_TIME + r" info api: GET /healthz client=127\.0\.0\.1:\d+ camera=- "
                            r"status=200 ms=\d+\.\d{3}", lines[0]), lines
        assert re.fullmatch(LOG_TIME + r" info api: GET /logs client=127\.0\.0\.1:\d+ camera=- "
                            r"status=400 ms=\d+\.\d{3} error=\"bad camera id\"", lines[1]), lines
    with Api() as api:  # --quiet: the start and stop lines, no request line
        http("GET", api.url + "/healthz")
        assert api.stop() == 0
        api.join_stderr()
        assert request_lines(api) == [], api.err_lines
        assert [l for l in api.err_lines if " info api: st" in l][-1].split()[3] == "stopped", \
            api.err_lines


def test_sigterm_answers_held_polls_503():
    limit = harness.signal_limit()
    api = Api()
    try:
        p = poll(api, "s")
        op = logs(api, "camera=other&timeout=30")
        waiting(api, 1)
        t0 = time.monotonic()
        api.send_signal(signal.SIGTERM)
        err(p.result(), 503)
        err(op.result(), 503)
        assert api.wait(timeout=limit) == 0
        assert time.monotonic() - t0 < limit, time.monotonic() - t0
    finally:
        api.kill()


def test_upload_without_request_id_answers_the_undelivered_fetch():
    with Api("--connect-grace", "5") as api:
        op = logs(api, "camera=u&timeout=10")
        waiting(api, 1)  # pending: no poll came, so nothing was delivered
        recs = [("early", TS % 1), ("bird", TS % 2)]
        accepted(upload(api, stream(recs), "camera=u"), 2)
        assert records(op.result()) == recs


def test_order_request_id_400_before_413_and_409_before_stream_400():
    with Api("--max-body", "100") as api:
        big = stream([("x" * 200, TS % 1)])
        err(upload(api, big, "camera=o&request_id=bad!"), 400)  # parameters before size
        err(upload(api, big, "camera=o&request_id=ok"), 413)
        bad = b"not a stream\n"
        for q in ("camera=o", "camera=o&request_id=r1"):  # state before the stream itself
            e = err(upload(api, bad, q), 409)
            assert "line" not in e and "offset" not in e, e


def test_each_waiter_has_its_own_timeout():
    with Api() as api:
        p = poll(api, "t")
        a = logs(api, "camera=t&timeout=20")
        msg = control(p)
        t0 = time.monotonic()
        b = logs(api, "camera=t&timeout=0.5")  # joins the delivered fetch
        err(b.result(), 504)
        assert 0.45 < time.monotonic() - t0 < 5, time.monotonic() - t0
        waiting(api, 1)  # the other waiter, and so the fetch, is still there
        accepted(upload(api, stream([("x", TS % 1)]), "camera=t&request_id=" + msg["request_id"]),
                 1)
        assert records(a.result()) == [("x", TS % 1)]


def test_one_of_two_waiters_leaving_keeps_the_fetch():
    with Api() as api:
        p = poll(api, "k")
        s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
        s.sendall(b"GET /logs?camera=k HTTP/1.1\r\nHost: x\r\n\r\n")
        msg = control(p)
        a = logs(api, "camera=k")
        waiting(api, 2)
        s.close()
        waiting(api, 1)
        accepted(upload(api, stream([("y", TS % 2)]), "camera=k&request_id=" + msg["request_id"]),
                 1)
        assert records(a.result()) == [("y", TS % 2)]


def test_logs_objects_have_two_members_and_verbatim_timestamps():
    stamps = ["2026-11-28t06:44:29.5z", "2026-11-28T07:44:29+01:00",
              "2026-11-28T06:44:29.123456789-00:30", "2016-12-31T23:59:60Z",
              "2026-11-28T06:44:29.000Z"]
    with Api() as api:
        p = poll(api, "x")
        op = logs(api, "camera=x")
        msg = control(p)
        body = b"".join(json.dumps({"level": "info", "description": "e%d" % i, "timestamp": t,
                                    "extra": [1, {"a": None}]}).encode() + b"\n"
                        for i, t in enumerate(stamps)) + b"EOL\n"
        accepted(upload(api, body, "camera=x&request_id=" + msg["request_id"]), len(stamps))
        s, _, b = op.result()
        assert s == 200 and json.loads(b) == [{"description": "e%d" % i, "timestamp": t}
                                               for i, t in enumerate(stamps)], b


def test_cameras_since_changes_when_connected_flips():
    def entry(api):
        return [c for c in get_json(api.url + "/cameras")[1] if c["camera"] == "f"][0]

    def instant(c):
        return datetime.datetime.strptime(c["since"], "%Y-%m-%dT%H:%M:%S.%fZ")
    with Api("--poll-timeout", "1", "--connect-grace", "1") as api:
        p = poll(api, "f")
        held = entry(api)
        assert held["connected"] is True, held
        assert p.result()[0] == 204  # the poll timeout passes...
        assert entry(api)["connected"] is True  # ...connected for the grace after the reply
        wait_until(lambda: not entry(api)["connected"], 5, "connected false")
        idle = entry(api)
        assert (instant(idle) - instant(held)).total_seconds() >= 1.9, (held, idle)
        assert entry(api) == idle  # unchanged while the state is unchanged


def test_metrics_histogram_cumulative_and_complete():
    with Api("--connect-grace", "0") as api:
        for i in range(3):
            err(http("GET", api.url + "/logs?camera=h%d&timeout=0.1" % i), 503)
        s, h, b = http("GET", api.url + "/metrics")
        assert s == 200 and h["content-type"].startswith("text/plain"), (s, h)
        name = "camlogs_logs_latency_seconds"
        les, counts = [], []
        for line in b.decode().splitlines():
            m = re.fullmatch(name + r'_bucket\{le="([^"]+)"\} (\d+)', line)
            if m:
                les.append(m.group(1))
                counts.append(int(m.group(2)))
        assert les and les[-1] == "+Inf", les
        bounds = [float(x) for x in les[:-1]]
        assert bounds == sorted(set(bounds)), bounds
        assert all(x <= y for x, y in zip(counts, counts[1:])), counts
        assert counts[-1] == metric(api, name + "_count") >= 3, (counts, b)
        assert metric(api, name + "_sum") >= 0


def test_cli_help_bad_flags_busy_port_and_sigint():
    exe = os.path.join(harness.BIN, "api")

    def run_api(*args):
        return subprocess.run([exe] + list(args), capture_output=True, text=True, timeout=10)
    p = run_api("--help")
    assert p.returncode == 0 and p.stdout.startswith("usage: api"), p
    assert "--poll-timeout" in p.stdout and p.stderr == "", p
    for args in (["--bogus"], ["--poll-timeout", "x"], ["--connect-grace", "-1"],
                 ["--max-body", "abc"], ["--listen", "nohostport"], ["--poll-timeout"]):
        p = run_api(*args)
        assert p.returncode == 2 and p.stdout == "", (args, p)
        assert p.stderr.count("\n") == 1, (args, p.stderr)
        assert re.match(LOG_TIME + r" error api: ", p.stderr), (args, p.stderr)
    with Api() as busy:
        p = run_api("--listen", "127.0.0.1:%d" % busy.port, "--quiet")
        assert p.returncode == 1 and p.stdout == "", p
        assert p.stderr.count("\n") == 1 and "in use" in p.stderr, p.stderr
    api = Api()
    try:
        assert api.stop(signal.SIGINT, timeout=harness.signal_limit()) == 0
    finally:
        api.kill()


# --- bad input over raw sockets ---------------------------------------------------------

def test_bad_input_then_still_serving():
    with Api("--request-timeout", "1", "--max-cameras", "100", "--connect-grace", "0") as api:
        # Garbage and an oversized head: a 4xx or nothing, and the api closes (no hang).
        for junk in (b"\x00\xff garbage \r\n\r\n", b"GET /" + b"a" * 100 * 1024 + b" HTTP/1.1\r\n\r\n"):
            out = raw(api.port, junk, timeout=5)
            assert out.closed, ("connection left open", out[:100])
            assert out == b"" or out.startswith(b"HTTP/1.1 4"), out[:100]
        # Slowloris: one byte at a time is cut off by --request-timeout.
        s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
        t0 = time.monotonic()
        got = None
        try:
            for ch in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
                s.sendall(bytes([ch]))
                time.sleep(0.1)  # pacing: one byte at a time
            got = s.recv(100)
        except (BrokenPipeError, ConnectionResetError):
            got = b""
        assert got == b"" and time.monotonic() - t0 < 5, (got, time.monotonic() - t0)
        s.close()
        # A body that stops halfway.
        s = socket.create_connection(("127.0.0.1", api.port))
        s.sendall(b"POST /send-stats?camera=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"desc")
        s.close()
        # 10,000 distinct camera ids, pipelined: the table stays bounded (100).
        flood(api.port, 10000)
        _, cams = get_json(api.url + "/cameras")
        assert len(cams) <= 100, len(cams)
        # Still serving a normal fetch.
        p = poll(api, "after")
        op = logs(api, "camera=after")
        msg = control(p)
        accepted(upload(api, stream([("fine", TS % 1)]),
                        "camera=after&request_id=" + msg["request_id"]), 1)
        assert records(op.result()) == [("fine", TS % 1)]


def test_out_of_file_descriptors_does_not_spin():
    """Past the open-file limit the api pauses accepting instead of spinning."""
    # --max-polls past the limit: the descriptor budget would otherwise refuse
    # the polls before the api ran out of descriptors.
    p = subprocess.Popen(["bash", "-c", 'ulimit -n 64; exec "$0" --listen 127.0.0.1:0 --quiet '
                          '--max-polls 1000', os.path.join(harness.BIN, "api")],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(harness._readline_deadline(p, 10).split(":")[-1])
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(100)]
        for i, s in enumerate(socks):
            s.sendall(b"GET /control-channel?camera=c%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)

        def ticks():
            f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
            return int(f[11]) + int(f[12])
        t0 = ticks()
        time.sleep(1)  # measuring CPU use over a second of being over the limit
        assert ticks() - t0 < 30, "api spun while out of file descriptors"
        for s in socks:
            s.close()
        wait_until(lambda: http("GET", "http://127.0.0.1:%d/healthz" % port, timeout=2)[0] == 200,
                   5, "api serving again")
    finally:
        p.kill()
        p.wait()


def flood(port, n, conns=4):
    per = n // conns
    socks = []
    for c in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        req = b"".join(b"GET /logs?camera=flood-%d-%d&timeout=5 HTTP/1.1\r\nHost: x\r\n\r\n"
                       % (c, i) for i in range(per))
        s.sendall(req)
        socks.append(s)
    for s in socks:
        got = 0
        buf = b""
        while got < per:
            b = s.recv(1 << 16)
            assert b, "connection closed after %d replies" % got
            buf += b
            got = buf.count(b"HTTP/1.1 ")
        s.close()


if __name__ == "__main__":
    run(globals())
