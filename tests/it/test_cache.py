"""The api's side of v1.2 through the real api and a scripted numbering
camera on raw HTTP (numcam.py): the cache and the wake-up's `after`,
`first` (events a camera dropped never reappear), /logs `after` with
Camlogs-Cursor and Camlogs-Gap, epoch changes, the bound (--cache-bytes),
and a 1.1 camera served as in 1.1 (docs/API.md "The cache").
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, http, metric  # noqa: E402
from numcam import NumCam, logs, model_reply, qs  # noqa: E402

E1, E2 = "3fa9c1d2e4b5a6f7", "0123456789abcdef"


def check(api, cam, params, status=200):
    """A /logs with params (dict) equals the contract's full-fetch reply."""
    s, h, body, msg = logs(api, cam, qs(params))
    want, gap = model_reply(cam, params)
    assert s == status, (s, body)
    assert body == want, (params, body, want)
    assert h.get("camlogs-gap") == ("1" if gap else None), h
    assert "camlogs-cached" not in h, h
    return h, msg


def test_incremental_fetch():
    with Api("--connect-grace", "2") as api:
        cam = NumCam(api, "c1", E1)
        cam.add(100)
        h, msg = check(api, cam, {"limit": 5})
        # A numbering camera is asked for its whole history once, without since/limit.
        assert "after" not in msg and "limit" not in msg and "since" not in msg, msg
        assert h["camlogs-cursor"] == E1 + ":100", h
        assert metric(api, "camlogs_cache_events") == 100
        cam.add(1)
        before = metric(api, "camlogs_send_stats_body_bytes_total")
        h, msg = check(api, cam, {})
        assert msg.get("after") == E1 + ":100", msg
        assert h["camlogs-cursor"] == E1 + ":101", h
        sent = metric(api, "camlogs_send_stats_body_bytes_total") - before
        assert sent == len(cam.uploads[-1][2]) and sent < 200, sent
        h, msg = check(api, cam, {"since": "2026-11-28T06:00:00.050Z", "limit": 3})
        assert msg.get("after") == E1 + ":101" and "since" not in msg, msg
        assert cam.uploads[-1][2] == b"EOL 0\n"


def test_after_and_gap():
    with Api() as api:
        cam = NumCam(api, "c2", E1)
        cam.add(20)
        check(api, cam, {})
        h, _ = check(api, cam, {"after": E1 + ":15"})
        assert h["camlogs-cursor"] == E1 + ":20"
        check(api, cam, {"after": E1 + ":20"})  # nothing new: []
        check(api, cam, {"after": E1 + ":0"})  # before the first: all, no gap
        check(api, cam, {"after": E1 + ":15", "limit": 2})
        check(api, cam, {"after": E1 + ":15", "since": "2026-11-28T06:00:00.017Z"})
        check(api, cam, {"after": E2 + ":15"})  # another epoch: gap, as if no after
        cam.drop_below(11)
        cam.add(2)
        check(api, cam, {"after": E1 + ":9"})  # event 10 is gone: gap
        check(api, cam, {"after": E1 + ":10"})  # event 11 is held: no gap
        check(api, cam, {"after": E1 + ":0"})  # gap


def test_dropped_events_not_shown():
    with Api() as api:
        cam = NumCam(api, "c3", E1)
        cam.add(50)
        check(api, cam, {})
        cam.drop_below(40)  # the ring dropped 1..39
        _, msg = check(api, cam, {})
        assert msg.get("after") == E1 + ":50", msg
        assert metric(api, "camlogs_cache_events") == 11
        cam.add(5)
        cam.drop_below(60)  # more new events than it keeps: none of the cache is left
        check(api, cam, {})
        assert metric(api, "camlogs_cache_events") == 0
        cam.add(1)
        check(api, cam, {"limit": 1})


def test_epoch_change():
    with Api() as api:
        cam = NumCam(api, "c4", E1)
        cam.add(10)
        check(api, cam, {})
        cam.restart(E2)
        cam.add(3)
        h, msg = check(api, cam, {"after": E1 + ":10"})
        assert h.get("camlogs-gap") == "1" and h["camlogs-cursor"] == E2 + ":3", h
        assert "after" not in msg, msg  # the poll showed the new epoch: a whole fetch
        _, msg = check(api, cam, {"after": E2 + ":1"})
        assert msg.get("after") == E2 + ":3", msg


def test_camera_ignores_after_of_other_epoch():
    """The camera restarted between its poll and its upload: the wake-up's
    after is of the old epoch, the camera sends everything; the reply is fresh."""
    with Api() as api:
        cam = NumCam(api, "c5", E1)
        cam.add(10)
        check(api, cam, {})
        cam.start_poll()
        from harness import Async
        a = Async("GET", api.url + "/logs?camera=c5&after=" + E1 + ":4", timeout=10)
        msg = cam.wake()
        assert msg.get("after") == E1 + ":10", msg
        cam.restart(E2)
        cam.add(2)
        s, _, _ = cam.upload(msg)
        assert s == 200
        s, h, b = a.result()
        assert s == 200 and h.get("camlogs-gap") == "1" and h["camlogs-cursor"] == E2 + ":2", h
        want, _ = model_reply(cam, {})
        import json
        assert json.loads(b) == want


def test_one_one_camera_as_before():
    with Api() as api:
        cam = NumCam(api, "old", None)
        cam.add(10)
        s, h, body, msg = logs(api, cam, "limit=3&since=2026-11-28T06:00:00.002Z")
        assert s == 200 and len(body) == 3, body
        assert msg.get("limit") == 3 and msg.get("since") == "2026-11-28T06:00:00.002Z", msg
        assert not any(k.startswith("camlogs-") for k in h), h
        s, h, body, _ = logs(api, cam, "after=x:3&stale=1")  # both ignored
        assert s == 200 and len(body) == 10 and "camlogs-cursor" not in h, (h, body)
        s, _, b = http("GET", api.url + "/logs?camera=old&follow=1")
        assert s == 409, (s, b)


def test_cache_off_same_replies():
    with Api("--cache-bytes", "0") as api:
        cam = NumCam(api, "c6", E1)
        cam.add(30)
        h, msg = check(api, cam, {"limit": 4})
        assert msg.get("limit") == 4 and "after" not in msg, msg  # as in 1.1
        assert h["camlogs-cursor"] == E1 + ":30"
        h, msg = check(api, cam, {"after": E1 + ":28"})
        assert "after" not in msg, msg
        assert metric(api, "camlogs_cache_bytes") == 0


def test_eviction_keeps_answers_exact():
    """Three cameras of ~8 KB each under a 20000-byte bound: whole cameras go,
    least recently used first; every reply stays exact."""
    with Api("--cache-bytes", "20000") as api:
        cams = [NumCam(api, "v%d" % i, E1) for i in range(3)]
        for c in cams:
            c.add(60)
        for rnd in range(3):
            for c in cams:
                c.add(rnd + 1)
                check(api, c, {"limit": 7})
                check(api, c, {"after": E1 + ":50"})
                assert metric(api, "camlogs_cache_bytes") <= 20000
        assert 0 < metric(api, "camlogs_cache_events") < 3 * 66
        big = NumCam(api, "big", E1)  # alone over the bound: not cached, fetched as in 1.1
        big.add(400)
        check(api, big, {})
        _, msg = check(api, big, {"limit": 2})
        assert msg.get("limit") == 2 and "after" not in msg, msg
        assert metric(api, "camlogs_cache_bytes") <= 20000


if __name__ == "__main__":
    harness.run(globals())
