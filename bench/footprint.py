"""The camera's footprint (docs/FOOTPRINT.md), as a Markdown table:
per architecture (native, and the cross builds that exist: build-arm64,
build-armhf from `make cross`) the stripped size and the libraries linked
(direct NEEDED entries, and everything the loader maps); natively, the RSS
of a camera connected to a real api: idle (its poll held), with 10,000
events (all returned by /logs), and the same with --store. The goal: the
camera's own allocations at 10,000 events, its anonymous RSS less what the
libraries hold idle, at most 2 MiB (in memory and with --store); exit 1 if
not.

    python3 bench/footprint.py [--bin build/bin]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "it"))
import harness  # noqa: E402
from harness import Api, Camera, get_json, wait_until  # noqa: E402

CROSS = [("arm64", "build-arm64", "aarch64-linux-gnu", "qemu-aarch64"),
         ("armhf", "build-armhf", "arm-linux-gnueabihf", "qemu-arm")]
GOAL_ANON_KB = 2048
EVENTS = 10000


def sh(*argv, env=None):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120,
                          env=env).stdout


def stripped_kb(path, strip):
    tmp = tempfile.mktemp()
    shutil.copy(path, tmp)
    subprocess.run([strip, tmp], check=True)
    n = os.path.getsize(tmp)
    os.unlink(tmp)
    return n / 1024


def libraries(path, qemu):
    """(NEEDED names, number of shared objects the loader maps)."""
    needed = [ln.split("[")[1].rstrip("]") for ln in sh("readelf", "-d", path).splitlines()
              if "(NEEDED)" in ln]
    if qemu:
        out = sh(qemu, "-E", "LD_TRACE_LOADED_OBJECTS=1", path)
    else:
        out = sh("ldd", path)
    mapped = [ln for ln in out.splitlines() if "=>" in ln or "ld-linux" in ln]
    return needed, len(mapped)


def status(pid):
    """VmRSS, RssAnon, RssFile in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    return out


def measured(api, store):
    """RSS of a camera idle, then holding EVENTS events (all of them on /logs)."""
    args = ["--id", "fp", "--source", "stdin"] + (["--store", store] if store else [])
    with Camera(api.url, *args, stdin=True) as cam:
        wait_until(lambda: harness.metric(api, "camlogs_polls_held") == 1, 30, "the poll")
        idle = status(cam.p.pid)
        cam.p.stdin.write("".join("footprint event %d\n" % i for i in range(EVENTS)).encode())
        cam.p.stdin.flush()

        def all_there():
            st, recs = get_json(api.url + "/logs?camera=fp&timeout=20", timeout=60)
            return st == 200 and len(recs) == EVENTS
        wait_until(all_there, 120, "%d events on /logs" % EVENTS)
        full = status(cam.p.pid)
        cam.stop()
    return idle, full


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    args = ap.parse_args()
    harness.BIN = args.bin
    print("| arch | stripped camera | NEEDED | shared objects mapped |")
    print("|---|---|---|---|")
    rows = [("amd64 (native)", os.path.join(args.bin, "camera"), "strip", None)]
    rows += [(a, os.path.join(d, "bin", "camera"), t + "-strip", q) for a, d, t, q in CROSS
             if os.path.exists(os.path.join(d, "bin", "camera"))]
    for arch, path, strip, qemu in rows:
        needed, mapped = libraries(path, qemu)
        print("| %s | %.0f KiB | %s | %d |" % (arch, stripped_kb(path, strip), ", ".join(needed),
                                               mapped))
    print()
    print("| native camera | VmRSS | RssAnon | RssFile |")
    print("|---|---|---|---|")
    store = tempfile.mkdtemp(prefix="footprint.")
    worst = 0
    try:
        with Api() as api:
            for name, st in (("in memory", None), ("--store", os.path.join(store, "s"))):
                idle, full = measured(api, st)
                rows = (("idle (%s)" % name, idle), ("%d events (%s)" % (EVENTS, name), full))
                for what, s in rows:
                    print("| %s | %d KiB | %d KiB | %d KiB |" % (what, s["VmRSS"], s["RssAnon"],
                                                               s["RssFile"]))
                worst = max(worst, full["RssAnon"] - idle["RssAnon"])
    finally:
        shutil.rmtree(store)
    print()
    ok = worst <= GOAL_ANON_KB
    print("goal: own anonymous RSS (over idle) at %d events <= %d KiB: %d KiB, %s"
          % (EVENTS, GOAL_ANON_KB, worst, "met" if ok else "NOT MET"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
