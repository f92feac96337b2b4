"""Conformance of the real api to PROTOCOL.md, over real HTTP on loopback:
polls and fetches, send-stats failures, joins and filters, people and
cameras leaving (test_api_checks.py: the order of checks, parameters,
metrics, the command line and bad input).

The test acts as camera and operator itself (no camera process), so every
status path can be driven deliberately (api_lib.py).
"""
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_lib import (TS, accepted, connected, control, err, logs, poll, raw_poll,  # noqa: E402
                     records, stream, upload, waiting)
from harness import Api, Async, get_json, http, run, wait_metric, wait_until  # noqa: E402


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


if __name__ == "__main__":
    run(globals())
