#!/usr/bin/env python3
"""Hostile-client probes of the api's front door (issue 20; results in
docs/BENCHMARKS.md, "Front door under hostile clients"). Loopback only,
bounded: every process it starts is stopped at the end. The last line of
each probe, "RESULT k=v ...", is for scripts.

  flood  --attackers 300 --secs 20: the api under `prlimit --nofile=256`;
         that many idle TCP connections, each reopened as soon as the api
         closes it; meanwhile a /healthz every 0.5 s (2 s to answer) and a
         real camera (build/bin/camera), whose /logs must come back 200.
  tls    -n 1000: connections that send a TLS ClientHello and stop there;
         the api's RSS growth per connection, and how many it kept.
  slow   --readers 10 --mib 8: /logs waiters that never read an N MiB reply
         (the api's RSS growth per reader: in all, and beyond what one
         reader that read the whole reply left the api at, i.e. beyond the
         upload and its records), then one reading 2 KB/s with
         --tcp-user-timeout 10 for --trickle seconds (cut or not).

    python3 bench/door_probes.py flood|tls|slow [--bin build/bin] [...]
"""
import argparse
import json
import os
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "it"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tls_hold import rss_kb  # noqa: E402


def api_pid(api):
    """The api's pid (under prlimit, prlimit execs it: the same pid)."""
    return api.p.pid


def get(port, path, timeout):
    """One request on a new connection: the status, or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        d = b""
        t0 = time.monotonic()
        while b"\r\n" not in d and time.monotonic() - t0 < timeout:
            b = s.recv(4096)
            if not b:
                break
            d += b
        s.close()
        return int(d.split()[1]) if d.startswith(b"HTTP/1.1 ") else None
    except OSError:
        return None


def flood(a):
    stop = threading.Event()
    opened = [0]

    def attacker():
        socks = []
        while not stop.is_set():
            while len(socks) < a.attackers and not stop.is_set():
                try:
                    socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
                    opened[0] += 1
                except OSError:
                    time.sleep(0.01)
            r, _, _ = select.select(socks, [], [], 0.05)
            for s in r:  # closed by the api: reopen
                try:
                    if s.recv(1) != b"":
                        continue
                except OSError:
                    pass
                s.close()
                socks.remove(s)
        for s in socks:
            s.close()

    with harness.Api("--poll-timeout", "0", prefix=("prlimit", "--nofile=256")) as api:
        port = api.port
        t = threading.Thread(target=attacker, daemon=True)
        t.start()
        time.sleep(1)  # the flood is up
        cam = harness.Camera(api.url, "--id", "probe", "--interval", "0.1", "--log-level", "warn")
        ok = n = 0
        logs = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < a.secs:
            n += 1
            ok += get(port, "/healthz", 2) == 200
            if logs is None and time.monotonic() - t0 > a.secs / 2:
                logs = get(port, "/logs?camera=probe&timeout=5", 8)
            time.sleep(0.5)
        stop.set()
        t.join(5)
        cam.stop()
        print("RESULT probe=flood attackers=%d secs=%d healthz_ok=%d healthz_n=%d pct=%.1f "
              "camera_logs=%s opened=%d" % (a.attackers, a.secs, ok, n, 100.0 * ok / n, logs,
                                            opened[0]))


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def tls(a):
    d = tempfile.mkdtemp(prefix="door_probes.")
    crt, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    hello = client_hello()
    extra = () if a.old else ("--head-timeout", "600")  # an api before issue 20: no flag
    with harness.Api("--tls-cert", crt, "--tls-key", key, "--request-timeout", "600",
                     *extra) as api:
        time.sleep(0.5)
        r0 = rss_kb(api_pid(api))
        socks = []
        for _ in range(a.n):
            s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
            s.sendall(hello)
            socks.append(s)
        time.sleep(3)  # the api read them all (it answers each ServerHello)
        r1 = rss_kb(api_pid(api))
        alive = 0
        for s in socks:  # open: what the api sent is read, and no EOF behind it
            s.setblocking(False)
            try:
                while s.recv(65536) != b"":
                    pass
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        hwm = r1
        for s in socks:
            s.close()
        print("RESULT probe=tls n=%d rss0_kb=%d rss1_kb=%d per_conn_b=%d total_mib=%.1f "
              "kept_open=%d" % (a.n, r0, hwm, (hwm - r0) * 1024 // a.n, (hwm - r0) / 1024.0,
                                alive))
    shutil.rmtree(d, ignore_errors=True)


def upload_stream(mib):
    line = json.dumps({"description": "x" * 200, "timestamp": "2026-11-28T06:44:00.000Z"}) + "\n"
    n = mib * 1024 * 1024 // len(line)
    return (line * n + "EOL %d\n" % n).encode(), n


def waiters_and_upload(api, readers, body, rcvbuf):
    socks = []
    for _ in range(readers):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect(("127.0.0.1", api.port))
        s.sendall(b"GET /logs?camera=slow&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    harness.wait_metric(api, "camlogs_logs_waiting", readers, timeout=10)
    poll = socket.create_connection(("127.0.0.1", api.port))
    poll.sendall(b"GET /control-channel?camera=slow HTTP/1.1\r\nHost: x\r\n\r\n")
    reply = poll.recv(65536)
    rid = json.loads(reply.split(b"\r\n\r\n", 1)[1])["request_id"]
    poll.sendall(b"POST /send-stats?camera=slow&request_id=%s HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: %d\r\n\r\n" % (rid.encode(), len(body)) + body)
    poll.settimeout(30)
    assert poll.recv(65536).startswith(b"HTTP/1.1 200"), "upload refused"
    poll.close()
    return socks


def read_reply(s, timeout=60):
    """One whole HTTP/1.1 reply with a Content-Length on s: its body."""
    s.settimeout(timeout)
    d = b""
    while b"\r\n\r\n" not in d:
        b = s.recv(65536)
        assert b, "closed before the head"
        d += b
    head, rest = d.split(b"\r\n\r\n", 1)
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(rest) < length:
        b = s.recv(1 << 20)
        assert b, "closed in the body"
        rest += b
    return rest


def slow(a):
    body, n = upload_stream(a.mib)
    with harness.Api("--poll-timeout", "0") as api:
        time.sleep(0.5)
        r0 = rss_kb(api_pid(api))
        # First one reader that reads it all: the api's heap then holds what
        # an upload of that size and its records take (freed, kept by malloc).
        (s,) = waiters_and_upload(api, 1, body, 1 << 20)
        got = len(json.loads(read_reply(s)))
        s.close()
        assert got == n, "%d events read, %d sent" % (got, n)
        ra = rss_kb(api_pid(api))
        socks = waiters_and_upload(api, a.readers, body, 4096)
        time.sleep(3)
        r1 = rss_kb(api_pid(api))
        for s in socks:
            s.close()
        print("RESULT probe=slow-idle readers=%d reply_mib=%d events=%d rss0_kb=%d "
              "rss_read_kb=%d rss1_kb=%d per_reader_kb=%d beyond_records_kb=%d" % (
                  a.readers, a.mib, n, r0, ra, r1, (r1 - r0) // a.readers,
                  (r1 - ra) // a.readers))
    if a.trickle <= 0:
        return
    with harness.Api("--poll-timeout", "0", "--tcp-user-timeout", "10") as api:
        (s,) = waiters_and_upload(api, 1, body, 4096)
        got, t0, cut = 0, time.monotonic(), None
        s.settimeout(5)
        while time.monotonic() - t0 < a.trickle:
            try:
                b = s.recv(1024)
            except OSError as e:
                cut = "error %s" % e
                break
            if not b:
                cut = "closed"
                break
            got += len(b)
            time.sleep(0.5)  # 2 KB/s
        print("RESULT probe=slow-trickle secs=%.0f got_kb=%d cut=%s" % (
            time.monotonic() - t0, got // 1024, (cut or "no").replace(" ", "_")))
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("probe", choices=["flood", "tls", "slow"])
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    ap.add_argument("--attackers", type=int, default=300)
    ap.add_argument("--secs", type=int, default=20)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--readers", type=int, default=10)
    ap.add_argument("--mib", type=int, default=8)
    ap.add_argument("--trickle", type=int, default=40)
    ap.add_argument("--old", action="store_true", help="the api has no --head-timeout")
    a = ap.parse_args()
    harness.BIN = os.path.abspath(a.bin)
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    {"flood": flood, "tls": tls, "slow": slow}[a.probe](a)


if __name__ == "__main__":
    main()
