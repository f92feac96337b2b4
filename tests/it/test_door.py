"""The front door (issue 20, docs/HTTP1.md "One reader for every request"):
every HTTP/1.1 request on every connection is read by our machine, operator
requests included, and answered in order on the same connection; no body is
read before its request's credentials pass; the contract's keep-alive rule
after a 409 or a 400 for a parameter; errors are JSON everywhere."""
import json
import re
import signal
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Async, run, wait_metric  # noqa: E402
from campath_lib import AUTH, OP, Conn, bearer, cleanup, err, head  # noqa: E402


def test_operator_requests_stay_on_our_machine_in_order():
    """/healthz, a 404, /cameras, HEAD /, a 409 and /healthz again, all
    pipelined on one connection: answered in order, keep-alive, JSON errors;
    leading empty lines before a request are fine."""
    with Api() as api:
        c = Conn(api.port)
        c.send(b"\r\n\r\n" + head("GET", "/healthz") + head("GET", "/nosuch")
               + head("GET", "/cameras") + head("HEAD", "/")
               + head("POST", "/send-stats?camera=o", "Content-Length: 3") + b"abc"
               + head("GET", "/healthz"))
        s, h, b = c.reply()
        assert (s, json.loads(b)) == (200, {"status": "ok"}), (s, b)
        assert err(c.reply(), 404)["error"] == "no such endpoint"
        s, _, b = c.reply()
        assert (s, json.loads(b)) == (200, []), (s, b)
        while b"\r\n\r\n" not in c.buf:  # HEAD: Content-Length, and no body
            c._fill()
        hd, c.buf = c.buf.split(b"\r\n\r\n", 1)
        assert hd.startswith(b"HTTP/1.1 200") and b"Content-Length: " in hd, hd
        assert err(c.reply(), 409)["camera"] == "o"
        assert c.reply()[0] == 200
        assert not c.closed(timeout=0.3)  # still open for the next request
        c.close()


def test_no_body_read_before_credentials_after_an_operator_request():
    """A connection that began with /healthz still refuses an upload without
    credentials from its head (401 at once, no body byte sent), and an
    oversized one (413), and closes."""
    with Api(*AUTH, "--max-body", "1000") as api:
        c = Conn(api.port)
        c.send(head("GET", "/healthz"))
        assert c.reply()[0] == 200
        c.send(head("POST", "/send-stats?camera=a", "Content-Length: 16000000"))
        r = c.reply()
        assert err(r, 401)["camera"] == "a", r
        assert c.closed()
        c = Conn(api.port)
        c.send(head("GET", "/healthz", "Authorization: Bearer " + OP))
        assert c.reply()[0] == 200
        c.send(head("POST", "/send-stats?camera=a", "Content-Length: 16000000", bearer("a")))
        assert "max-body" in err(c.reply(), 413)["error"]
        assert c.closed()


def test_the_machines_refusals_apply_to_every_request():
    """What h2o's parser took from a second request on (two Content-Lengths,
    bare LF, obs-fold, CL with TE, a 40 KB head) is refused with JSON."""
    cases = [
        (b"GET /healthz HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 40000 + b"\r\n\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-F%d: 1\r\n" % i for i in range(60))
         + b"\r\n", 431),
    ]
    with Api() as api:
        for raw_req, want in cases:
            c = Conn(api.port)
            c.send(head("GET", "/healthz"))
            assert c.reply()[0] == 200
            c.send(raw_req)
            e = err(c.reply(), want)
            assert "error" in e, e
            assert c.closed(), raw_req[:60]


def test_a_held_logs_waiter_on_our_connection_sees_its_hangup():
    """A /logs waiter held for h2o's handler on one of our connections: its
    client leaving ends it at once (held.c's watch), and one answered keeps
    the connection for the next request."""
    with Api("--poll-timeout", "0") as api:
        c = Conn(api.port)
        c.send(head("GET", "/logs?camera=w&timeout=60"))
        wait_metric(api, "camlogs_logs_waiting", 1)
        c.close()
        wait_metric(api, "camlogs_logs_waiting", 0)
        c = Conn(api.port)
        c.send(head("GET", "/logs?camera=w&timeout=0.2") + head("GET", "/healthz"))
        assert err(c.reply(), 503)["camera"] == "w"
        assert c.reply()[0] == 200


def test_keepalive_after_a_409_and_a_400_for_a_parameter():
    """The contract: a refusal after the credentials passed, whose body can be
    skipped, keeps the connection; what is pipelined behind it is answered in
    order. A 401, a body over --max-body by its head, or Expect: 100-continue
    close it."""
    with Api(*AUTH, "--max-body", "1000") as api:
        c = Conn(api.port)
        c.send(head("POST", "/send-stats?camera=k", "Content-Length: 1000", bearer("k"))
               + b"x" * 1000
               + head("POST", "/send-stats?camera=k&request_id=%21", "Transfer-Encoding: chunked",
                      bearer("k"))
               + b"5\r\nhello\r\n0\r\n\r\n"
               + head("GET", "/healthz"))
        assert err(c.reply(), 409)["camera"] == "k"
        e = err(c.reply(), 400)
        assert e["camera"] == "k" and "request_id" in e["error"], e
        assert c.reply()[0] == 200
        # The body may follow the 409 later: it is still dropped.
        c.send(head("POST", "/send-stats?camera=k", "Content-Length: 10", bearer("k")))
        assert err(c.reply(), 409)["camera"] == "k"
        c.send(b"0123456789" + head("GET", "/healthz"))
        assert c.reply()[0] == 200
        # A chunked body that runs over --max-body ends the connection.
        c.send(head("POST", "/send-stats?camera=k", "Transfer-Encoding: chunked", bearer("k")))
        assert err(c.reply(), 409)["camera"] == "k"
        c.send(b"7d0\r\n" + b"y" * 2000 + b"\r\n0\r\n\r\n" + head("GET", "/healthz"))
        assert c.closed() and c.buf == b"", c.buf
        for fields in (("Content-Length: 5",),  # no token: 401
                       ("Content-Length: 1001", bearer("k")),  # over --max-body: 413
                       ("Content-Length: 5", "Expect: 100-continue", bearer("k"))):
            c = Conn(api.port)
            c.send(head("POST", "/send-stats?camera=k", *fields))
            assert c.reply()[0] in (401, 409, 413)
            assert c.closed(), fields


def test_fractional_durations():
    """Durations take fractions (--poll-timeout 0.5 ends a poll with 204
    after about half a second); below 0.1 other than 0 is exit 2."""
    with Api("--poll-timeout", "0.5", "--connect-grace", "0.5", "--head-timeout", "0.5") as api:
        c = Conn(api.port)
        t0 = time.monotonic()
        c.send(head("GET", "/control-channel?camera=f"))
        assert c.reply()[0] == 204
        assert time.monotonic() - t0 >= 0.45
    for flag in ("--poll-timeout", "--connect-grace", "--head-timeout", "--request-timeout"):
        p = subprocess.run([os.path.join(harness.BIN, "api"), "--listen", "127.0.0.1:0", flag,
                            "0.05"], capture_output=True, text=True, timeout=10)
        lines = p.stderr.splitlines()
        assert p.returncode == 2 and len(lines) == 1, (p.returncode, lines)
        assert flag in lines[0] and "0.1" in lines[0], lines


def pending_upload(api, cam):
    """A fetch for `cam` and its upload's connection, a body byte sent."""
    fetch = Async("GET", api.url + "/logs?camera=%s&timeout=20" % cam, timeout=25)
    poll = Conn(api.port)
    poll.send(head("GET", "/control-channel?camera=" + cam))
    assert poll.reply()[0] == 200
    c = Conn(api.port)
    c.send(head("POST", "/send-stats?camera=" + cam, "Content-Length: 100") + b"{")
    return fetch, c


def test_camera_errors_of_an_upload_name_their_camera():
    """The 408 for a slow upload body and the 503 for one in flight at
    shutdown carry "camera"."""
    with Api("--request-timeout", "1") as api:
        fetch, c = pending_upload(api, "s")
        e = err(c.reply(), 408)
        assert e["camera"] == "s" and "request-timeout" in e["error"], e
        fetch.result(25)
    with Api() as api:
        fetch, c = pending_upload(api, "t")
        wait_metric(api, "camlogs_logs_waiting", 1)
        api.send_signal(signal.SIGTERM)
        e = err(c.reply(), 503)
        assert e["camera"] == "t" and "shutting down" in e["error"], e


def test_head_timeout_and_the_pending_cap():
    """An idle new connection is closed at --head-timeout; a head started and
    not finished gets 408 naming it; at --max-pending the oldest connection
    without a head is closed to admit a new one, which is served."""
    with Api("--head-timeout", "0.5", "--max-pending", "4") as api:
        c = Conn(api.port)
        t0 = time.monotonic()
        assert c.closed(timeout=5) and c.buf == b""
        assert time.monotonic() - t0 >= 0.4
        c = Conn(api.port)
        c.send(b"GET /healthz HTTP/1.1\r\n")
        assert "head-timeout" in err(c.reply(), 408)["error"]
    with Api("--head-timeout", "60", "--max-pending", "4") as api:
        idle = [Conn(api.port) for _ in range(4)]  # accepted in this order
        late = Conn(api.port)
        assert idle[0].closed(timeout=5)  # the oldest made room
        late.send(head("GET", "/healthz"))
        assert late.reply()[0] == 200
        for c in idle[1:]:
            c.send(head("GET", "/healthz"))
        for c in idle[1:]:
            assert c.reply()[0] == 200


def test_healthz_and_a_poll_during_an_idle_flood_under_256_descriptors():
    """300 idle connections against an api with 256 descriptors: /healthz
    answers and a camera's poll is held (the pending cap closes the oldest
    idle ones; before, accept stalled)."""
    import resource
    import shutil
    if shutil.which("prlimit") is None:
        raise harness.Skip("no prlimit")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    with Api("--poll-timeout", "0", prefix=("prlimit", "--nofile=256")) as api:
        flood = []
        for _ in range(300):
            try:
                flood.append(socket.create_connection(("127.0.0.1", api.port), timeout=5))
            except OSError:
                pass
        for _ in range(10):
            c = Conn(api.port)
            c.send(head("GET", "/healthz"))
            assert c.reply()[0] == 200
            c.close()
        poll = Conn(api.port)
        poll.send(head("GET", "/control-channel?camera=flood"))
        wait_metric(api, "camlogs_polls_held", 1)
        for s in flood:
            s.close()
        poll.close()


def _window(ends):
    """The api's end of a connection (local, remote): "closed" while it
    probes a closed window, "sent" when it has nothing left to send, "gone"
    when the socket is; else None."""
    st = harness.tcp_socket(*ends)
    if st is None:
        return "gone"
    return "closed" if st["timer"] == 4 else "sent" if st["tx"] == 0 else None


def test_a_slow_reader_of_a_long_reply_is_not_cut_while_it_reads():
    """A /logs reply of about 1 MiB read in bursts of 256 KiB; between bursts
    the reader stops for 2 s once the api's end sees the window closed
    (/proc/net/tcp: the zero-window probe timer), with --tcp-user-timeout 1:
    TCP_USER_TIMEOUT
    is lifted while the reply goes out (before, the closed window tripped it
    and the reply was cut), and the write deadline (--request-timeout 5)
    counts progress, not the whole reply."""
    line = json.dumps({"description": "y" * 200, "timestamp": "2026-11-28T06:44:00.000Z"}) + "\n"
    n = 1024 * 1024 // len(line)
    body = (line * n + "EOL %d\n" % n).encode()
    with Api("--poll-timeout", "0", "--tcp-user-timeout", "1", "--request-timeout", "5") as api:
        r = socket.socket()
        r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        r.connect(("127.0.0.1", api.port))
        r.sendall(head("GET", "/logs?camera=slow&timeout=60"))
        wait_metric(api, "camlogs_logs_waiting", 1)
        poll = Conn(api.port)
        poll.send(head("GET", "/control-channel?camera=slow"))
        rid = json.loads(poll.reply()[2])["request_id"]
        poll.send(head("POST", "/send-stats?camera=slow&request_id=" + rid,
                       "Content-Length: %d" % len(body)) + body)
        assert poll.reply()[0] == 200
        got = b""
        r.settimeout(10)
        while b"\r\n\r\n" not in got:
            got += r.recv(4096)
        want = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", got).group(1))
        start = got.index(b"\r\n\r\n") + 4
        t0, stalls = time.monotonic(), 0
        ends = (("127.0.0.1", api.port), r.getsockname())
        while len(got) - start < want:
            how = harness.wait_until(lambda: _window(ends), 10, "the window closed (or all sent)")
            stalls += how == "closed"
            # The scenario is a duration: the window stays closed past the
            # user timeout and the kernel's check at its probes (0.2, 0.6,
            # 1.4 s at loopback's minimum RTO). Nothing else to wait for.
            time.sleep(2)
            burst = len(got) + 256 * 1024
            while len(got) < burst and len(got) - start < want:
                try:
                    b = r.recv(65536)
                except ConnectionResetError:
                    b = b""
                assert b, "cut after %d of %d bytes, %.1f s" % (len(got) - start, want,
                                                                 time.monotonic() - t0)
                got += b
        assert len(json.loads(got[start:])) == n
        took = time.monotonic() - t0
        print("  %d stops on a closed window; the reply took %.1f s" % (stalls, took))
        assert stalls >= 3 and took > 5, (stalls, took)  # the scenario happened
        r.close()


if __name__ == "__main__":
    try:
        run(globals())
    finally:
        cleanup()
