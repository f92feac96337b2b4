"""The api's camera path (docs/API.md, "The camera path"): /control-channel
and /send-stats read by our own HTTP/1.1 machine, over raw sockets so that
every byte and every split is the test's choice. Here: refusals from the
head before any body byte, uploads streamed into the fetch (502 at the
first bad byte; an upload that breaks off is the camera vanishing: 502 after
the connect grace unless it retries), keep-alive and pipelining in
order, hand-off to h2o, chunked framing at every split, smuggling refused
with the connection closed. test_campath_conn.py: deadlines, shutdown, TLS.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Api, Async, run, wait_metric, wait_until  # noqa: E402
from campath_lib import (AUTH, Conn, bearer, cleanup, connected, err, fetch_pending,  # noqa: E402
                         head, metric_auth, stream)


# --- refusals from the head --------------------------------------------------------

def test_401_and_413_from_the_head_with_no_body_sent():
    with Api(*AUTH, "--max-body", "1000") as api:
        big = "Content-Length: 33000000"
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=a", big))  # no credentials, no body
        r = c.reply()
        assert err(r, 401)["error"] == "missing or wrong camera token", r
        assert r[1]["www-authenticate"].startswith("Bearer"), r[1]
        assert c.closed(), "a refused request with a body closes its connection"
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=a", big, bearer("a")))
        assert "max-body" in err(c.reply(), 413)["error"]
        assert c.closed()
        # Just at the limit the head passes on to the state check (no fetch: 409).
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=a", "Content-Length: 1000", bearer("a")))
        err(c.reply(), 409)
        c.close()


def test_expect_100_continue_only_after_the_checks():
    with Api(*AUTH) as api:
        body = stream(2)
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=e", "Content-Length: %d" % len(body),
                    "Expect: 100-continue"))
        err(c.reply(), 401)  # no 100 before it
        c.close()
        logs, rid = fetch_pending(api, "e", auth=True)
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=e&request_id=" + rid,
                    "Content-Length: %d" % len(body), "Expect: 100-continue", bearer("e")))
        assert c.reply()[0] == 100
        c.send(body)
        s, _, b = c.reply()
        assert (s, json.loads(b)) == (200, {"accepted": 2}), (s, b)
        assert logs.result(10)[0] == 200
        c.close()


# --- uploads that fail early --------------------------------------------------------

def test_upload_breaking_off_counts_as_the_camera_vanishing():
    # No poll held: the fetch waits the connect grace for the camera to
    # come back, then 502 (PROTOCOL.md, GET /logs 502).
    with Api("--connect-grace", "0.5") as api:
        logs, rid = fetch_pending(api, "b")
        body = stream(20)
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=b", "Content-Length: %d" % len(body)))
        c.send(body[:len(body) // 2])
        time.sleep(1.5)  # three connect graces: only the upload keeps it connected
        assert connected(api, "b"), "an uploading camera is connected"
        assert not logs.done()
        t0 = time.monotonic()
        c.close()
        s, _, b = logs.result(10)
        took = time.monotonic() - t0
        assert s == 502 and json.loads(b)["error"] == \
            "the camera went away before sending its stats", (s, b)
        assert 0.4 < took < 0.5 + 1.0, took
        wait_until(lambda: not connected(api, "b"), 5, "not connected once the upload is gone")


def test_upload_retried_within_the_grace_after_breaking_off_completes_the_fetch():
    with Api("--connect-grace", "3") as api:
        logs, rid = fetch_pending(api, "r")
        body = stream(5)
        path = "/send-stats?camera=r&request_id=" + rid
        c = Conn(api.port)
        c.send(head("POST", path, "Content-Length: %d" % len(body)))
        c.send(body[:len(body) // 2])
        wait_until(lambda: connected(api, "r"), 5, "uploading")
        c.close()
        time.sleep(0.5)  # the camera's back-off: a failure that must not come has no event
        assert not logs.done(), "a broken-off upload does not fail the fetch at once"
        c = Conn(api.port)
        c.send(head("POST", path, "Content-Length: %d" % len(body)) + body)
        s, _, b = c.reply()
        assert (s, json.loads(b)) == (200, {"accepted": 5}), (s, b)
        s, _, b = logs.result(10)
        assert s == 200 and len(json.loads(b)) == 5, (s, b)
        c.close()


def test_upload_breaking_off_with_a_poll_held_resends_on_it():
    # The camera still polls, so it has not vanished: no 502; the held poll
    # gets the same control message again once the resend time (1 s) passes.
    with Api("--connect-grace", "1", "--poll-timeout", "0") as api:
        logs, rid = fetch_pending(api, "h")
        poll = Async("GET", api.url + "/control-channel?camera=h")
        wait_until(lambda: metric_auth(api, "camlogs_polls_held") == 1, 5, "poll held")
        body = stream(4)
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=h&request_id=" + rid,
                    "Content-Length: %d" % len(body), "Expect: 100-continue"))
        assert c.reply()[0] == 100  # admitted: the upload is in progress
        c.send(body[:10])
        c.close()
        t0 = time.monotonic()
        s, _, b = poll.result(10)
        assert s == 200 and json.loads(b)["request_id"] == rid, (s, b)
        assert 0.5 < time.monotonic() - t0 < 1.0 + 2.0
        assert not logs.done()
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=h&request_id=" + rid,
                    "Content-Length: %d" % len(body)) + body)
        assert c.reply()[0] == 200
        s, _, b = logs.result(10)
        assert s == 200 and len(json.loads(b)) == 4, (s, b)
        c.close()


def test_first_bad_byte_fails_waiters_while_the_upload_stays_open():
    with Api() as api:
        logs, rid = fetch_pending(api, "m")
        good = stream(3)
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=m", "Content-Length: 100000"))
        c.send(good[:-6])  # three records, no EOL yet
        c.read_by(api.port)
        assert not logs.done()
        t0 = time.monotonic()
        bad = b'{"description":"x","timestamp":"2026-13-01T00:00:00Z"}\n'  # month 13
        c.send(bad)
        s, _, b = logs.result(10)
        assert s == 502 and "malformed" in json.loads(b)["error"], (s, b)
        assert time.monotonic() - t0 < 1.0
        e = err(c.reply(), 400)
        assert e["line"] == 4 and e["offset"] == len(good) - 6 + bad.index(b"-13") + 2, e
        assert c.closed()


def test_chunked_upload_over_max_body_is_413():
    with Api("--max-body", "500") as api:
        logs, rid = fetch_pending(api, "o")
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=o", "Transfer-Encoding: chunked"))
        line = b'{"description":"%s","timestamp":"2026-01-01T00:00:00Z"}\n' % (b"d" * 40)
        for _ in range(20):
            c.send(b"%x\r\n%s\r\n" % (len(line), line))
            if logs.done():
                break
        assert logs.result(10)[0] == 502
        assert "max-body" in err(c.reply(), 413)["error"]
        assert c.closed()


# --- keep-alive and pipelining ---------------------------------------------------------

def test_pipelined_upload_then_healthz_answered_in_order():
    with Api() as api:
        logs, rid = fetch_pending(api, "p")
        body = stream(5)
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=p", "Content-Length: %d" % len(body)) + body +
               head("GET", "/healthz") + head("GET", "/healthz", "Connection: close"))
        s, _, b = c.reply()
        assert (s, json.loads(b)) == (200, {"accepted": 5}), (s, b)
        for _ in range(2):
            s, _, b = c.reply()
            assert (s, json.loads(b)) == (200, {"status": "ok"}), (s, b)
        assert c.closed()
        assert len(json.loads(logs.result(10)[2])) == 5


def test_one_connection_poll_204_poll_200_upload_poll():
    with Api("--poll-timeout", "1") as api:
        c = Conn(api.port)
        poll = head("GET", "/control-channel?camera=k")
        c.send(poll)
        wait_metric(api, "camlogs_polls_held", 1)
        assert c.reply()[0] == 204
        c.send(poll)
        wait_metric(api, "camlogs_polls_held", 1)
        logs = Async("GET", api.url + "/logs?camera=k&timeout=10")
        s, _, b = c.reply()
        assert s == 200, (s, b)
        rid = json.loads(b)["request_id"]
        body = stream(4)
        c.send(head("POST", "/send-stats?camera=k&request_id=" + rid,
                    "Content-Length: %d" % len(body)) + body)
        s, _, b = c.reply()
        assert (s, json.loads(b)) == (200, {"accepted": 4}), (s, b)
        assert len(json.loads(logs.result(10)[2])) == 4
        c.send(poll)
        wait_metric(api, "camlogs_polls_held", 1)
        assert c.reply()[0] == 204  # held again, on the same connection
        c.close()


def test_operator_requests_after_a_camera_request_go_to_h2o():
    with Api() as api:
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=h", "Content-Length: 0"))
        err(c.reply(), 409)  # the camera path, no body: keep-alive
        c.send(head("GET", "/healthz"))
        s, h, b = c.reply()
        assert (s, json.loads(b)) == (200, {"status": "ok"}), (s, b)
        assert h.get("server", "").startswith("h2o"), h  # h2o answered it
        c.send(head("GET", "/logs?camera=h&timeout=0.2"))
        assert err(c.reply(), 503)["camera"] == "h"
        # The connection is h2o's now: a camera request on it still works.
        c.send(head("GET", "/control-channel?camera=h"))
        wait_metric(api, "camlogs_polls_held", 1)
        c.close()
        wait_metric(api, "camlogs_polls_held", 0)  # h2o's hang-up watch


def test_held_poll_hangup_and_pipelined_bytes():
    with Api("--poll-timeout", "0") as api:
        c = Conn(api.port)
        c.send(head("GET", "/control-channel?camera=z"))
        wait_metric(api, "camlogs_polls_held", 1)
        c.close()  # read from the connection itself
        wait_metric(api, "camlogs_polls_held", 0, timeout=1)
        c = Conn(api.port)
        c.send(head("GET", "/control-channel?camera=z") + head("GET", "/healthz"))
        wait_metric(api, "camlogs_polls_held", 1)
        logs = Async("GET", api.url + "/logs?camera=z&timeout=1")
        assert c.reply()[0] == 200  # the poll, then the request that waited behind it
        assert json.loads(c.reply()[2]) == {"status": "ok"}
        c.close()
        assert logs.result(10)[0] == 504


# --- framing ------------------------------------------------------------------------------

def chunked(body, sizes):
    out, i = b"", 0
    for n in sizes:
        out += b"%x;ext=\"v\"\r\n%s\r\n" % (n, body[i:i + n])
        i += n
    assert i == len(body)
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


def test_chunked_upload_split_at_every_byte():
    with Api() as api:
        body = stream(3)
        framed = chunked(body, [1, 17, len(body) - 18])
        req = head("POST", "/send-stats?camera=c", "Transfer-Encoding: chunked") + framed
        start = len(req) - len(framed)
        # Every split point of the framing, one upload each ...
        for cut in range(start, len(req), max(1, len(framed) // 40)):
            logs, rid = fetch_pending(api, "c")
            c = Conn(api.port)
            c.send(req[:cut])
            time.sleep(0.005)
            c.send(req[cut:])
            s, _, b = c.reply()
            assert (s, json.loads(b)) == (200, {"accepted": 3}), (cut, s, b)
            assert len(json.loads(logs.result(10)[2])) == 3
            c.close()
        # ... and one upload a byte at a time: a boundary after every byte.
        logs, rid = fetch_pending(api, "c")
        c = Conn(api.port)
        for i in range(len(req)):
            c.send(req[i:i + 1])
            time.sleep(0.001)
        assert c.reply()[0] == 200
        assert [r["description"] for r in json.loads(logs.result(10)[2])] == [
            "event 0", "event 1", "event 2"]


SMUGGLING = [
    ("CL and TE", ["Content-Length: 5", "Transfer-Encoding: chunked"], 400),
    ("TE and CL", ["Transfer-Encoding: chunked", "Content-Length: 5"], 400),
    ("two lengths", ["Content-Length: 5", "Content-Length: 6"], 400),
    ("length list", ["Content-Length: 5, 5"], 400),
    ("TE not chunked", ["Transfer-Encoding: gzip"], 501),
    ("TE chunked twice", ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], 400),
    ("space before colon", ["Content-Length : 5"], 400),
    ("obs-fold", ["X-A: 1", " folded"], 400),
    ("bare LF field", None, 400),
]


def test_smuggling_refused_and_connection_closed():
    with Api() as api:
        for name, fields, want in SMUGGLING:
            for path in ("/send-stats?camera=s", "/healthz"):
                if fields is None:
                    req = b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\nX: y\r\n\r\n"
                else:
                    req = head("POST", path, *fields)
                c = Conn(api.port)
                # What would be smuggled: a second request after a short body.
                c.send(req + b"0\r\n\r\n" + head("GET", "/healthz"))
                s, h, b = c.reply()
                assert s == want and h.get("content-type") == "application/json", (name, s, b)
                assert h.get("connection") == "close", (name, h)
                assert c.closed(), name
                assert b"HTTP/1.1" not in c.buf, (name, c.buf)  # nothing answered after it
        # Bad chunk framing inside an upload the api reads.
        logs, rid = fetch_pending(api, "s")
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=s", "Transfer-Encoding: chunked") +
               b"5\r\nEOL\n\r\n" + b"zz\r\n")
        assert err(c.reply(), 400)
        assert c.closed()
        assert logs.result(10)[0] == 502


if __name__ == "__main__":
    try:
        run(globals())
    finally:
        cleanup()
