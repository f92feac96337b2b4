"""Conformance of the real api to PROTOCOL.md, over real HTTP on loopback.

The test acts as camera and operator itself (no camera process), so every
status path can be driven deliberately.
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
from harness import (Api, Async, http, get_json, metric, raw, run, wait_metric,  # noqa: E402
                     wait_until)

TS = "2026-11-28T06:44:%02d.000Z"


def stream(records, count=True):
    body = "".join(json.dumps({"description": d, "timestamp": t}) + "\n" for d, t in records)
    return (body + ("EOL %d\n" % len(records) if count else "EOL\n")).encode()


def connected(api, cam):
    _, cams = get_json(api.url + "/cameras")
    return any(c["camera"] == cam and c["connected"] for c in cams)


def poll(api, cam=None, held=1, timeout=10):
    """Starts a poll and waits until the api holds `held` polls in all (this
    one included), or until this one was answered."""
    q = "?camera=" + cam if cam else ""
    a = Async("GET", api.url + "/control-channel" + q, timeout=timeout)
    wait_until(lambda: a.done() or metric(api, "camlogs_polls_held") == held, 5,
               "%d polls held" % held)
    return a


def raw_poll(api, cam, held=1):
    """A poll on a raw socket (the test closes it); waits until it is held."""
    s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
    s.sendall(b"GET /control-channel?camera=%s HTTP/1.1\r\nHost: x\r\n\r\n" % cam.encode())
    wait_metric(api, "camlogs_polls_held", held)
    return s


def logs(api, query="", timeout=15):
    return Async("GET", api.url + "/logs" + ("?" + query if query else ""), timeout=timeout)


def waiting(api, n):
    """Waits until the api holds n /logs requests."""
    wait_metric(api, "camlogs_logs_waiting", n)


def upload(api, body, query=""):
    return http("POST", api.url + "/send-stats" + ("?" + query if query else ""), body=body,
                headers={"Content-Type": "application/x-ndjson"})


def accepted(resp, n):
    """Asserts an upload was taken: 200 {"accepted": n}."""
    s, _, b = resp
    assert (s, json.loads(b)) == (200, {"accepted": n}), (s, b)


def records(resp):
    """The records of a 200 /logs reply, as (description, timestamp) pairs."""
    s, h, b = resp
    assert s == 200 and h["content-type"] == "application/json", (s, b)
    out = json.loads(b)
    assert all(set(r) == {"description", "timestamp"} for r in out), out
    return [(r["description"], r["timestamp"]) for r in out]


def control(a):
    status, hdrs, body = a.result()
    assert status == 200, (status, body)
    assert hdrs["content-type"] == "application/json"
    return json.loads(body)


def err(resp, status):
    s, h, b = resp
    assert s == status, (s, b)
    assert h["content-type"] == "application/json", h
    return json.loads(b)


# --- basics ------------------------------------------------------------------

def test_healthz_404_405():
    with Api() as api:
        s, h, b = http("GET", api.url + "/healthz")
        assert (s, json.loads(b)) == (200, {"status": "ok"})
        assert "error" in err(http("GET", api.url + "/nope"), 404)
        assert "error" in err(http("GET", api.url + "/logs/x"), 404)
        for path, allow in [("/logs", "GET"), ("/control-channel", "GET"),
                            ("/send-stats", "POST"), ("/healthz", "GET"), ("/cameras", "GET"),
                            ("/metrics", "GET")]:
            method = "GET" if allow == "POST" else "POST"
            s, h, b = http(method, api.url + path, body=b"" if method == "POST" else None)
            assert s == 405 and h["allow"] == allow, (path, s, h)
            assert "error" in json.loads(b)


def test_seed_compatible_flow():
    """A client that knows nothing of camera or request ids still works."""
    with Api() as api:
        p = poll(api)
        op = logs(api)
        s, _, b = p.result()
        assert s == 200
        recs = [("motion detected", TS % 1), ("lens cleaned", TS % 2)]
        s, _, b = upload(api, stream(recs))
        assert (s, json.loads(b)) == (200, {"accepted": 2})
        s, h, b = op.result()
        assert s == 200 and h["content-type"] == "application/json"
        assert json.loads(b) == [{"description": d, "timestamp": t} for d, t in recs]


def test_control_message_and_request_id():
    with Api() as api:
        p = poll(api, "cam1")
        op = logs(api, "camera=cam1&limit=5&since=2026-11-28T06:44:00Z")
        msg = control(p)
        assert msg["camera"] == "cam1" and msg["limit"] == 5
        assert msg["since"] == "2026-11-28T06:44:00Z"
        rid = msg["request_id"]
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), rid
        s, _, b = upload(api, stream([("a", TS % 1)]), "camera=cam1&request_id=other")
        assert s == 409, b
        s, _, b = upload(api, stream([("a", TS % 1)]), "camera=cam1&request_id=" + rid)
        assert s == 200, b
        assert json.loads(op.result()[2]) == [{"description": "a", "timestamp": TS % 1}]
        # Already answered: the same request id is stale now.
        s, _, b = upload(api, stream([("a", TS % 1)]), "camera=cam1&request_id=" + rid)
        assert s == 409 and "error" in json.loads(b)


def test_poll_timeout_204_and_newest_poll_wins():
    with Api("--poll-timeout", "1") as api:
        t0 = time.monotonic()
        s, _, b = http("GET", api.url + "/control-channel?camera=c")
        assert s == 204 and b == b"" and 0.95 < time.monotonic() - t0 < 4
    with Api() as api:
        first = poll(api, "c")
        second = Async("GET", api.url + "/control-channel?camera=c")
        assert "error" in err(first.result(), 409)
        assert not second.done()
        op = logs(api, "camera=c")
        assert control(second)["camera"] == "c"
        accepted(upload(api, stream([]), "camera=c"), 0)
        assert records(op.result()) == []


def test_no_camera_503_within_grace():
    with Api("--connect-grace", "0.3") as api:
        t0 = time.monotonic()
        e = err(http("GET", api.url + "/logs?camera=ghost"), 503)
        assert 0.25 < time.monotonic() - t0 < 3, time.monotonic() - t0
        assert "error" in e
        # Grace capped by the request's own timeout.
    with Api("--connect-grace", "5") as api:
        t0 = time.monotonic()
        err(http("GET", api.url + "/logs?camera=ghost&timeout=0.2"), 503)
        assert time.monotonic() - t0 < 2


def test_camera_arriving_within_grace():
    with Api("--connect-grace", "5") as api:
        op = logs(api, "camera=late")
        waiting(api, 1)
        # v1.1: a /logs lists no camera; the camera's own request does.
        assert get_json(api.url + "/cameras")[1] == []
        p = Async("GET", api.url + "/control-channel?camera=late")
        rid = control(p)["request_id"]
        accepted(upload(api, stream([("x", TS % 3)]), "camera=late&request_id=" + rid), 1)
        assert records(op.result()) == [("x", TS % 3)]


def test_504_when_no_stats():
    with Api() as api:
        p = poll(api, "slow")
        t0 = time.monotonic()
        op = logs(api, "camera=slow&timeout=0.5")
        control(p)
        err(op.result(), 504)
        assert 0.45 < time.monotonic() - t0 < 3


# --- send-stats failures --------------------------------------------------------

def test_malformed_stream_400_and_waiters_502():
    with Api() as api:
        p = poll(api, "m")
        op = logs(api, "camera=m")
        control(p)
        body = b'{"description":"ok","timestamp":"2026-11-28T06:44:29Z"}\n{"description":"\xc3\x28"}\nEOL 2\n'
        e = err(upload(api, body, "camera=m"), 400)
        assert e["line"] == 2 and e["offset"] == body.index(b"\x28", 60), e
        err(op.result(), 502)


def test_missing_eol_offset_is_body_length():
    with Api() as api:
        p = poll(api, "m")
        op = logs(api, "camera=m")
        control(p)
        body = b'{"description":"ok","timestamp":"2026-11-28T06:44:29Z"}\n'
        e = err(upload(api, body, "camera=m"), 400)
        assert e["offset"] == len(body), e
        err(op.result(), 502)


def test_413_before_409_and_waiters_502():
    with Api("--max-body", "100") as api:
        big = stream([("x" * 200, TS % 1)])
        err(upload(api, big, "camera=nobody"), 413)  # size is checked before state
        p = poll(api, "b")
        op = logs(api, "camera=b")
        control(p)
        err(upload(api, big, "camera=b"), 413)
        err(op.result(), 502)
        small = stream([("x", TS % 1)])
        assert len(small) <= 100
        err(upload(api, small, "camera=b"), 409)  # the failed fetch is over


def test_409_without_fetch():
    with Api() as api:
        e = err(upload(api, stream([("a", TS % 1)]), "camera=idle"), 409)
        assert "error" in e


# --- joins, filters, many cameras -------------------------------------------------------

def test_join_one_wakeup_each_filter():
    with Api() as api:
        p = poll(api, "j")
        a = logs(api, "camera=j")
        msg = control(p)
        assert "limit" not in msg and "since" not in msg
        p2 = poll(api, "j")  # the camera polls again at once: held
        b = logs(api, "camera=j&limit=2")
        c = logs(api, "camera=j&since=" + TS % 2)
        recs = [("r%d" % i, TS % i) for i in range(1, 5)]
        waiting(api, 3)  # b and c joined the delivered fetch (covered)
        accepted(upload(api, stream(recs), "camera=j&request_id=" + msg["request_id"]), 4)
        names = lambda r: [x["description"] for x in json.loads(r.result()[2])]
        assert names(a) == ["r1", "r2", "r3", "r4"]
        assert names(b) == ["r3", "r4"]
        assert names(c) == ["r3", "r4"]
        assert not p2.done()  # one wake-up for the three
        assert connected(api, "j")


def test_widen_before_delivery():
    with Api("--connect-grace", "5") as api:
        a = logs(api, "camera=w&limit=1")
        b = logs(api, "camera=w&limit=3")
        waiting(api, 2)  # both joined the undelivered fetch, which widened to limit 3
        msg = control(Async("GET", api.url + "/control-channel?camera=w"))
        assert msg["limit"] == 3, msg
        recs = [("r%d" % i, TS % i) for i in range(1, 5)]
        accepted(upload(api, stream(recs[-3:]), "camera=w&request_id=" + msg["request_id"]), 3)
        assert [x["description"] for x in json.loads(a.result()[2])] == ["r4"]
        assert [x["description"] for x in json.loads(b.result()[2])] == ["r2", "r3", "r4"]


def test_not_covered_waits_for_next_fetch():
    with Api() as api:
        p = poll(api, "n")
        a = logs(api, "camera=n&limit=1")
        m1 = control(p)
        assert m1["limit"] == 1
        p2 = poll(api, "n")
        b = logs(api, "camera=n")  # wants everything: not covered by limit 1
        waiting(api, 2)  # b waits (for the next fetch) before the upload ends this one
        recs = [("r%d" % i, TS % i) for i in range(1, 4)]
        accepted(upload(api, stream(recs[-1:]), "camera=n&request_id=" + m1["request_id"]), 1)
        assert records(a.result()) == recs[-1:]
        m2 = control(p2)  # the next fetch, for b
        assert m2["request_id"] != m1["request_id"] and "limit" not in m2
        accepted(upload(api, stream(recs), "camera=n&request_id=" + m2["request_id"]), 3)
        assert records(b.result()) == recs


def test_api_applies_limit_and_since():
    with Api() as api:
        p = poll(api, "f")
        op = logs(api, "camera=f&limit=2&since=2026-11-28T06:44:01Z")
        msg = control(p)
        # A camera that ignores the filters: the api still applies them.
        recs = [("r0", TS % 0), ("r1", TS % 1), ("late", "2026-11-28T07:44:01+01:00"),
                ("r5", TS % 5), ("r3", TS % 3), ("early", "2026-11-28T06:44:30+00:01")]
        accepted(upload(api, stream(recs), "camera=f&request_id=" + msg["request_id"]), 6)
        assert [x["description"] for x in json.loads(op.result()[2])] == ["r5", "r3"]


def test_many_cameras_no_cross_talk():
    with Api() as api:
        n = 20
        polls = {i: poll(api, "cam-%d" % i, held=i + 1) for i in range(n)}
        ops = {i: logs(api, "camera=cam-%d" % i) for i in range(n)}
        for i in range(n):
            msg = control(polls[i])
            assert msg["camera"] == "cam-%d" % i
            accepted(upload(api, stream([("from %d" % i, TS % i)]),
                            "camera=cam-%d&request_id=%s" % (i, msg["request_id"])), 1)
        for i in range(n):
            assert json.loads(ops[i].result()[2]) == [{"description": "from %d" % i,
                                                       "timestamp": TS % i}]


# --- people and cameras leaving ------------------------------------------------------

def test_operator_leaving_frees_waiter():
    with Api() as api:
        p = poll(api, "o")
        s = socket.create_connection(("127.0.0.1", api.port))
        s.sendall(b"GET /logs?camera=o HTTP/1.1\r\nHost: x\r\n\r\n")
        msg = control(p)
        waiting(api, 1)
        s.close()  # the only waiter leaves: the fetch is abandoned
        waiting(api, 0)
        err(upload(api, stream([]), "camera=o&request_id=" + msg["request_id"]), 409)
        err(upload(api, stream([]), "camera=o"), 409)  # nothing pending without a rid either


def test_camera_vanishing_gives_502_within_grace():
    with Api("--connect-grace", "0.5") as api:
        p = poll(api, "v")
        op = logs(api, "camera=v")
        control(p)
        s = raw_poll(api, "v")  # the re-poll is held, not merely "connected"
        t0 = time.monotonic()
        s.close()
        err(op.result(), 502)
        assert 0.4 < time.monotonic() - t0 < 3, time.monotonic() - t0
        wait_until(lambda: not connected(api, "v"), 5, "camera disconnected")


def test_poll_hangup_is_noticed_at_once():
    with Api() as api:
        s = raw_poll(api, "h")
        assert connected(api, "h")
        s.close()
        wait_metric(api, "camlogs_polls_held", 0, timeout=3)
        assert not connected(api, "h")
        # With no poll, a fetch is 503 after the grace, not delivered to a dead socket.
        err(http("GET", api.url + "/logs?camera=h&timeout=0.3"), 503)


def test_lost_wakeup_is_resent():
    grace = 1.5
    with Api("--connect-grace", str(grace), "--poll-timeout", "20") as api:
        p = poll(api, "l")
        op = logs(api, "camera=l")
        m1 = control(p)  # suppose this 200 was lost on the way
        t0 = time.monotonic()
        # The camera polls again at once: held, and once the grace has passed
        # with no stats, the same message goes out on it (not at --poll-timeout).
        s, _, b = http("GET", api.url + "/control-channel?camera=l", timeout=25)
        took = time.monotonic() - t0
        assert s == 200 and json.loads(b) == m1, (s, b)
        assert grace - 0.1 < took < grace + 3, took
        # A poll that arrives more than a grace after that resend gets it at once.
        time.sleep(grace + 0.2)  # the condition under test: no poll for longer than the grace
        t1 = time.monotonic()
        s, _, b = http("GET", api.url + "/control-channel?camera=l", timeout=10)
        assert s == 200 and json.loads(b) == m1 and time.monotonic() - t1 < grace, (s, b)
        accepted(upload(api, stream([("x", TS % 1)]), "camera=l&request_id=" + m1["request_id"]),
                 1)
        assert records(op.result()) == [("x", TS % 1)]
        # The fetch is over: a held poll stays held (no resend of a finished fetch).
        p = poll(api, "l")
        time.sleep(grace + 0.5)  # longer than the grace: nothing may come
        assert not p.done()


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
                            r"status=400 ms=\d+\.\d{3}", lines[1]), lines
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
