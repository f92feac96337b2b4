"""The camera's follow upload (docs/CAMERA.md "Follow uploads"), measured
against tests/it/streamfake.py on loopback:
- idle: CPU ticks (utime + stime of /proc/PID/stat) of a camera holding a
  follow upload (follow=60) with nothing to send, over --idle seconds: a
  paused transfer must not be polled in a loop;
- streaming: --rate events/s written to the camera's stdin for --seconds,
  each line's time from the write to its arrival on the fake's socket
  (p50, p99, max) and the camera's CPU ticks meanwhile; with --store too
  (default --fsync 1: a live event is synced before it is sent).

Usage: python3 bench/follow_upload.py [--bin build/bin]. Prints a table;
asserts nothing (numbers go to docs/BENCHMARKS.md with the machine).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "it"))
import harness  # noqa: E402
from streamfake import StreamFake  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def start(fake, extra):
    c = harness.Camera(fake.url, "--id", "b1", "--source", "stdin", *extra, stdin=True)
    fake.wait_poll(1)
    fake.wake(dict(request_id="bench", camera="b1", follow=60))
    return c, fake.upload(0)


def idle(seconds, extra):
    with StreamFake() as fake:
        c, up = start(fake, extra)
        fake.wait(lambda: up.headers is not None, 10, "the upload")
        time.sleep(0.5)  # past the start
        t = ticks(c.p.pid)
        time.sleep(seconds)
        used = ticks(c.p.pid) - t
        c.kill()
    return used


def streaming(rate, seconds, extra):
    with StreamFake() as fake:
        c, up = start(fake, extra)
        time.sleep(0.5)
        sent = {}
        t0, n = time.monotonic(), 0
        tk = ticks(c.p.pid)
        while time.monotonic() - t0 < seconds:
            due = t0 + n / rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            desc = "ev%d" % n
            sent[desc] = time.monotonic()
            c.p.stdin.write((desc + "\n").encode())
            c.p.stdin.flush()
            n += 1
        fake.wait(lambda: len(up.lines) >= n, 30, "every event")
        used = ticks(c.p.pid) - tk
        lat = sorted(t - sent[r["description"]] for t, r in
                     ((t, __import__("json").loads(ln)) for t, ln in up.lines) if
                     r["description"] in sent)
        c.kill()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    return n, pick(0.5), pick(0.99), lat[-1] * 1000, used


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.getcwd(), "build", "bin"))
    ap.add_argument("--idle", type=float, default=10)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()
    harness.BIN = args.bin
    d = tempfile.mkdtemp()
    try:
        store = ["--store", os.path.join(d, "s")]
        print("idle follow upload, %.0f s: %d ticks (%d/s)" % (args.idle, idle(args.idle, []),
                                                               TICK))
        print("| store | events | p50 ms | p99 ms | max ms | CPU s |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, extra in (("none", []), ("--fsync 1", store),
                            ("--fsync never", store[:1] + [store[1] + "n", "--fsync", "never"])):
            n, p50, p99, mx, used = streaming(args.rate, args.seconds, extra)
            print("| %s | %d | %.2f | %.2f | %.2f | %.2f |" % (name, n, p50, p99, mx,
                                                             used / TICK))
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
