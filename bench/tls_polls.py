#!/usr/bin/env python3
"""Held TLS polls: the api's RSS per camera that holds a /control-channel
over TLS (ALPN http/1.1: the camera path), against the same count of
plain-HTTP polls as a baseline.

    python3 bench/tls_polls.py [--api build/bin/api] [--polls 2000]

Makes a throwaway self-signed certificate (openssl CLI), starts the api on
loopback, opens N connections that each send one poll, waits until the
api's camlogs_polls_held gauge shows N, and reads VmRSS from /proc. Every
wait has a deadline; the api is stopped at the end.
"""
import argparse
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(api, extra):
    p = subprocess.Popen([api, "--listen", "127.0.0.1:0", "--quiet", "--poll-timeout", "0",
                          "--max-polls", "100000"] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    if not line.startswith("listening on "):
        p.kill()
        raise RuntimeError("api did not start: %r" % line)
    return p, int(line.rsplit(":", 1)[1])


def held(port, wrap):
    s = wrap(socket.create_connection(("127.0.0.1", port), timeout=10))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    for line in out.decode().splitlines():
        if line.startswith("camlogs_polls_held "):
            return int(float(line.split()[1]))
    return -1


def run(api, n, extra, wrap, label):
    p, port = start(api, extra)
    try:
        time.sleep(0.3)
        before = rss_kb(p.pid)
        conns = []
        for i in range(n):
            s = wrap(socket.create_connection(("127.0.0.1", port), timeout=10))
            s.sendall(b"GET /control-channel?camera=c%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            conns.append(s)
        end = time.monotonic() + 60
        while held(port, wrap) != n:
            if time.monotonic() > end:
                raise RuntimeError("polls not all held within 60 s")
            time.sleep(0.1)
        time.sleep(0.5)
        after = rss_kb(p.pid)
        print("%-28s %6d polls: RSS %.1f -> %.1f MiB, %6.0f B per held poll"
              % (label, n, before / 1024, after / 1024, (after - before) * 1024 / n))
        for s in conns:
            s.close()
    finally:
        p.terminate()
        p.wait(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", default="build/bin/api")
    ap.add_argument("--polls", type=int, default=2000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tls_polls.")
    try:
        key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        os.chmod(key, 0o600)
        ctx = ssl.create_default_context(cafile=crt)
        ctx.set_alpn_protocols(["http/1.1"])

        def tls(s):
            return ctx.wrap_socket(s, server_hostname="127.0.0.1")
        run(a.api, a.polls, [], lambda s: s, "plain HTTP/1.1")
        run(a.api, a.polls, ["--tls-cert", crt, "--tls-key", key], tls,
            "TLS 1.3, ALPN http/1.1")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
