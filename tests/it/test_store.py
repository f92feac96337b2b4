"""Integration tests for camera --store (docs/CAMERA.md, "The store"):
flags, unusable directories, a second camera on the same directory, and
restarts and kill -9 keeping what /logs returned (test_store_damage.py:
torn and corrupt segments, rotation, a full or failing disk).

Real camera processes, real api, real files (store_lib.py).
"""
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from camfake import feed  # noqa: E402
from harness import Api  # noqa: E402
from store_lib import (cam, logs, mount_tmpfs, recovered, run_exit, segments, stop,  # noqa: E402
                       stored_lines, umount, wait_logs)


# --- flags and unusable directories ------------------------------------------

def test_store_flags_exit_2():
    d = tempfile.mkdtemp()
    try:
        for args in (["--fsync", "1"], ["--store", d, "--fsync", "sometimes"],
                     ["--store", d, "--fsync", "0"], ["--store", d, "--fsync", "86401"],
                     ["--store", ""], ["--input", "json"], ["--input", "xml", "--source", "stdin"],
                     ["--source", "file:"], ["--source", "tcp:1"]):
            rc, lines = run_exit(args)
            assert rc == 2 and len(lines) == 1, (args, rc, lines)
        assert not segments(d), "a flag error must not touch the store"
    finally:
        shutil.rmtree(d)


def test_unusable_store_exits_1_with_one_line():
    base = tempfile.mkdtemp()
    try:
        a_file = os.path.join(base, "file")
        open(a_file, "w").close()
        cases = [(os.path.join(base, "missing", "store"), "parent directory does not exist"),
                 (a_file, "not a directory"), (os.path.join(a_file, "sub"), "")]
        ro = os.path.join(base, "ro")
        if mount_tmpfs(ro, "ro,size=64k"):
            cases.append((ro, "Read-only"))
        else:
            print("  (read-only case not run: cannot mount a tmpfs here)")
        for store, why in cases:
            rc, lines = run_exit(["--source", "stdin", "--store", store])
            assert rc == 1 and len(lines) == 1 and why in lines[0], (store, rc, lines)
        root = os.getuid() == 0  # root passes permission checks: try as nobody
        closed = os.path.join(base, "closed")
        os.mkdir(closed, 0o755 if root else 0o500)
        rc, lines = run_exit(["--source", "stdin", "--store", closed],
                             preexec=(lambda: os.setuid(65534)) if root else None)
        assert rc == 1 and len(lines) == 1 and "Permission denied" in lines[0], (rc, lines)
        made = os.path.join(base, "new")
        with cam(made) as c:  # a missing DIR whose parent exists is made
            assert recovered(c) == 0
            assert stat_mode(made) == 0o700
            stop(c)
    finally:
        umount(os.path.join(base, "ro"))
        shutil.rmtree(base)


def stat_mode(p):
    return os.stat(p).st_mode & 0o777


def test_second_camera_on_the_same_store_is_refused():
    d = tempfile.mkdtemp()
    try:
        with cam(d) as first:
            recovered(first)
            rc, lines = run_exit(["--source", "stdin", "--store", d])
            assert rc == 1 and len(lines) == 1, (rc, lines)
            assert "in use by another camera (pid %d)" % first.p.pid in lines[0], lines
            stop(first)
        with cam(d) as again:  # the lock goes with the process
            recovered(again)
            stop(again)
    finally:
        shutil.rmtree(d)


# --- restarts -------------------------------------------------------------------

def test_restart_keeps_events_and_stamps_stay_increasing():
    d = tempfile.mkdtemp()
    try:
        with Api() as api:
            with cam(d, server=api.url) as c:
                feed(c, ["event %d" % i for i in range(100)])
                before = wait_logs(api, "s1", lambda r: len(r) == 100)
                stop(c)
            with cam(d, server=api.url) as c:
                assert recovered(c) == 100
                status, after = logs(api, "s1")
                assert status == 200 and after == before, (status, after[:3], before[:3])
                feed(c, ["one more"])
                recs = wait_logs(api, "s1", lambda r: len(r) == 101)
                assert recs[-1]["timestamp"] > before[-1]["timestamp"]
                stop(c)
        lines = stored_lines(d)
        assert len(lines) == 101 and all(json.loads(x) for x in lines)
        assert json.loads(lines[0]) == {"description": "event 0",
                                        "timestamp": before[0]["timestamp"]}
    finally:
        shutil.rmtree(d)


def test_stamps_never_go_below_the_newest_stored_one():
    """A clock that went back (here: a stored stamp far in the future) does
    not make a restarted camera stamp before its last stored event."""
    d = tempfile.mkdtemp()
    try:
        with open(os.path.join(d, "%020d.eol" % 0), "w") as f:
            f.write('{"description":"from the future","timestamp":"2099-01-01T00:00:00.123456Z"}\n')
        with Api() as api, cam(d, server=api.url) as c:
            assert recovered(c) == 1
            feed(c, ["now", "and again"])
            recs = wait_logs(api, "s1", lambda r: len(r) == 3)
            assert [r["timestamp"] for r in recs] == [
                "2099-01-01T00:00:00.123456Z", "2099-01-01T00:00:00.123457Z",
                "2099-01-01T00:00:00.123458Z"], recs
            stop(c)
        with open(os.path.join(d, "%020d.eol" % 3), "w") as f:  # a leap second after them
            f.write('{"description":"leap","timestamp":"2099-12-31T23:59:60.5Z"}\n')
        with Api() as api, cam(d, server=api.url) as c:
            assert recovered(c) == 4
            feed(c, ["after the leap"])
            recs = wait_logs(api, "s1", lambda r: len(r) == 5)
            assert recs[-1]["timestamp"] == "2100-01-01T00:00:00.000000Z", recs[-1]
            stop(c)
    finally:
        shutil.rmtree(d)


def _feeder(c, counter, stop_ev):
    """Writes k<n> lines to the camera in bursts of 200, a burst every
    millisecond or so (up to ~200,000 lines/s: a high rate, yet one that
    leaves a sanitized camera time to answer fetches)."""
    try:
        while not stop_ev.is_set():
            n = counter[0]
            c.p.stdin.write("".join("k%09d\n" % i for i in range(n, n + 200)).encode())
            c.p.stdin.flush()
            counter[0] = n + 200
            time.sleep(0.0005)
    except (BrokenPipeError, ValueError, OSError):
        pass


def _check_after_restart(recs, must, first, retain):
    """What a restarted camera returns: in order, nothing twice, every event
    /logs returned before (unless pushed out by --retain newer ones)."""
    ks = [int(r["description"][1:]) for r in recs]
    assert ks == sorted(set(ks)), "out of order or duplicated"
    ts = [r["timestamp"] for r in recs]
    assert all(a < b for a, b in zip(ts, ts[1:])), "stamps not strictly increasing"
    have = set(ks)
    lost = [k for k in must if k >= ks[0] and k not in have]
    assert not lost, "acknowledged events lost: %s" % lost[:5]
    if len(ks) < retain:
        assert ks[0] == first, (ks[0], first)
    if any(k < ks[0] for k in must):
        assert len(ks) == retain, len(ks)


def test_kill_9_fifty_times_loses_nothing_acknowledged():
    """kill -9 at random moments while stdin lines pour in: after each
    restart the store holds every event /logs had returned (whatever the
    --fsync policy: a killed process's writes are in the page cache), in
    order, with no corrupt line."""
    d = tempfile.mkdtemp()
    retain, rng, counter = 3000, random.Random(1616), [0]
    must, first, torn = set(), None, 0
    policies = ["always", "1", "never"]
    try:
        with Api() as api:
            for cycle in range(51):
                c = cam(d, "--retain", str(retain), "--fsync", policies[cycle % 3], server=api.url)
                try:
                    recovered(c)
                    recs = wait_logs(api, "s1", lambda r: True)
                    if recs:  # first: the oldest event ever stored
                        first = first if first is not None else int(recs[0]["description"][1:])
                        _check_after_restart(recs, must, first, retain)
                        must = {int(r["description"][1:]) for r in recs[-200:]}
                    assert "line skipped" not in c.stderr, c.stderr
                    torn += "torn last line" in c.stderr
                    if cycle == 50:
                        stop(c)
                        break
                    stop_ev = threading.Event()
                    t = threading.Thread(target=_feeder, args=(c, counter, stop_ev), daemon=True)
                    t.start()
                    time.sleep(rng.uniform(0.02, 0.2))  # the random moment itself
                    status, got = logs(api, "s1", limit=100)
                    if status == 200:
                        must |= {int(r["description"][1:]) for r in got}
                    time.sleep(rng.uniform(0, 0.03))
                    c.p.kill()
                    c.p.wait(5)
                    stop_ev.set()
                    t.join(5)
                finally:
                    c.kill()
        assert counter[0] > 50 * 200, counter
        print("  %d lines written in 50 cycles, %d torn tails cut, %d events acknowledged last"
              % (counter[0], torn, len(must)))
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    harness.run(globals())
