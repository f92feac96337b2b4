#!/usr/bin/python3
"""How fast the operator page shows a big log (docs/BENCHMARKS.md, "The
operator page"): one api, N cameras (N-1 held polls from tests/it/fleet.py
and one real camera fed E events with --input json, one every --spread s on
average, in busy and quiet stretches, so the timeline has many minutes),
headless Chromium through Selenium.

It clicks the real camera's row R times and, for each, times in the page:
  click-to-shown   the click to the first frame painted after the log's
                   status line says "<E> events" (a MutationObserver, then
                   requestAnimationFrame + setTimeout: after the paint)
  bytes-to-shown   the /logs body complete (Resource Timing responseEnd)
                   to the same point
and, when the page leaves them (docs/WEB.md), its own Performance API
measures logs:bytes-to-shown and logs:ask-to-shown. The probe needs nothing
from the page, so it times an older build the same way (--bin of it).

    /usr/bin/python3 bench/web_page.py [--bin build/bin] [--cameras 500]
        [--events 10000] [--runs 5] [--width 1280] [--height 900]
        [--offline K] [--screenshot PNG]
Loopback only; everything it starts is stopped at the end.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "it"))
import harness  # noqa: E402
from harness import Api, Camera, get_json, wait_until  # noqa: E402

PROBE = """
const [id, want, done] = arguments;
const row = [...document.querySelectorAll('#cameras tbody tr')]
  .find(r => r.cells[0].textContent === id);
row.scrollIntoView({block: 'center'});
performance.clearResourceTimings();
const status = document.getElementById('status'), re = new RegExp('^' + want + ' events');
let t0 = 0;
const finish = () => {
  const t1 = performance.now();
  const res = performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/logs?')).at(-1);
  const m = (n) => performance.getEntriesByName(n).at(-1)?.duration ?? null;
  setTimeout(() => done({click: t1 - t0, bytes: res ? t1 - res.responseEnd : null,
    fetch: res ? res.responseEnd - t0 : null, page_bytes: m('logs:bytes-to-shown'),
    page_ask: m('logs:ask-to-shown'), height: document.documentElement.scrollHeight,
    rows: document.querySelectorAll('#events tbody tr').length,
    marks: Object.fromEntries(performance.getEntriesByType('mark')
      .map(e => [e.name.replace('logs:', ''), Math.round(e.startTime - t0)]))}), 50);
};
const seen = new MutationObserver(() => {
  if (!re.test(status.textContent)) return;
  seen.disconnect();
  requestAnimationFrame(() => setTimeout(finish));
});
seen.observe(document.body, {subtree: true, childList: true, characterData: true});
t0 = performance.now();
row.click();
"""


def feed(cam, api, cam_id, n, spread):
    # Busy and quiet hours: the gap swings between 0.2 and 1.8 x spread.
    gaps = [spread * (1 + 0.8 * math.sin(i / 150)) for i in range(n)]
    t = time.time() - sum(gaps)
    lines = []
    for i in range(n):
        t += gaps[i]
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (i % 1000)
        lines.append(json.dumps({"timestamp": ts, "description":
                                 "motion detected in zone %d, event %d of the bench" % (i % 7, i)}))
    cam.p.stdin.write(("\n".join(lines) + "\n").encode())
    cam.p.stdin.flush()
    wait_until(lambda: len(get_json(api.url + "/logs?camera=" + cam_id, timeout=40)[1] or []) == n,
               60, "%d events" % n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--cameras", type=int, default=500)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--spread", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--offline", type=int, default=0, help="simulated cameras that hang up")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--screenshot", default="")
    a = ap.parse_args()
    harness.BIN = os.path.abspath(a.bin)
    from browser import Browser  # after BIN: its screenshots go beside it
    from fleet import Fleet
    cam_id = "fleet-%03da" % (a.cameras // 2 - 1)  # in the middle of the list
    with Api() as api, Fleet(api.url, a.cameras - 1) as fleet, \
            Camera(api.url, "--id", cam_id, "--source", "stdin", "--input", "json",
                   "--retain", str(max(a.events, 1)), stdin=True) as cam, \
            Browser("bench", a.width, a.height) as br:
        feed(cam, api, cam_id, a.events, a.spread)
        fleet.close_some(a.offline)
        br.d.get(api.url + "/")
        t0 = time.monotonic()
        br.wait(lambda: br.js("return document.querySelectorAll('#cameras tbody tr').length")
                == a.cameras, "%d rows" % a.cameras, 60)
        print("page: %d cameras listed %.2f s after load" % (a.cameras, time.monotonic() - t0))
        br.d.set_script_timeout(120)
        runs = []
        for i in range(a.runs):
            want = "%d|%s" % (a.events, format(a.events, ","))
            r = br.d.execute_async_script(PROBE, cam_id, want)
            runs.append(r)
            print("run %d: %s" % (i + 1, json.dumps({k: round(v, 1) if isinstance(v, float) else v
                                                      for k, v in r.items()})))
        if a.screenshot:
            br.d.save_screenshot(a.screenshot)
        for k in ("click", "bytes", "fetch", "page_bytes", "page_ask"):
            v = [r[k] for r in runs if r[k] is not None]
            if v:
                print("RESULT %s median=%.0f ms min=%.0f max=%.0f (n=%d)"
                      % (k, statistics.median(v), min(v), max(v), len(v)))


if __name__ == "__main__":
    main()
