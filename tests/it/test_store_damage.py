"""Integration tests for camera --store (docs/CAMERA.md, "The store"): torn
and corrupt segments recover as specified, rotation keeps --retain, fsyncs
are grouped, a full disk and failing syncs are survived (test_store.py:
flags, restarts, kill -9).

Real camera processes, real api, real files (store_lib.py).
"""
import json
import os
import random
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from camfake import feed  # noqa: E402
from harness import Api, wait_until  # noqa: E402
from store_lib import (CORRUPT_RE, TORN_RE, cam, mount_tmpfs, recovered, segments,  # noqa: E402
                       shimmed, stop, stored_lines, umount, wait_logs)


# --- torn and corrupt segments ------------------------------------------------

def _make_store(n, retain=None):
    """A store of n events made by the camera; returns (dir, its lines)."""
    d = tempfile.mkdtemp()
    args = ["--retain", str(retain)] if retain else []
    with cam(d, *args) as c:
        recovered(c)
        feed(c, ["line %d \u00e9" % i for i in range(n)])
        wait_until(lambda: len(stored_lines(d)) == n, 10, "the lines on disk")
        stop(c)
    return d, stored_lines(d)


def _store_of(lines, name="%020d.eol" % 0):
    d = tempfile.mkdtemp()
    with open(os.path.join(d, name), "wb") as f:
        f.write(b"".join(lines))
    return d


def test_torn_last_record_at_every_offset_is_cut_back():
    src, lines = _make_store(5)
    shutil.rmtree(src)
    whole, last = b"".join(lines[:4]), lines[4]
    cuts = list(range(0, len(last) + 1))
    for at in range(0, len(cuts), 8):  # eight cameras at a time
        batch = []
        for k in cuts[at:at + 8]:
            d = _store_of(lines[:4] + [last[:k]])
            batch.append((k, d, cam(d)))
        for k, d, c in batch:
            try:
                n = recovered(c)
                torn = TORN_RE.search(c.stderr)
                if k in (0, len(last)):
                    assert n == 4 + (k == len(last)) and not torn, (k, n, c.stderr)
                else:
                    assert n == 4 and torn, (k, n, c.stderr)
                    assert torn.groups() == (str(k), str(len(whole)), "5"), torn.groups()
                    assert len([ln for ln in c.err_lines if "torn" in ln]) == 1
                stop(c)
                size = os.path.getsize(os.path.join(d, "%020d.eol" % 0))
                assert size == len(whole) + (len(last) if k == len(last) else 0), (k, size)
                assert "line skipped" not in c.stderr
            finally:
                c.kill()
                shutil.rmtree(d)


def _reports(c):
    return [(int(m.group(2)), int(m.group(3)), m.group(4))
            for m in map(CORRUPT_RE.search, c.err_lines) if m]


def test_flipped_bits_in_the_middle_are_reported_and_skipped():
    src, lines = _make_store(20)
    shutil.rmtree(src)
    starts = [sum(len(x) for x in lines[:i]) for i in range(20)]

    def flipped(i, pos, bit):
        b = bytearray(b"".join(lines))
        b[starts[i] + pos] ^= 1 << bit
        return [bytes(b)]

    ts_pos = lines[9].index(b'"timestamp":"') + 13
    known = [  # (line index, byte in line, bit, lines lost, reason)
        (9, 0, 7, {9}, "neither a JSON object"),
        (9, ts_pos, 6, {9}, "timestamp is not RFC 3339"),
        (4, len(lines[4]) - 1, 7, {4, 5}, "expected a line ending"),
        (12, 2, 5, {12}, "missing description"),  # "description" -> "Description"
    ]
    with Api() as api:
        for n, (i, pos, bit, lost, why) in enumerate(known):
            d = _store_of(flipped(i, pos, bit))
            with cam(d, server=api.url, cam_id="f%d" % n) as c:
                assert recovered(c) == 20 - len(lost), c.stderr
                rep = _reports(c)
                assert len(rep) == 1 and rep[0][0] == i + 1 and why in rep[0][2], (rep, why)
                at = rep[0][1]
                assert starts[i] <= at <= starts[i] + len(lines[i]), (at, starts[i])
                if i != 12:
                    assert at == starts[i] + pos, (at, starts[i] + pos)
                recs = wait_logs(api, "f%d" % n, lambda r: True)
                want = [json.loads(x) for k, x in enumerate(lines) if k not in lost]
                assert recs == want
                stop(c)
            shutil.rmtree(d)
        _random_flips(api, lines, starts, flipped)


def _random_flips(api, lines, starts, flipped):
    """Random bits anywhere in lines 2..19: either the line is reported (and
    only it, or it and the next one when its newline was hit) or it still
    decodes; every other event comes back unchanged."""
    rng = random.Random(16)
    orig = [json.loads(x) for x in lines]
    for n in range(20):
        i = rng.randrange(1, 19)
        pos, bit = rng.randrange(len(lines[i])), rng.randrange(8)
        d = _store_of(flipped(i, pos, bit))
        with cam(d, server=api.url, cam_id="r%d" % n) as c:
            total = recovered(c)
            rep = _reports(c)
            recs = wait_logs(api, "r%d" % n, lambda r: True) if total else []
            stop(c)
        shutil.rmtree(d)
        others = [o for k, o in enumerate(orig) if k not in (i, i + 1)]
        assert [r for r in recs if r in others] == others, (i, pos, bit)
        assert len(rep) <= 1 and total >= 18, (rep, total)
        if rep:
            assert rep[0][0] == i + 1, (rep, i)


def test_rotation_keeps_exactly_retain():
    d = tempfile.mkdtemp()
    try:
        with Api() as api:
            with cam(d, "--retain", "10", server=api.url) as c:
                feed(c, ["r%d" % i for i in range(95)])
                wait_logs(api, "s1", lambda r: r and r[-1]["description"] == "r94")
                stop(c)
            lines = stored_lines(d)
            seg_max = 3  # ceil(10 / 4)
            assert 10 <= len(lines) <= 10 + seg_max, len(lines)
            assert len(segments(d)) <= 10 // seg_max + 2, segments(d)
            with cam(d, "--retain", "10", server=api.url) as c:
                assert recovered(c) == 10
                recs = wait_logs(api, "s1", lambda r: True)
                assert [r["description"] for r in recs] == ["r%d" % i for i in range(85, 95)]
                feed(c, ["s%d" % i for i in range(7)])
                wait_logs(api, "s1", lambda r: r[-1]["description"] == "s6")
                stop(c)
            with cam(d, "--retain", "10", server=api.url) as c:
                recs = wait_logs(api, "s1", lambda r: True)
                want = ["r%d" % i for i in range(92, 95)] + ["s%d" % i for i in range(7)]
                assert [r["description"] for r in recs] == want
                stop(c)
    finally:
        shutil.rmtree(d)


def test_fsyncs_are_grouped():
    """A burst of stdin lines costs a few syncs, not one per line."""
    for policy, most in (("always", 100), ("1", 20)):
        d = tempfile.mkdtemp()
        try:
            with cam(d, "--retain", "50000", "--fsync", policy) as c:
                recovered(c)
                feed(c, ["b%d" % i for i in range(50000)])
                c.p.stdin.close()
                wait_until(lambda: "stdin closed" in c.stderr, 20, "EOF seen")
                appended, writes, syncs, fails, never = stop(c)
            assert appended == 50000 and fails == 0 and never == 0
            assert 1 <= syncs <= most, (policy, syncs, writes)
            assert len(stored_lines(d)) == 50000
        finally:
            shutil.rmtree(d)


# --- failures -------------------------------------------------------------------

def _fill(path):
    """Writes a file until the filesystem is full."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"x" * 4096)
        except OSError:
            pass


def test_disk_full_is_survived():
    """On a 64 KiB tmpfs: the store fails, says so once, serves the events
    from memory, retries, and stores them all once space is back."""
    base = tempfile.mkdtemp()
    mnt, lines = os.path.join(base, "small"), ["full %04d %s" % (i, "y" * 80) for i in range(300)]
    if not mount_tmpfs(mnt, "size=64k"):
        shutil.rmtree(base)
        raise harness.Skip("cannot mount a tmpfs here; test_failing_disk_via_shim covers ENOSPC")
    try:
        store, filler = os.path.join(mnt, "store"), os.path.join(mnt, "filler")
        with Api() as api:
            with cam(store, "--fsync", "always", server=api.url) as c:
                recovered(c)
                _fill(filler)
                feed(c, lines)
                wait_until(lambda: "No space left on device" in c.stderr, 10, "the warning")
                recs = wait_logs(api, "s1", lambda r: len(r) == 300)
                assert [r["description"] for r in recs] == lines
                assert c.alive()
                os.unlink(filler)
                wait_until(lambda: "writing again" in c.stderr, 40, "the store writing again")
                assert len([ln for ln in c.err_lines if "kept in memory" in ln]) == 1, c.stderr
                appended, _, _, fails, never = stop(c)
                assert appended == 300 and fails >= 1 and never == 0
            assert [json.loads(x)["description"] for x in stored_lines(store)] == lines
            with cam(store, server=api.url) as c:
                assert recovered(c) == 300
                assert wait_logs(api, "s1", lambda r: True) == recs
                stop(c)
    finally:
        umount(mnt)
        shutil.rmtree(base)


def test_memory_stays_bounded_while_the_disk_stays_full():
    """A full disk all along: the queue keeps the newest --retain events
    only, and the memory they took is used again, so 100,000 lines of 200
    bytes (26 MB as record lines) leave the camera's RSS where 10,000 left
    it, give or take 8 MB (the queue of 1,000 is 0.3 MB)."""
    base = tempfile.mkdtemp()
    mnt = os.path.join(base, "small")
    if not mount_tmpfs(mnt, "size=64k"):
        shutil.rmtree(base)
        raise harness.Skip("cannot mount a tmpfs here")
    saved = os.environ.copy()
    # ASan keeps freed blocks aside (256 MB by default): that is not the camera's memory
    os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                  ":quarantine_size_mb=1").lstrip(":")
    try:
        store = os.path.join(mnt, "store")
        with Api() as api, cam(store, "--retain", "1000", server=api.url) as c:
            os.environ.clear()
            os.environ.update(saved)
            recovered(c)
            _fill(os.path.join(mnt, "filler"))

            def push(lo, hi):
                for at in range(lo, hi, 5000):
                    feed(c, ["m%06d %s" % (i, "z" * 192) for i in range(at, min(at + 5000, hi))])
                last = "m%06d %s" % (hi - 1, "z" * 192)
                wait_logs(api, "s1", lambda r: r and r[-1]["description"] == last, timeout=60)
            push(0, 10000)
            wait_until(lambda: "No space left on device" in c.stderr, 10, "the warning")
            before = harness.rss_kib(c.p.pid)
            push(10000, 110000)
            grown = harness.rss_kib(c.p.pid) - before
            print("  RSS %d kB after 10,000 lines, %+d kB after 100,000 more" % (before, grown))
            assert c.alive()
            assert grown < 8 * 1024, grown
            c.kill()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        umount(mnt)
        shutil.rmtree(base)


def test_failing_disk_via_shim():
    """fdatasync failing with EIO (the kernel may have dropped the pages):
    the lines since the last good sync are cut and written again, so each
    event is stored exactly once. Then write failing with ENOSPC after a
    short write: no half line is left behind."""
    d = tempfile.mkdtemp()
    try:
        with Api() as api, shimmed(d, "--fsync", "always", server=api.url) as c:
            recovered(c)
            feed(c, ["ok %d" % i for i in range(20)])
            wait_logs(api, "s1", lambda r: len(r) == 20)
            for mark, err, tag in (("sync", "Input/output error", "eio"),
                                   ("write", "No space left on device", "full")):
                open(os.path.join(d, mark), "w").close()
                feed(c, ["%s %d" % (tag, i) for i in range(30)])
                wait_until(lambda: err in c.stderr, 10, "the %s warning" % tag)
                assert c.alive()
                os.unlink(os.path.join(d, mark))
                n = len([ln for ln in c.err_lines if "writing again" in ln])
                wait_until(lambda: len([ln for ln in c.err_lines if "writing again" in ln]) > n,
                           40, "the store writing again")
            recs = wait_logs(api, "s1", lambda r: len(r) == 80)
            appended, _, _, fails, never = stop(c)
            assert appended == 80 and fails >= 2 and never == 0, (appended, fails, never)
        want = [r["description"] for r in recs]
        got = [json.loads(x)["description"] for x in stored_lines(os.path.join(d, "store"))]
        assert got == want, (len(got), got[:3])
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    harness.run(globals())
