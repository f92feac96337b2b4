#!/usr/bin/env python3
"""The camera's CPU against a hostile server (docs/BENCHMARKS.md, "Camera
against an endless non-200 body"): every poll is answered 500 with a body
that never ends (tests/it/endless.py); prints the camera's CPU (user +
system) over the run, the polls it made and the bytes the server got to
send. Loopback only, bounded: the camera is stopped at the end.

    python3 bench/camera_endless.py [--bin build/bin] [--seconds 10]
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "it"))
from endless import ENDLESS, EndlessServer  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    with EndlessServer(lambda m, p: ENDLESS) as srv:
        cam = subprocess.Popen([os.path.join(args.bin, "camera"), "--server", srv.url,
                                "--id", "bench"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)  # started: the first poll is out
            c0, t0 = cpu_seconds(cam.pid), time.monotonic()
            time.sleep(args.seconds)
            c1, t1 = cpu_seconds(cam.pid), time.monotonic()
        finally:
            cam.send_signal(signal.SIGTERM)
            try:
                cam.wait(10)
            except subprocess.TimeoutExpired:
                cam.kill()
                cam.wait()
        with srv.cv:
            polls = len(srv.requests)
            sent = sum(n for _, n in srv.closed)
    tick = 100 / os.sysconf("SC_CLK_TCK") / (t1 - t0)  # one clock tick, in %
    print("camera CPU against an endless 500: %.1f %% over %.1f s (resolution %.1f %%; %d polls, "
          "%.1f MB sent by the server; load %s)"
          % (100 * (c1 - c0) / (t1 - t0), t1 - t0, tick, polls, sent / 1e6,
             open("/proc/loadavg").read().split()[0]))


if __name__ == "__main__":
    main()
