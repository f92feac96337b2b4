#!/usr/bin/env python3
"""What a held poll costs nginx over TLS, against plain HTTP (docs/
BENCHMARKS.md, "Fleet through nginx"): one api, nginx with the shipped
configuration and both listeners, N polls held over each in turn; prints the
nginx worker's RSS per held poll and the api's. Loopback only, bounded: every
process it starts is stopped at the end.

    python3 bench/tls_hold.py [--bin build/bin] [-n 2000]
"""
import argparse
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "it"))
import harness  # noqa: E402
from frontdoor import Front, Node, free_ports  # noqa: E402


def worker_of(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return int(out.split()[0])


def hold(n, port, ctx, api, tag):
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if ctx is not None:
            s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        s.sendall(b"GET /control-channel?camera=%s%d HTTP/1.1\r\nHost: x\r\n\r\n"
                  % (tag.encode(), i))
        socks.append(s)
    harness.wait_until(lambda: api.metric("camlogs_polls_held") == n, 60, "%d polls" % n)
    time.sleep(1)
    return socks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("-n", type=int, default=2000)
    args = ap.parse_args()
    harness.BIN = os.path.abspath(args.bin)
    tmp = tempfile.mkdtemp(prefix="tls_hold.")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "k.pem", "-out",
                    "c.pem", "-days", "1", "-subj", "/CN=b", "-addext",
                    "subjectAltName=IP:127.0.0.1"], cwd=tmp, check=True, capture_output=True)
    cert = (os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem"))
    ctx = ssl.create_default_context(cafile=cert[0])
    # A fresh nginx and api for each: memory freed by the first run would
    # otherwise serve the second.
    for label, c in (("plain", None), ("tls", ctx)):
        node = Node("b1", free_ports(1)[0], ["--max-polls", str(args.n + 100)]).start()
        front = Front([node], tmp=tempfile.mkdtemp(dir=tmp), tls=cert)
        try:
            worker = worker_of(front.proc.p.pid)
            time.sleep(0.5)
            n0, a0 = harness.rss_kib(worker), harness.rss_kib(node.api.p.pid)
            socks = hold(args.n, front.tls_port if c else front.port, c, node, label)
            n1, a1 = harness.rss_kib(worker), harness.rss_kib(node.api.p.pid)
            print("%-5s %d held polls: nginx worker +%d B each, api +%d B each"
                  % (label, args.n, (n1 - n0) * 1024 // args.n, (a1 - a0) * 1024 // args.n),
                  flush=True)
            for s in socks:
                s.close()
        finally:
            front.stop()
            node.stop()

if __name__ == "__main__":
    main()
