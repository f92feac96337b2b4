#!/usr/bin/env python3
"""Flood probe: N connections without credentials each send a /send-stats
with a huge body; the api's RSS is read while they push. The camera path
refuses them from the head (401) and drops what follows, so the RSS should
not grow with the bodies.

    python3 bench/flood.py [--api build/bin/api] [--conns 40] [--mib 32]

Starts the api on loopback with a camera secret and an operator token (in
a temporary directory); every wait has a deadline; the api is stopped at
the end.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def push(port, nbytes, sent, i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"POST /send-stats?camera=x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                  % nbytes)
        chunk = b"x" * 65536
        while sent[i] < nbytes:
            s.sendall(chunk)
            sent[i] += len(chunk)
    except OSError:
        pass  # refused and closed: the point


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", default="build/bin/api")
    ap.add_argument("--conns", type=int, default=40)
    ap.add_argument("--mib", type=int, default=32)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="flood.")
    try:
        for name, data in (("secret", b"flood-secret-0123456789\n"),
                           ("tokens", b"operator-token-flood-0001\n")):
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(tmp, name), 0o600)
        p = subprocess.Popen([a.api, "--listen", "127.0.0.1:0", "--quiet", "--max-body",
                              str(a.mib << 20), "--camera-secret-file",
                              os.path.join(tmp, "secret"), "--operator-token-file",
                              os.path.join(tmp, "tokens")],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = p.stdout.readline().decode()
        port = int(line.rsplit(":", 1)[1])
        time.sleep(0.3)
        before, peak = rss_kb(p.pid), 0
        sent = [0] * a.conns
        ts = [threading.Thread(target=push, args=(port, (a.mib << 20) + 1000, sent, i),
                               daemon=True) for i in range(a.conns)]
        for t in ts:
            t.start()
        end = time.monotonic() + 5
        while time.monotonic() < end:
            peak = max(peak, rss_kb(p.pid))
            time.sleep(0.05)
        print("%d connections x %d MiB bodies without credentials: api RSS %.1f MiB before, "
              "peak %.1f MiB (%.0f B per connection); client bytes sent %.1f MiB"
              % (a.conns, a.mib, before / 1024, peak / 1024, (peak - before) * 1024 / a.conns,
                 sum(sent) / 1048576))
        p.terminate()
        p.wait(10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
