"""Restarts as seen through the api (PROTOCOL.md 1.2 "Event numbers and
cursors"): a real camera on a --store stopped with SIGTERM, or killed with
kill -9 while lines are written, comes back with its epoch and numbering,
so the api's cache goes on from where it was (a cursor taken before the
restart still works, nothing reappears or goes missing) and the reply
equals a full fetch by an api without a cache; a camera without a store
starts a new epoch (Camlogs-Gap: 1 on an old cursor).
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, http, metric, wait_until  # noqa: E402


def camera(api, *args):
    return Camera(api.url, "--id", "k1", "--source", "stdin", "--interval", "3600",
                  *args, stdin=True)


def feed(cam, lines):
    cam.p.stdin.write("".join(s + "\n" for s in lines).encode())
    cam.p.stdin.flush()


def get(api, **params):
    q = urllib.parse.urlencode(dict(camera="k1", timeout=10, **params), safe=":")
    s, h, b = http("GET", api.url + "/logs?" + q, timeout=15)
    assert s == 200, (s, b)
    return [r["description"] for r in json.loads(b)], h


def cursor(h):
    epoch, seq = h["camlogs-cursor"].rsplit(":", 1)
    return epoch, int(seq)


def until_count(api, n):
    """Waits until the camera holds n events, as a /logs shows; returns its headers."""
    box = []

    def seen():
        got, h = get(api)
        box[:] = [h]
        return len(got) == n
    wait_until(seen, 15, "%d events" % n)
    return box[0]


def test_sigterm_keeps_epoch_and_numbers():
    d = tempfile.mkdtemp()
    store = os.path.join(d, "store")
    try:
        with Api() as api:
            with camera(api, "--store", store) as cam:
                feed(cam, ["a%d" % i for i in range(100)])
                e, n = cursor(until_count(api, 100))
                assert n == 100
                assert cam.stop() == 0
            before = metric(api, "camlogs_send_stats_body_bytes_total")
            with camera(api, "--store", store) as cam:
                feed(cam, ["b0", "b1"])
                h = until_count(api, 102)
                assert cursor(h) == (e, 102), h
                got, h = get(api, after="%s:100" % e)
                assert got == ["b0", "b1"] and "camlogs-gap" not in h, (got, h)
                # Every fetch after the restart went after the cache (a whole
                # upload of 102 events is over 7 KB).
                assert metric(api, "camlogs_send_stats_body_bytes_total") - before < 1500
    finally:
        shutil.rmtree(d)


def writer(cam, stop, prefix):
    """Writes batches of 20 lines until stopped or 3000 lines (a pace, not a wait)."""
    i = 0
    try:
        while not stop.is_set() and i < 3000:
            feed(cam, ["%s%d" % (prefix, i + j) for j in range(20)])
            i += 20
            stop.wait(0.002)
    except (BrokenPipeError, OSError):
        pass  # killed under us


def test_kill_9_under_writes_keeps_numbering():
    d = tempfile.mkdtemp()
    store = os.path.join(d, "store")
    try:
        with Api() as api, Api("--cache-bytes", "0") as truth:
            seen, epoch = [], None
            for rnd in range(3):
                with camera(api, "--store", store, "--retain", "100000") as cam:
                    stop = threading.Event()
                    t = threading.Thread(target=writer, args=(cam, stop, "r%d-" % rnd))
                    t.start()
                    wait_until(lambda: len(get(api)[0]) > len(seen) + 50, 15, "new events")
                    got, h = get(api)
                    e, n = cursor(h)
                    assert epoch in (None, e), (epoch, e)  # the store's epoch throughout
                    epoch = e
                    assert got[:len(seen)] == seen and n == len(got), (n, len(got))
                    seen = got
                    cam.send_signal(signal.SIGKILL)
                    cam.wait(5)
                    stop.set()
                    t.join(5)
            # The cache's view after the kills equals a full fetch by an api without one.
            with camera(api, "--store", store, "--retain", "100000") as cam:
                got, h = get(api)
                assert cursor(h)[0] == epoch and got[:len(seen)] == seen
                assert cam.stop() == 0
            with camera(truth, "--store", store, "--retain", "100000") as cam:
                full, h2 = get(truth)
                assert full == got and h2["camlogs-cursor"] == h["camlogs-cursor"], (len(full),
                                                                                     len(got))
                assert cam.stop() == 0
    finally:
        shutil.rmtree(d)


def test_no_store_new_epoch_is_a_gap():
    with Api() as api:
        with camera(api) as cam:
            feed(cam, ["x0", "x1", "x2"])
            e, n = cursor(until_count(api, 3))
            assert cam.stop() == 0
        with camera(api) as cam:
            feed(cam, ["y0"])
            until_count(api, 1)
            got, h = get(api, after="%s:2" % e)
            assert got == ["y0"] and h.get("camlogs-gap") == "1", (got, h)
            assert cursor(h)[0] != e and cursor(h)[1] == 1, h


if __name__ == "__main__":
    harness.run(globals())
