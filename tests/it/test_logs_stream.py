"""A /logs reply produced as the client reads it (issue 20 item 5; docs/API.md
"Slow readers"): a reply of many 16 KiB slices arrives byte for byte what
the whole reply is (JSON with every kind of escape), over plain HTTP/1.1,
pipelined behind and before other requests (in order), TLS and HTTP/2;
clients that do not read hold a bounded amount of the api's memory; clients
that leave mid-reply cost nothing (the api stops cleanly: under ASan, no
leak). The slow reader that is not cut is test_door's
test_a_slow_reader_of_a_long_reply_is_not_cut_while_it_reads."""
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Skip, run, wait_metric, wait_until  # noqa: E402
from campath_lib import TMP, Conn, cleanup, head  # noqa: E402
from numcam import NumCam  # noqa: E402

# Descriptions with every escape the writer makes (short ones, \u00XX, none
# for 0x7F, '/' and non-ASCII), long enough that a reply spans many slices.
ODD = "q\"b\\n\nr\rt\tb\bf\f\x01\x1f\x7f/\u00e9\u6f22\U0001F600 "


def events(n, width=300):
    out = []
    for i in range(n):
        d = ("%d " % i + ODD * (1 + i % 7))[:width]
        out.append({"description": d + "x" * (width - len(d)) if i % 3 else d,
                    "timestamp": "2026-11-28T06:%02d:%02d.%03dZ" % (i // 60000 % 60,
                                                                     i // 1000 % 60, i % 1000)})
    return out


def whole(recs):
    """The reply the api made whole before: its exact bytes."""
    return json.dumps(recs, ensure_ascii=False, separators=(",", ":")).encode()


def cam_with(api, cid, recs, epoch=None):
    cam = NumCam(api, cid, epoch)
    for r in recs:
        cam.add(1, ts=r["timestamp"], desc="")
        cam.events[-1] = (cam.events[-1][0], r["description"], r["timestamp"])
    return cam


def test_a_reply_of_many_slices_is_byte_identical_and_pipelined_in_order():
    """Two /logs (the second with limit) and a /healthz pipelined on one
    connection: answered in order, each body exactly the whole reply's."""
    recs = events(2000)  # 744 KiB: over 40 slices
    with Api("--poll-timeout", "0") as api:
        cam = cam_with(api, "p", recs)
        cam.start_poll()
        c = Conn(api.port, timeout=20)
        c.send(head("GET", "/logs?camera=p&timeout=20") + head("GET", "/healthz")
               + head("GET", "/logs?camera=p&limit=7&timeout=20"))
        cam.serve()
        cam.start_poll()  # for the second /logs, read after the first reply
        s, h, b = c.reply()
        assert s == 200 and h["content-length"] == str(len(whole(recs))), (s, h)
        assert b == whole(recs), "the reply differs from the whole one"
        assert json.loads(b) == recs
        s, _, b = c.reply()
        assert (s, json.loads(b)) == (200, {"status": "ok"}), (s, b)
        cam.serve()
        s, _, b = c.reply()
        assert s == 200 and b == whole(recs[-7:]), (s, b[:200])
        assert not c.closed(timeout=0.3)  # keep-alive after a reply in slices
        c.close()


def make_cert():
    key, crt = os.path.join(TMP, "ls_k.pem"), os.path.join(TMP, "ls_c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days",
                    "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return crt, key


def tls_conn(port, crt):
    ctx = ssl.create_default_context(cafile=crt)
    ctx.set_alpn_protocols(["http/1.1"])
    c = Conn.__new__(Conn)
    c.s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                          server_hostname="127.0.0.1")
    c.buf = b""
    return c


def tls_get(port, crt, path):
    c = tls_conn(port, crt)
    c.send(head("GET", path))
    r = c.reply()
    c.close()
    return r


def test_over_tls_and_http2():
    """A numbering camera's fresh reply over TLS, then the cache's answer
    (stale=1, the camera away) to TLS HTTP/1.1 and to HTTP/2 over TLS
    (curl): the whole reply's bytes each time."""
    if shutil.which("openssl") is None or shutil.which("curl") is None:
        raise Skip("no openssl or curl")
    recs = events(1500)
    crt, key = make_cert()
    ep = "e00000000000000a1"
    with Api("--tls-cert", crt, "--tls-key", key, "--http2", "--connect-grace", "0.3") as api:
        poll, reader = tls_conn(api.port, crt), tls_conn(api.port, crt)
        poll.send(head("GET", "/control-channel?camera=t&epoch=" + ep))
        reader.send(head("GET", "/logs?camera=t&timeout=20"))
        rid = json.loads(poll.reply()[2])["request_id"]
        body = ("".join(json.dumps(dict(r, seq=i + 1)) + "\n" for i, r in enumerate(recs))
                + "EOL %d\n" % len(recs)).encode()
        poll.send(head("POST", "/send-stats?camera=t&epoch=%s&first=1&request_id=%s" % (ep, rid),
                       "Content-Length: %d" % len(body)) + body)
        assert poll.reply()[0] == 200
        poll.close()
        s, h, b = reader.reply()
        assert s == 200 and b == whole(recs), (s, h)
        reader.close()
        wait_until(lambda: not json.loads(tls_get(api.port, crt, "/cameras")[2])[0]["connected"],
                   10, "the camera away")
        s, h, b = tls_get(api.port, crt, "/logs?camera=t&stale=1")
        assert s == 200 and "camlogs-cached" in h and b == whole(recs), (s, h)
        out = subprocess.run(["curl", "-sS", "--http2", "--cacert", crt, "-D", "-",
                              "https://127.0.0.1:%d/logs?camera=t&stale=1" % api.port],
                             capture_output=True, timeout=30)
        assert out.returncode == 0, out.stderr
        hd, got = out.stdout.split(b"\r\n\r\n", 1)
        assert hd.lower().startswith(b"http/2 200") and b"camlogs-cached: " in hd.lower(), hd
        assert got == whole(recs), "the HTTP/2 reply differs"


def upload_body(recs):
    return ("".join(json.dumps(r) + "\n" for r in recs) + "EOL %d\n" % len(recs)).encode()


def waiters(api, n, cam, rcvbuf):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect(("127.0.0.1", api.port))
        s.sendall(head("GET", "/logs?camera=%s&timeout=30" % cam))
        socks.append(s)
    wait_metric(api, "camlogs_logs_waiting", n, timeout=10)
    return socks


def serve(api, cam, body):
    poll = Conn(api.port)
    poll.send(head("GET", "/control-channel?camera=" + cam))
    rid = json.loads(poll.reply()[2])["request_id"]
    poll.send(head("POST", "/send-stats?camera=%s&request_id=%s" % (cam, rid),
                   "Content-Length: %d" % len(body)) + body)
    assert poll.reply()[0] == 200
    poll.close()


def test_clients_that_do_not_read_hold_a_bounded_amount():
    """10 clients that never read a 6.9 MiB reply (more than the kernel takes
    from a connection whose reader does not read): the api grows by less
    than 256 KiB each beyond what one reader that read it all left it at
    (the upload and its records, give or take one copy of those); whole
    replies held most of theirs each (before: 70 MiB in all)."""
    recs = events(18000, width=330)
    body, n = upload_body(recs), 10
    with Api("--poll-timeout", "0") as api:
        (s,) = waiters(api, 1, "m", 1 << 20)
        serve(api, "m", body)
        c = Conn.__new__(Conn)
        c.s, c.buf = s, b""
        s.settimeout(20)
        got = c.reply()
        assert got[0] == 200 and got[2] == whole(recs)
        s.close()
        r0 = harness.rss_kib(api.p.pid)
        socks = waiters(api, n, "m", 4096)
        serve(api, "m", body)
        wait_metric(api, "camlogs_logs_waiting", 0, timeout=10)
        for s in socks:  # each has its head and first bytes: its reply started
            s.settimeout(10)
            assert s.recv(16).startswith(b"HTTP/1.1 200")
        grew = harness.rss_kib(api.p.pid) - r0
        # The second upload's records need not land in the memory the first
        # one's left (malloc's free lists, arenas): one copy of them is
        # allowed on top of 256 KiB a reader (whole replies: 10 copies).
        bound = n * 256 + len(body) // 1024
        if not harness.sanitized():  # ASan keeps freed memory in quarantine
            assert grew < bound, "%d KiB for %d readers of %d KiB" % (grew, n, len(body) // 1024)
        for s in socks:
            s.close()


def test_clients_that_leave_mid_reply():
    """Readers that leave after part of a reply (closed, or reset), or before
    reading any: the others get theirs whole, the api serves on and stops
    with exit 0 (under ASan: nothing leaked)."""
    recs = events(3000)
    body = upload_body(recs)
    with Api("--poll-timeout", "0") as api:
        socks = waiters(api, 6, "g", 8192)
        serve(api, "g", body)
        for i, s in enumerate(socks[:4]):
            s.settimeout(10)
            if i % 2:
                s.recv(30000)
            if i >= 2:  # a reset, not a FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        for s in socks[4:]:
            c = Conn.__new__(Conn)
            c.s, c.buf = s, b""
            s.settimeout(20)
            got = c.reply()
            assert got[0] == 200 and got[2] == whole(recs)
            s.close()
        c = Conn(api.port)
        c.send(head("GET", "/healthz"))
        assert c.reply()[0] == 200
        c.close()
        assert api.stop() == 0, api.stderr


if __name__ == "__main__":
    try:
        run(globals())
    finally:
        cleanup()
