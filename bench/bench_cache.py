#!/usr/bin/env python3
"""The goals of v1.2's cache (issue 21), against the real api on loopback:

  uplink   a real camera holding 10,000 events: /send-stats body bytes per
           repeated /logs (camlogs_send_stats_body_bytes_total), one new
           event each time, and none new; today's full fetch (--cache-bytes 0)
           beside it.
  cpu      the api's CPU (utime+stime, /proc) per such /logs, cache vs full
           fetch, for a plain /logs (the whole 10,000-event reply) and one
           with after=<its last cursor> (only the new event).
  rss      1,000 scripted cameras x 10,000 events offered (the same 10,000
           records uploaded for each), the api's RSS with --cache-bytes C
           against the same load with --cache-bytes 0.
  stale    /logs?stale=1 for an away camera with 10,000 cached events:
           latency percentiles (whole reply, and limit=100), at the client
           (a connection each) and at the api (its log line's ms=).

Prints one RESULT line per measurement (key=value). Bounded in time.
Usage: bench_cache.py --bin build/bin [--cameras 1000] [--events 10000]
"""
import argparse
import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "it"))
import harness  # noqa: E402
from harness import Api, Camera, http, metric, wait_until  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def record_line(i, seq=None):
    o = {"description": "motion detected in zone %d" % (i % 7), "timestamp":
         "2026-11-28T06:%02d:%02d.%03dZ" % (i // 60000 % 60, i // 1000 % 60, i % 1000)}
    if seq is not None:
        o["seq"] = seq
    return json.dumps(o, separators=(",", ":"))


def logs(api, q="", conn=None):
    s, h, b = http("GET", api.url + "/logs?camera=b1&timeout=30" + q, timeout=60)
    assert s == 200, (s, b[:200])
    return h, b


def uplink_cpu(ns, cache):
    """One real camera with ns.events events; 20 /logs with one new event, 20 with none."""
    out = {}
    with Api("--cache-bytes", str(cache)) as api:
        cam = Camera(api.url, "--id", "b1", "--source", "stdin", "--input", "json", "--retain",
                     str(ns.events), "--interval", "3600", stdin=True)
        try:
            cam.p.stdin.write("".join(record_line(i) + "\n" for i in range(ns.events)).encode())
            cam.p.stdin.flush()
            wait_until(lambda: logs(api)[0]["camlogs-cursor"].endswith(":%d" % ns.events), 60,
                       "the camera's events")
            n = ns.events
            for kind in ("one", "none"):
                for q in ("", "after"):
                    cursor = logs(api)[0]["camlogs-cursor"]
                    b0, c0 = metric(api, "camlogs_send_stats_body_bytes_total"), cpu_s(api.p.pid)
                    calls = 0
                    for _ in range(ns.rounds):
                        if kind == "one":
                            n += 1
                            cam.p.stdin.write((record_line(n) + "\n").encode())
                            cam.p.stdin.flush()
                        while True:  # until the camera has read the new line
                            h, _ = logs(api, "&after=" + cursor if q else "")
                            calls += 1
                            if h["camlogs-cursor"].endswith(":%d" % n):
                                break
                        cursor = h["camlogs-cursor"]
                    db = metric(api, "camlogs_send_stats_body_bytes_total") - b0
                    dc = cpu_s(api.p.pid) - c0
                    out[(kind, q)] = (db / ns.rounds, dc / calls * 1e6, calls)
        finally:
            cam.stop()
    return out


def fake_upload_body(n):
    return ("".join(record_line(i, i + 1) + "\n" for i in range(n)) + "EOL %d\n" % n).encode()


def one_fetch(api, cid, body, n):
    """A scripted numbering camera's fetch: poll, /logs, the whole upload."""
    poll = harness.Async("GET", api.url + "/control-channel?camera=%s&epoch=e%s" % (cid, cid),
                         timeout=60)
    time.sleep(0)  # the poll goes first most of the time; either order works
    lg = harness.Async("GET", api.url + "/logs?camera=%s&limit=1" % cid, timeout=60)
    s, _, b = poll.result(60)
    assert s == 200, (s, b)
    rid = json.loads(b)["request_id"]
    s, _, b = http("POST", api.url + "/send-stats?camera=%s&epoch=e%s&first=1&request_id=%s"
                   % (cid, cid, rid), body=body, timeout=60)
    assert s == 200, (s, b)
    assert lg.result(60)[0] == 200


def rss(ns, cache):
    body = fake_upload_body(ns.events)
    with Api("--cache-bytes", str(cache), "--max-body", str(64 << 20)) as api:
        base = harness.rss_kib(api.p.pid)
        peak = 0
        t0 = time.monotonic()
        for i in range(ns.cameras):
            one_fetch(api, "c%d" % i, body, ns.events)
            if i % 50 == 0:
                peak = max(peak, harness.rss_kib(api.p.pid))
        end = harness.rss_kib(api.p.pid)
        peak = max(peak, end)
        return dict(base_kb=base, end_kb=end, peak_kb=peak,
                    cache_bytes=int(metric(api, "camlogs_cache_bytes")),
                    cache_events=int(metric(api, "camlogs_cache_events")),
                    secs=round(time.monotonic() - t0, 1), offered_mb=round(len(body) *
                                                                         ns.cameras / 1e6))


def stale(ns):
    body = fake_upload_body(ns.events)
    out = {}
    with Api("--connect-grace", "1", quiet=False) as api:
        one_fetch(api, "s1", body, ns.events)
        for q in ("", "&limit=100"):
            times = []
            for _ in range(ns.stale_n):  # a connection each: the log's ms starts at its head
                t = time.perf_counter()
                s, h, _ = http("GET", api.url + "/logs?camera=s1&stale=1" + q, timeout=30)
                times.append((time.perf_counter() - t) * 1e3)
                assert s == 200 and h.get("camlogs-cached"), s
            times.sort()
            # At the api: its request log line's ms= (head in to reply out); the
            # lines come in order, after the one of the first fetch's /logs.
            k = len(out)
            wait_until(lambda: len(at_api(api)) >= 1 + (k + 1) * ns.stale_n, 30, "log lines")
            mine = sorted(at_api(api)[1 + k * ns.stale_n:1 + (k + 1) * ns.stale_n])
            out[q or "whole"] = (times[len(times) // 2], times[int(len(times) * 0.99)], times[-1],
                                 mine[len(mine) // 2], mine[int(len(mine) * 0.99)], mine[-1])
    return out


def at_api(api):
    """The ms= of the api's log lines for /logs of camera s1, in order."""
    return [float(ln.rsplit("ms=", 1)[1].split()[0]) for ln in list(api.err_lines)
            if "GET /logs " in ln and "camera=s1 " in ln and "ms=" in ln]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--cameras", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--stale-n", type=int, default=500)
    ap.add_argument("--cache-mb", type=int, nargs="*", default=[64, 256])
    ap.add_argument("--only", default="uplink,rss,stale")
    ns = ap.parse_args()
    harness.BIN = os.path.abspath(ns.bin)
    print("machine: %d cores, loadavg %s" % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
    if "uplink" in ns.only:
        for cache in (64 << 20, 0):
            res = uplink_cpu(ns, cache)
            for (kind, q), (b, us, calls) in res.items():
                print("RESULT uplink cache=%d new=%s after=%s bytes_per_new_event_or_logs=%.0f "
                      "api_cpu_us_per_logs=%.0f logs=%d"
                      % (cache, kind, "yes" if q else "no", b, us, calls), flush=True)
    if "rss" in ns.only:
        for mb in [0] + ns.cache_mb:
            r = rss(ns, mb << 20)
            print("RESULT rss cache_mb=%d cameras=%d events=%d %s" % (
                mb, ns.cameras, ns.events, " ".join("%s=%s" % kv for kv in r.items())), flush=True)
    if "stale" in ns.only:
        for q, (p50, p99, mx, a50, a99, amx) in stale(ns).items():
            print("RESULT stale query=%s events=%d client_p50_ms=%.2f client_p99_ms=%.2f "
                  "client_max_ms=%.2f api_p50_ms=%.3f api_p99_ms=%.3f api_max_ms=%.3f"
                  % (q, ns.events, p50, p99, mx, a50, a99, amx), flush=True)


if __name__ == "__main__":
    main()
