"""Event numbers on the camera's wire (PROTOCOL.md v1.2 "Event numbers and
cursors"; docs/CAMERA.md "Event numbers"): the epoch and `first` on its
requests, `"seq"` on every record, the wake-up's `after`, and numbering
kept across restarts on a store (SIGTERM, kill -9 under writes) or started
afresh without one.

The camera runs against test_camera.py's fake api (the real api does not
check numbers yet), whose uploads are parsed here by parse_numbered: a
strict EOL stream whose records are exactly description, timestamp and
seq, in that order.
"""
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import camfake as tc  # noqa: E402
from harness import Camera, wait_until  # noqa: E402
from camfake import FakeServer, feed  # noqa: E402
from store_lib import shimmed  # noqa: E402

EPOCH_RE = re.compile(r"^[0-9a-f]{16}$")
SEQ_MAX = 2**53 - 1


def parse_numbered(body):
    """A strict numbered EOL stream: (records with their seq, final line)."""
    assert body.endswith(b"\n"), body[-100:]
    lines = body[:-1].split(b"\n")
    recs = []
    for ln in lines[:-1]:
        obj = json.loads(ln.decode("utf-8"))
        assert list(obj) == ["description", "timestamp", "seq"], obj  # seq is the last member
        assert ln.endswith(b',"seq":%d}' % obj["seq"]), ln
        assert isinstance(obj["seq"], int) and 1 <= obj["seq"] <= SEQ_MAX, obj
        assert tc.TS_RE.match(obj["timestamp"]), obj
        recs.append(obj)
    numbers = [r["seq"] for r in recs]
    assert numbers == sorted(set(numbers)), numbers  # increasing
    assert lines[-1] == b"EOL %d" % len(recs), lines[-1]
    return recs, lines[-1]


tc.parse_eol = parse_numbered  # FakeServer.fetch parses with it


def fetch(fake, rid, **msg):
    """Wakes the camera with request id `rid` and `msg`; returns (query of the
    upload, its records)."""
    q, _, recs, _ = fake.fetch(dict(request_id=rid, camera="n1", **msg))
    assert EPOCH_RE.match(q.get("epoch", "")), q
    assert q.get("first", "").isdigit() and not q["first"].startswith("0"), q
    return q, recs


def descs(recs):
    return [r["description"] for r in recs]


def pairs(recs):
    return {r["seq"]: r["description"] for r in recs}


def stdin_camera(fake, *args):
    """A camera reading stdin, once its first poll is held (a wake-up then
    cannot go to the poll of a camera that stopped before it)."""
    with fake.cv:
        polls = len(fake.polls)
    cam = Camera(fake.url, "--id", "n1", "--source", "stdin", *args, stdin=True)
    fake.wait_poll(polls + 1)
    return cam


def wait_all(fake, n, rid="all"):
    """Fetches until the camera holds n events; returns that upload."""
    got = []

    def enough():
        got[:] = [fetch(fake, rid + str(time.monotonic_ns()))]
        return len(got[0][1]) >= n
    wait_until(enough, 10, "%d events" % n)
    return got[0]


def test_epoch_first_and_seq_on_every_request():
    with FakeServer() as fake, stdin_camera(fake) as cam:
        fake.wait_poll()
        with fake.cv:
            epoch = fake.polls[0][2].get("epoch", "")
        assert EPOCH_RE.match(epoch), fake.polls[0]
        q, recs = fetch(fake, "r0")  # nothing yet: first is the next number
        assert (q["epoch"], q["first"], recs) == (epoch, "1", []), q
        feed(cam, ["e%d" % i for i in range(5)])
        q, recs = wait_all(fake, 5)
        assert q["epoch"] == epoch and q["first"] == "1", q
        assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5] and descs(recs)[0] == "e0", recs
        with fake.cv:
            assert all(p[2].get("epoch") == epoch for p in fake.polls), fake.polls
        tc.exit_fast(cam)


def test_first_is_the_oldest_event_held():
    with FakeServer() as fake, stdin_camera(fake, "--retain", "3") as cam:
        feed(cam, ["e%d" % i for i in range(1, 8)])
        wait_until(lambda: [r["seq"] for r in fetch(fake, "w%d" % time.monotonic_ns())[1]]
                   == [5, 6, 7], 10, "the newest 3")
        q, recs = fetch(fake, "r1", limit=1)
        assert q["first"] == "5" and [r["seq"] for r in recs] == [7], (q, recs)
        tc.exit_fast(cam)


def test_after_is_honoured_then_since_then_limit():
    with FakeServer() as fake, stdin_camera(fake) as cam:
        feed(cam, ["e%d" % i for i in range(1, 11)])
        q, every = wait_all(fake, 10)
        ep = q["epoch"]
        _, recs = fetch(fake, "a1", after="%s:6" % ep)
        assert [r["seq"] for r in recs] == [7, 8, 9, 10], recs
        _, recs = fetch(fake, "a2", after="%s:0" % ep)
        assert recs == every
        _, recs = fetch(fake, "a3", after="%s:10" % ep)
        assert recs == []
        _, recs = fetch(fake, "a4", after="%s:99" % ep)  # past the newest: nothing yet
        assert recs == []
        _, recs = fetch(fake, "a5", after="%s:3" % ep, since=every[7]["timestamp"], limit=1)
        assert [r["seq"] for r in recs] == [10], recs
        _, recs = fetch(fake, "a6", after="%s:3" % ep, limit=2)
        assert [r["seq"] for r in recs] == [9, 10], recs
        _, recs = fetch(fake, "a7", after="%s:8" % ep, since=every[0]["timestamp"])
        assert [r["seq"] for r in recs] == [9, 10], recs
        tc.exit_fast(cam)


def test_after_of_another_epoch_or_malformed_means_everything():
    with FakeServer() as fake, stdin_camera(fake) as cam:
        feed(cam, ["e%d" % i for i in range(1, 5)])
        q, every = wait_all(fake, 4)
        other = "0123456789abcdef" if q["epoch"] != "0123456789abcdef" else "fedcba9876543210"
        _, recs = fetch(fake, "o1", after=other + ":2")
        assert recs == every
        _, recs = fetch(fake, "o2", after=other + ":0", limit=1)
        assert recs == every[-1:]
        for i, bad in enumerate(["%s:02" % q["epoch"], q["epoch"], "%s:-1" % q["epoch"], 5,
                                 "%s:%d" % (q["epoch"], 2**53), ":3", None]):
            _, recs = fetch(fake, "m%d" % i, after=bad)
            assert recs == every, (bad, recs)
        _, recs = fetch(fake, "f1", follow=0)  # a bad follow: an ordinary upload
        assert recs == every
        assert len([ln for ln in cam.err_lines if "malformed after ignored" in ln]) == 1, \
            cam.stderr
        tc.exit_fast(cam)


def test_without_store_a_restart_is_a_new_epoch():
    with FakeServer() as fake:
        epochs = []
        for _ in range(2):
            with stdin_camera(fake) as cam:
                feed(cam, ["x", "y"])
                q, recs = wait_all(fake, 2)
                assert [r["seq"] for r in recs] == [1, 2] and q["first"] == "1", (q, recs)
                epochs.append(q["epoch"])
                tc.exit_fast(cam)
        assert epochs[0] != epochs[1], epochs


def test_store_keeps_epoch_and_numbers_across_sigterm():
    d = tempfile.mkdtemp()
    store = os.path.join(d, "store")
    try:
        with FakeServer() as fake:
            with stdin_camera(fake, "--store", store, "--retain", "8") as cam:
                feed(cam, ["a%d" % i for i in range(1, 6)])
                q, before = wait_all(fake, 5)
                tc.exit_fast(cam)
            with open(os.path.join(store, "epoch")) as f:
                assert f.read() == q["epoch"] + "\n"
            with stdin_camera(fake, "--store", store, "--retain", "8") as cam:
                feed(cam, ["b%d" % i for i in range(6, 11)])
                q2, after = wait_all(fake, 8)
                assert q2["epoch"] == q["epoch"], (q, q2)
                assert [r["seq"] for r in after] == list(range(3, 11)), after
                assert q2["first"] == "3" and pairs(after)[5] == "a5" and pairs(after)[6] == "b6"
                tc.exit_fast(cam)
    finally:
        shutil.rmtree(d)


def test_store_from_1_1_gets_an_epoch_and_keeps_its_numbers():
    d = tempfile.mkdtemp()
    store = os.path.join(d, "store")
    try:
        with FakeServer() as fake:
            with stdin_camera(fake, "--store", store) as cam:
                feed(cam, ["old%d" % i for i in range(1, 4)])
                q, _ = wait_all(fake, 3)
                tc.exit_fast(cam)
            os.unlink(os.path.join(store, "epoch"))  # what a 1.1 camera left
            with stdin_camera(fake, "--store", store) as cam:
                feed(cam, ["new4"])
                q2, recs = wait_all(fake, 4)
                assert q2["epoch"] != q["epoch"] and pairs(recs) == {
                    1: "old1", 2: "old2", 3: "old3", 4: "new4"}, (q2, recs)
                assert "new epoch" in cam.stderr
                tc.exit_fast(cam)
            with open(os.path.join(store, "epoch")) as f:
                assert f.read() == q2["epoch"] + "\n"
    finally:
        shutil.rmtree(d)


class Writer:
    """Feeds numbered lines to a camera's stdin until stopped or it dies."""

    def __init__(self, cam, tag):
        self.cam, self.tag, self.n = cam, tag, 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            while not self.stop.is_set():
                batch = ["%s-%05d" % (self.tag, self.n + i) for i in range(20)]
                feed(self.cam, batch)
                self.n += 20
                time.sleep(0.002)
        except (BrokenPipeError, ValueError, OSError):
            pass  # killed under us


def test_kill_9_under_writes_keeps_epoch_and_numbering():
    """Five rounds: write lines without pause, fetch while writing, kill -9.
    Every run shows the same epoch; the numbers held always run 1..N without
    a gap; what any upload showed under a number stays under it."""
    d = tempfile.mkdtemp()
    store = os.path.join(d, "store")
    seen, epoch = {}, None
    try:
        with FakeServer() as fake:
            for rnd in range(5):
                with stdin_camera(fake, "--store", store, "--retain", "100000") as cam:
                    w = Writer(cam, "r%d" % rnd)
                    for k in range(3):
                        q, recs = fetch(fake, "k%d.%d" % (rnd, k))
                        epoch = epoch or q["epoch"]
                        assert q["epoch"] == epoch and q["first"] == "1", q
                        numbers = [r["seq"] for r in recs]
                        assert numbers == list(range(1, len(recs) + 1)), numbers[:5]
                        for s, desc in pairs(recs).items():
                            assert seen.setdefault(s, desc) == desc, (s, seen[s], desc)
                    cam.p.send_signal(signal.SIGKILL)
                    cam.p.wait(timeout=5)
                    w.stop.set()
                    w.t.join(5)
            assert len(seen) > 0
            with stdin_camera(fake, "--store", store, "--retain", "100000") as cam:
                q, recs = fetch(fake, "final")
                assert q["epoch"] == epoch, (q, epoch)
                held = pairs(recs)
                assert sorted(held) == list(range(1, len(held) + 1))
                assert all(held[s] == desc for s, desc in seen.items()), "a number was reused"
                feed(cam, ["last"])
                q, recs = wait_all(fake, len(held) + 1)
                assert recs[-1] == dict(recs[-1], seq=len(held) + 1, description="last")
                tc.exit_fast(cam)
    finally:
        shutil.rmtree(d)


def test_failing_disk_takes_the_epoch_until_the_events_are_stored():
    """Writes failing (store_lib.py's LD_PRELOAD shim): an event served from
    memory is sent with its number, so DIR/epoch goes first and comes back
    once the event is stored; a camera killed before then starts a new
    epoch, and its numbers start where the store's events end."""
    d = tempfile.mkdtemp()
    store, fail = os.path.join(d, "store"), os.path.join(d, "write")
    epoch_file = os.path.join(store, "epoch")
    try:
        with FakeServer() as fake:
            for phase, ok, late in (("comes back", ["ok1", "ok2"], 3),
                                    ("killed while failing", ["ok4"], 5)):
                with fake.cv:
                    polls = len(fake.polls)
                with shimmed(d, "--fsync", "always", server=fake.url) as c:
                    fake.wait_poll(polls + 1)
                    feed(c, ok)
                    q, _ = wait_all(fake, late - 1)
                    epoch = q["epoch"]
                    open(fail, "w").close()
                    feed(c, ["late%d" % late])
                    q, recs = wait_all(fake, late)
                    assert q["epoch"] == epoch and pairs(recs)[late] == "late%d" % late, recs
                    assert not os.path.exists(epoch_file)
                    wait_until(lambda: "events sent before they are stored" in c.stderr, 10,
                               "the warning")
                    if phase == "comes back":
                        os.unlink(fail)
                        wait_until(lambda: os.path.exists(epoch_file), 40, "DIR/epoch again")
                        with open(epoch_file) as f:
                            assert f.read() == epoch + "\n"
                    c.p.send_signal(signal.SIGKILL)
                    c.p.wait(timeout=5)
                if os.path.exists(fail):
                    os.unlink(fail)
                with stdin_camera(fake, "--store", store) as c:
                    q, recs = fetch(fake, "restart%d" % late)
                    if phase == "comes back":
                        assert q["epoch"] == epoch and pairs(recs) == {
                            1: "ok1", 2: "ok2", 3: "late3"}, (q, recs)
                    else:  # late5 was never stored: its number is not this epoch's any more
                        assert q["epoch"] != epoch, q
                        assert pairs(recs) == {1: "ok1", 2: "ok2", 3: "late3", 4: "ok4"}, recs
                        feed(c, ["new5"])
                        q2, recs = wait_all(fake, 5)
                        assert q2["epoch"] == q["epoch"] and pairs(recs)[5] == "new5", recs
                    tc.exit_fast(c)
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    harness.run(globals())
