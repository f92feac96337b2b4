"""Integration tests for the camera's real sources (docs/CAMERA.md, "File
source" and "--input json"): --source file:PATH followed like tail -F
(appends, rename rotation, truncation), resumed with --store after SIGTERM,
kill -9 and rotations while down; --input json with valid, invalid and
out-of-order lines.
"""
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, get_json, wait_until  # noqa: E402


def logs(api, cam_id, **params):
    q = urllib.parse.urlencode(dict(camera=cam_id, timeout=10, **params))
    return get_json("%s/logs?%s" % (api.url, q), timeout=20)


def wait_descs(api, cam_id, want, timeout=15):
    """Waits until /logs returns exactly the descriptions `want`."""
    last = [None]

    def ok():
        status, recs = logs(api, cam_id)
        last[0] = [r["description"] for r in recs] if status == 200 else status
        return last[0] == want
    try:
        wait_until(ok, timeout, "/logs == %d events" % len(want))
    except AssertionError:
        got = last[0]
        raise AssertionError("wanted %d events, got %s: %s" % (
            len(want), len(got) if isinstance(got, list) else got,
            got[-5:] if isinstance(got, list) else ""))


def stop(c):
    rc = c.stop(signal.SIGTERM, timeout=harness.signal_limit() + 5)
    c.join_stderr()
    assert rc == 0, (rc, c.stderr)


def append(path, lines):
    with open(path, "a") as f:
        f.write("".join(s + "\n" for s in lines))


def follower(api, path, *args, cam_id="f1"):
    return Camera(api.url, "--id", cam_id, "--source", "file:" + path, *args)


def test_file_source_flags():
    d = tempfile.mkdtemp()
    try:
        for bad in ("file:" + os.path.join(d, "missing", "x.log"), "file:" + d):
            p = harness.Proc([os.path.join(harness.BIN, "camera"), "--source", bad])
            assert p.wait(5) == 1, bad
            p.join_stderr()
            assert len(p.err_lines) == 1 and "--source file:" in p.err_lines[0], p.err_lines
    finally:
        shutil.rmtree(d)


def test_file_follows_appends_rotation_and_truncation():
    d = tempfile.mkdtemp()
    path = os.path.join(d, "app.log")
    try:
        with Api() as api:
            with follower(api, path) as c:  # not there yet: waits for it
                wait_until(lambda: "waiting for it" in c.stderr, 5, "waiting")
                append(path, ["one", "two", "three"])
                want = ["one", "two", "three"]
                wait_descs(api, "f1", want)
                with open(path, "a") as f:
                    f.write("four\npart")  # a line without its newline is not an event yet
                    f.flush()
                    wait_descs(api, "f1", want + ["four"])
                    f.write("ial\n")
                want += ["four", "partial"]
                wait_descs(api, "f1", want)
                with open(path, "a") as old:  # rotation: rename, the writer writes on, new file
                    os.rename(path, path + ".1")
                    old.write("old tail\n")
                old_end = want + ["old tail"]
                # inotify, not the 5 s re-check: a write to the renamed file wakes the camera
                wait_descs(api, "f1", old_end, timeout=4)
                append(path, ["new 0", "new 1"])
                want = old_end + ["new 0", "new 1"]
                wait_descs(api, "f1", want)
                assert "a new file (rotated)" in c.stderr, c.stderr
                open(path, "w").close()  # truncation
                wait_until(lambda: "truncated" in c.stderr, 10, "the truncation seen")
                append(path, ["after 0", "after 1"])
                want += ["after 0", "after 1"]
                wait_descs(api, "f1", want)
                stop(c)
    finally:
        shutil.rmtree(d)


def test_file_source_resumes_with_store():
    """SIGTERM, more lines, restart: read on exactly where it stopped; a
    rotation while down: the old file's tail first (found by its inode);
    a truncation while down: the new content from its start."""
    d = tempfile.mkdtemp()
    path, store = os.path.join(d, "app.log"), os.path.join(d, "store")
    try:
        with Api() as api:
            append(path, ["a%d" % i for i in range(50)])
            want = ["a%d" % i for i in range(50)]
            steps = [
                lambda: append(path, ["a%d" % i for i in range(50, 60)]),
                lambda: (append(path, ["a60", "a61"]), os.rename(path, path + ".1"),
                         append(path, ["b0", "b1", "b2"])),
                lambda: open(path, "w").write("c0\n"),
            ]
            adds = [["a%d" % i for i in range(50, 60)], ["a60", "a61", "b0", "b1", "b2"], ["c0"]]
            said = []
            for step in range(4):
                with follower(api, path, "--store", store) as c:
                    wait_descs(api, "f1", want)
                    stop(c)
                said.append(c.stderr)
                if step < 3:
                    steps[step]()
                    want = want + adds[step]
            assert "resuming at offset" in said[1], said[1]
            assert "resuming in its rotated file" in said[2], said[2]
            assert "shorter now" in said[3], said[3]
    finally:
        shutil.rmtree(d)


def _writer(path, stop_ev, written):
    """Appends w<n> lines in small bursts, as a logging program would."""
    n = 0
    with open(path, "a") as f:
        while not stop_ev.is_set():
            f.write("".join("w%d\n" % i for i in range(n, n + 20)))
            f.flush()
            n += 20
            written[0] = n
            time.sleep(0.002)


def test_file_source_kill_9_reads_no_line_twice_and_skips_none():
    """A writer appends all along; the camera is killed 12 times at random
    moments (once right after a rotation) and restarted: in the end every
    line is an event exactly once, in order."""
    d = tempfile.mkdtemp()
    path, store = os.path.join(d, "app.log"), os.path.join(d, "store")
    rng, written, stop_ev, skips = random.Random(7), [0], threading.Event(), 0
    open(path, "w").close()
    t = threading.Thread(target=_writer, args=(path, stop_ev, written), daemon=True)
    try:
        with Api() as api:
            t.start()
            for cycle in range(12):
                policy = ["always", "1", "never"][cycle % 3]
                c = follower(api, path, "--store", store, "--retain", "100000", "--fsync", policy)
                try:
                    wait_until(lambda: "events recovered" in c.stderr, 10, "started")
                    time.sleep(rng.uniform(0.05, 0.3))
                    if cycle == 5:  # a rotation while the camera runs, then on
                        os.rename(path, path + ".%d" % cycle)
                    c.p.kill()
                    c.p.wait(5)
                finally:
                    c.kill()
                m = re.search(r"the next (\d+) event\(s\) are stored already", c.stderr)
                skips += bool(m and int(m.group(1)))
            stop_ev.set()
            t.join(5)
            want = ["w%d" % i for i in range(written[0])]
            with follower(api, path, "--store", store, "--retain", "100000") as c:
                wait_descs(api, "f1", want, timeout=30)
                stop(c)
        assert written[0] > 1000, written
        print("  %d lines, %d restarts skipped events stored after the saved position"
              % (written[0], skips))
    finally:
        stop_ev.set()
        shutil.rmtree(d)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_following_a_file_with_a_store_does_not_busy_wait():
    """inotify and timers, no polling loop: a busy loop would use ~300
    ticks of 10 ms in the 3 s window."""
    d = tempfile.mkdtemp()
    path, store = os.path.join(d, "app.log"), os.path.join(d, "store")
    try:
        append(path, ["x"])
        with Api() as api, follower(api, path, "--store", store, "--fsync", "0.2") as c:
            wait_descs(api, "f1", ["x"])
            append(path, ["y"])  # one more write and its sync, then nothing
            wait_descs(api, "f1", ["x", "y"])
            time.sleep(0.5)  # settle: the sync and the fetch are not idleness
            t0 = cpu_ticks(c.p.pid)
            time.sleep(3)  # measuring idleness: nothing to wait for
            used = cpu_ticks(c.p.pid) - t0
            assert used <= 5, used
            stop(c)
    finally:
        shutil.rmtree(d)


def test_input_json_valid_invalid_and_out_of_order():
    lines = [
        '{"description":"a","timestamp":"2026-01-01T00:00:00Z"}',
        '{"description":"b","timestamp":"2026-01-01T02:00:00+02:00"}',
        'not json',
        '{"description":"c","timestamp":"2026-13-01T00:00:00Z"}',
        '{"timestamp":"2026-01-01T00:00:01Z"}',
        'EOL 0',
        '{"description":"d","timestamp":"2025-06-01T00:00:00Z","extra":[1,{"x":null}]}',
        '',
        '{"description":"e\\u00e9","timestamp":"2026-01-01T00:00:02.5Z"}\r',
        '{"description":"f","timestamp":"2025-07-01T00:00:00Z"}',
    ]
    body = "".join(s + "\n" for s in lines)
    starts = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]
    bad = {  # line number -> (offset, reason)
        3: (starts[2], "neither a JSON object"),
        4: (starts[3] + lines[3].index("13") + 1, "RFC 3339"),
        5: (starts[4] + len(lines[4]) - 1, "missing description"),
        6: (starts[5], "an EOL line"),
    }
    with Api() as api, Camera(api.url, "--id", "j1", "--source", "stdin", "--input", "json",
                              stdin=True) as c:
        c.p.stdin.write(body.encode())
        c.p.stdin.flush()
        wait_descs(api, "j1", ["a", "b", "d", "e\u00e9", "f"])
        status, recs = logs(api, "j1")
        assert [r["timestamp"] for r in recs] == [
            "2026-01-01T00:00:00Z", "2026-01-01T02:00:00+02:00", "2025-06-01T00:00:00Z",
            "2026-01-01T00:00:02.5Z", "2025-07-01T00:00:00Z"]
        for n, (off, why) in bad.items():
            hits = [ln for ln in c.err_lines if "stdin line %d offset %d: " % (n, off) in ln]
            assert len(hits) == 1 and why in hits[0], (n, off, why, c.stderr)
        assert len([ln for ln in c.err_lines if "skipped" in ln]) == 4, c.stderr
        order = [ln for ln in c.err_lines if "kept in arrival order" in ln]
        assert len(order) == 1 and "stdin line 7:" in order[0], c.stderr  # said once
        status, since = logs(api, "j1", since="2026-01-01T00:00:00Z")  # by instant
        assert [r["description"] for r in since] == ["e\u00e9"], since
        stop(c)


def test_input_json_from_a_file_survives_a_restart():
    d = tempfile.mkdtemp()
    path, store = os.path.join(d, "events.jsonl"), os.path.join(d, "store")
    recs = [{"description": "j%d" % i, "timestamp": "2026-02-0%dT10:00:00.25-05:00" % (i + 1)}
            for i in range(5)]
    try:
        append(path, [json.dumps(r) for r in recs])
        with Api() as api:
            for _ in range(2):
                with follower(api, path, "--input", "json", "--store", store) as c:
                    wait_descs(api, "f1", ["j%d" % i for i in range(5)])
                    status, got = logs(api, "f1")
                    assert got == recs, got
                    stop(c)
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    harness.run(globals())
