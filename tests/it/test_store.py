"""Integration tests for camera --store (docs/CAMERA.md, "The store").

Real camera processes, real api, real files: restarts and kill -9 keep what
/logs returned, torn and corrupt segments recover as specified, rotation
keeps --retain, a full disk and failing syncs are survived, and a second
camera on the same directory is refused.
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, get_json, wait_until  # noqa: E402

NOWHERE = "http://127.0.0.1:1"  # no api: the camera backs off, the store still works
RECOVERED_RE = re.compile(r"store \S+: (\d+) events recovered")
CLOSED_RE = re.compile(r"closed; (\d+) events appended, (\d+) writes, (\d+) syncs, (\d+) failed "
                       r"attempts, (\d+) never stored")
CORRUPT_RE = re.compile(r"store \S+/(\d{20})\.eol line (\d+) offset (\d+): (.*); line skipped")
TORN_RE = re.compile(r"torn last line \((\d+) bytes at offset (\d+), line (\d+)\) cut off")


def cam(store, *args, server=NOWHERE, cam_id="s1", source="stdin"):
    return Camera(server, "--id", cam_id, "--source", source, "--store", store, *args,
                  stdin=source == "stdin")


def recovered(c, timeout=10):
    """Waits for the camera's recovery line; returns the number of events."""
    m = wait_until(lambda: RECOVERED_RE.search(c.stderr), timeout, "the recovery line")
    return int(m.group(1))


def stop(c):
    """SIGTERM; returns the numbers of the store's closing line."""
    rc = c.stop(signal.SIGTERM, timeout=harness.signal_limit() + 5)
    c.join_stderr()
    assert rc == 0, (rc, c.stderr)
    m = CLOSED_RE.search(c.stderr)
    assert m, c.stderr
    return [int(x) for x in m.groups()]


def feed(c, lines):
    c.p.stdin.write("".join(s + "\n" for s in lines).encode())
    c.p.stdin.flush()


def logs(api, cam_id, **params):
    q = urllib.parse.urlencode(dict(camera=cam_id, timeout=10, **params))
    return get_json("%s/logs?%s" % (api.url, q), timeout=20)


def wait_logs(api, cam_id, pred, timeout=15, **params):
    def ok():
        status, recs = logs(api, cam_id, **params)
        return [recs] if status == 200 and pred(recs) else None
    return wait_until(ok, timeout, "/logs matching for %s" % cam_id)[0]


def segments(store):
    return sorted(n for n in os.listdir(store) if re.fullmatch(r"\d{20}\.eol", n))


def stored_lines(store):
    out = []
    for n in segments(store):
        with open(os.path.join(store, n), "rb") as f:
            out += f.read().splitlines(keepends=True)
    return out


def run_exit(args, timeout=10, preexec=None):
    """Runs the camera to its exit: (exit code, stderr lines)."""
    p = subprocess.run([os.path.join(harness.BIN, "camera")] + args, capture_output=True,
                       timeout=timeout, preexec_fn=preexec, stdin=subprocess.DEVNULL)
    return p.returncode, p.stderr.decode(errors="replace").splitlines()


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


def _mount_tmpfs(path, opts):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "none", path], capture_output=True)
    return r.returncode == 0


def _umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def test_unusable_store_exits_1_with_one_line():
    base = tempfile.mkdtemp()
    try:
        a_file = os.path.join(base, "file")
        open(a_file, "w").close()
        cases = [(os.path.join(base, "missing", "store"), "parent directory does not exist"),
                 (a_file, "not a directory"), (os.path.join(a_file, "sub"), "")]
        ro = os.path.join(base, "ro")
        if _mount_tmpfs(ro, "ro,size=64k"):
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
        _umount(os.path.join(base, "ro"))
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
    if not _mount_tmpfs(mnt, "size=64k"):
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
        _umount(mnt)
        shutil.rmtree(base)


FAIL_SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int marked(const char *var)
{
    const char *m = getenv(var);
    return m && access(m, F_OK) == 0;
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (marked("FAIL_SYNC_MARK")) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

ssize_t write(int fd, const void *p, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    struct stat st;
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (fd > 2 && marked("FAIL_WRITE_MARK") && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (n > 10)
            return real(fd, p, n / 2); /* a short write first, as a filling disk does */
        errno = ENOSPC;
        return -1;
    }
    return real(fd, p, n);
}
"""


def _shimmed(d, *args, server):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "no C compiler for the fault shim"
    src, so = os.path.join(d, "shim.c"), os.path.join(d, "shim.so")
    with open(src, "w") as f:
        f.write(FAIL_SHIM_C)
    subprocess.run([cc, "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True,
                   capture_output=True, timeout=60)
    saved = os.environ.copy()
    os.environ.update(LD_PRELOAD=so, FAIL_SYNC_MARK=os.path.join(d, "sync"),
                      FAIL_WRITE_MARK=os.path.join(d, "write"),
                      ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") +
                                    ":verify_asan_link_order=0").lstrip(":"))
    try:
        return cam(os.path.join(d, "store"), *args, server=server)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_failing_disk_via_shim():
    """fdatasync failing with EIO (the kernel may have dropped the pages):
    the lines since the last good sync are cut and written again, so each
    event is stored exactly once. Then write failing with ENOSPC after a
    short write: no half line is left behind."""
    d = tempfile.mkdtemp()
    try:
        with Api() as api, _shimmed(d, "--fsync", "always", server=api.url) as c:
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
