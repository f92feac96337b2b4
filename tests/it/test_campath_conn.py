"""The camera path's connections (docs/API.md, "The camera path"): the
request timeout, shutdown of every kind of connection, TLS by ALPN."""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Skip, metric, run, wait_metric, wait_until  # noqa: E402
from campath_lib import TMP, Conn, cleanup, err, fetch_pending, head  # noqa: E402


def test_slow_head_cut_by_request_timeout():
    with Api("--request-timeout", "1") as api:
        c = Conn(api.port)
        t0 = time.monotonic()
        c.send(b"GET /control-channel?camera=t HTTP/1.1\r\n")
        got = None
        while got is None and time.monotonic() - t0 < 8:
            time.sleep(0.2)
            try:
                c.send(b"X-Slow: 1\r\n")  # progress does not extend the deadline
            except (BrokenPipeError, ConnectionResetError):
                break
            c.s.settimeout(0.01)
            try:
                if c.s.recv(1, socket.MSG_PEEK):
                    got = c.reply()
            except socket.timeout:
                pass
            c.s.settimeout(5)
        took = time.monotonic() - t0
        assert got is not None, "no reply within %.1fs" % took
        assert 0.9 < took < 5, took
        assert "request-timeout" in err(got, 408)["error"]
        assert metric(api, "camlogs_polls_held") == 0
        # An idle keep-alive connection is closed at the same deadline, silently.
        c = Conn(api.port)
        c.send(head("POST", "/send-stats", "Content-Length: 0"))
        err(c.reply(), 409)
        t0 = time.monotonic()
        assert c.closed(timeout=5) and c.buf == b""
        assert 0.8 < time.monotonic() - t0 < 5


# --- shutdown ----------------------------------------------------------------------------

def test_sigterm_ends_every_kind_of_camera_connection():
    """Held poll, upload in progress, idle keep-alive, half a head: each is
    answered or closed, and the api exits 0 (under ASan: without a leak)."""
    api = Api("--poll-timeout", "0")
    try:
        logs, rid = fetch_pending(api, "u")
        up = Conn(api.port)
        up.send(head("POST", "/send-stats?camera=u", "Content-Length: 1000") + b'{"desc')
        poll = Conn(api.port)
        poll.send(head("GET", "/control-channel?camera=v"))
        wait_metric(api, "camlogs_polls_held", 1)
        idle = Conn(api.port)
        idle.send(head("POST", "/send-stats?camera=w", "Content-Length: 0"))
        err(idle.reply(), 409)
        half = Conn(api.port)
        half.send(b"GET /control-channel?camera=x HTTP/1.1\r\nHost:")
        up.read_by(api.port)  # the half body and the half head are in: the state under test
        half.read_by(api.port)
        api.send_signal(signal.SIGTERM)
        assert err(poll.reply(), 503)["error"] == "the api is shutting down"
        assert err(up.reply(), 503)
        assert logs.result(10)[0] == 503
        assert err(half.reply(), 503)
        for c in (poll, up, idle, half):
            assert c.closed(), "still open after shutdown"
        assert api.wait(harness.signal_limit() + 2) == 0, api.stderr
    finally:
        api.kill()


# --- TLS ---------------------------------------------------------------------------------

def make_cert():
    key, crt = os.path.join(TMP, "k.pem"), os.path.join(TMP, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True,
                   timeout=60)
    os.chmod(key, 0o600)
    return crt, key


def tls_conn(port, crt, alpn):
    ctx = ssl.create_default_context(cafile=crt)
    ctx.set_alpn_protocols(alpn)
    c = Conn.__new__(Conn)
    c.s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                          server_hostname="127.0.0.1")
    c.buf = b""
    return c


def test_tls_camera_path_and_h2():
    if shutil.which("openssl") is None:
        raise Skip("no openssl CLI")
    crt, key = make_cert()
    with Api("--tls-cert", crt, "--tls-key", key, "--poll-timeout", "0", "--http2") as api:
        def m(name):
            return float([ln for ln in tls_get(api.port, crt, "/metrics").splitlines()
                          if ln.startswith(name + " ")][0].split()[-1])
        c = tls_conn(api.port, crt, ["http/1.1"])
        assert c.s.selected_alpn_protocol() == "http/1.1"
        c.send(head("GET", "/control-channel?camera=tls"))
        wait_until(lambda: m("camlogs_polls_held") == 1, 5, "TLS poll held")
        c.close()
        wait_until(lambda: m("camlogs_polls_held") == 0, 1, "TLS hang-up noticed")
        # h2 still goes to h2o's HTTP/2.
        c = tls_conn(api.port, crt, ["h2", "http/1.1"])
        assert c.s.selected_alpn_protocol() == "h2"
        c.close()


def test_http2_off_by_default():
    """Without --http2 the api speaks only HTTP/1.1: ALPN gives http/1.1 to a
    client offering h2, and HTTP/2 with prior knowledge is refused, so h2o's
    HTTP/2 (which buffers bodies before any check) is out of reach."""
    if shutil.which("openssl") is None:
        raise Skip("no openssl CLI")
    crt, key = make_cert()
    with Api("--tls-cert", crt, "--tls-key", key) as api:
        c = tls_conn(api.port, crt, ["h2", "http/1.1"])
        assert c.s.selected_alpn_protocol() == "http/1.1"
        c.close()
    with Api() as api:
        c = Conn(api.port)
        c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        s, _, _ = c.reply()
        assert s == 400, s
        assert c.closed()
        c = Conn(api.port)
        c.send(head("GET", "/healthz", "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings",
                    "HTTP2-Settings: AAMAAABkAAQAAP__"))
        s, h, _ = c.reply()
        assert s == 200 and "upgrade" not in h, (s, h)


def test_operator_request_with_a_body_refused_from_its_head():
    """h2o would read the whole body before answering: the camera path
    refuses it from the head (405/404/413, connection closed), no body byte
    sent, credentials or not."""
    with Api("--max-body", "100000000") as api:
        for method, path, want in (("POST", "/healthz", 405), ("POST", "/logs", 405),
                                   ("GET", "/logs?camera=a", 413), ("POST", "/nosuch", 404),
                                   ("POST", "/", 405), ("GET", "/cameras", 413)):
            c = Conn(api.port)
            c.send(head(method, path, "Content-Length: 50000000"))
            e = err(c.reply(), want)
            assert "error" in e, e
            assert c.closed(), (method, path)
            c = Conn(api.port)
            c.send(head(method, path, "Transfer-Encoding: chunked"))
            err(c.reply(), want)
            assert c.closed(), (method, path)


def test_bytes_piled_behind_a_held_poll():
    """A held poll keeps reading: a little pipelined input waits its turn,
    more than a request's worth ends the poll like a hang-up (else the
    hang-up behind it would never be read)."""
    with Api("--poll-timeout", "0") as api:
        c = Conn(api.port)
        c.send(head("GET", "/control-channel?camera=pile"))
        wait_metric(api, "camlogs_polls_held", 1, 5)
        c.send(b"x" * 9000)
        wait_metric(api, "camlogs_polls_held", 0, 5)
        assert c.closed()
        c = Conn(api.port)
        c.send(head("GET", "/control-channel?camera=pile2") + head("GET", "/healthz"))
        wait_metric(api, "camlogs_polls_held", 1, 5)
        assert not c.closed(timeout=0.3)  # the pipelined request waits its turn
        assert metric(api, "camlogs_polls_held") == 1
        c.close()
        wait_metric(api, "camlogs_polls_held", 0, 5)


def test_request_timeout_counts_from_the_first_byte():
    """Idle time before a request is not taken from its --request-timeout:
    a head that starts 1.5 s into an idle connection and takes 1 s more is
    read (the timer restarts at its first byte)."""
    with Api("--request-timeout", "2") as api:
        c = Conn(api.port)
        time.sleep(1.5)  # the scenario: an idle connection, then a request
        c.send(b"GET /control-channel?camera=late HTTP/1.1\r\n")
        time.sleep(1.0)
        c.send(b"Host: x\r\n\r\n")
        wait_metric(api, "camlogs_polls_held", 1, 5)
        c.close()


def tls_get(port, crt, path):
    c = tls_conn(port, crt, ["http/1.1"])
    c.send(head("GET", path, "Connection: close"))
    s, _, b = c.reply()
    c.close()
    assert s == 200, (s, b)
    return b.decode()


if __name__ == "__main__":
    try:
        run(globals())
    finally:
        cleanup()
