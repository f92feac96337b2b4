"""Integration tests of GET /logs?follow=1 (PROTOCOL.md 1.2, docs/API.md
"Follow") against real cameras (`--source stdin`): the first part then live
events, exactly once in order across a reconnect with Last-Event-ID, a gap
after a camera restarted without a store, offline and online, the follow
upload not cut by --request-timeout, a /logs answered from the cache while
a follow upload is open, the metrics."""
import os
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, get_json, http, metric, wait_until  # noqa: E402
from follow_lib import Follower, messages, say, stdin_camera, until_event  # noqa: E402


def logs(api, cam, **params):
    q = urllib.parse.urlencode(dict(camera=cam, timeout=10, **params))
    return get_json("%s/logs?%s" % (api.url, q), timeout=20)


def wait_count(api, cam, n):
    wait_until(lambda: len(logs(api, cam)[1] or []) == n, 15, "%d events of %s" % (n, cam))


def followed(api, cam):
    """Waits until the api holds a follow upload of `cam` open (its cache
    streams): a /logs is then answered from the cache."""
    wait_until(lambda: metric(api, "camlogs_followers") >= 1, 10, "a follower")


def test_first_part_then_live():
    with Api("--follow-hold", "5") as api, stdin_camera(api, "c1") as cam:
        say(cam, "a", "b")
        wait_count(api, "c1", 2)
        f = Follower(api.port, "camera=c1")
        assert f.status == 200, f.error()
        assert f.headers["content-type"] == "text/event-stream"
        assert f.headers["cache-control"] == "no-cache"
        assert f.headers["x-accel-buffering"] == "no"
        assert f.next_block() == {"retry": "2000"}
        first = messages(f, 2)
        assert [d for d, _ in first] == ["a", "b"], first
        epoch = first[0][1].split(":")[0]
        assert [i for _, i in first] == [epoch + ":1", epoch + ":2"]
        t0 = time.monotonic()
        say(cam, "c")
        assert messages(f, 1, timeout=3) == [("c", epoch + ":3")]
        live = time.monotonic() - t0
        # limit shapes the first part only
        g = Follower(api.port, "camera=c1&limit=1")
        assert [d for d, _ in messages(g, 1)] == ["c"]
        say(cam, "d")
        assert [d for d, _ in messages(g, 1)] == ["d"]
        assert [d for d, _ in messages(f, 1)] == ["d"]
        wait_until(lambda: metric(api, "camlogs_followers") == 2, 5, "2 followers")
        assert metric(api, "camlogs_follow_events_total") >= 5
        f.close()
        g.close()
        wait_until(lambda: metric(api, "camlogs_followers") == 0, 5, "followers gone")
        print("   first live event after %.3f s" % live)


def test_resume_with_last_event_id():
    with Api("--follow-hold", "3") as api, stdin_camera(api, "c2") as cam:
        say(cam, *["e%d" % i for i in range(1, 6)])
        wait_count(api, "c2", 5)
        f = Follower(api.port, "camera=c2")
        got = messages(f, 3)
        f.close()
        say(cam, *["e%d" % i for i in range(6, 9)])
        g = Follower(api.port, "camera=c2&after=nope:1&limit=1",  # the header replaces after,
                     headers={"Last-Event-ID": got[-1][1]})  # and limit no longer applies
        rest = messages(g, 5)
        assert [d for d, _ in got + rest] == ["e%d" % i for i in range(1, 9)], (got, rest)
        say(cam, "e9")
        assert [d for d, _ in messages(g, 1)] == ["e9"]
        for bad in ("x", "a b:1", "e:1x", "e:-1", "e:9007199254740993"):
            b = Follower(api.port, "camera=c2", headers={"Last-Event-ID": bad})
            assert b.status == 400, (bad, b.status)
            assert "Last-Event-ID" in b.error()["error"]
        b = Follower(api.port, "camera=c2&after=bad")
        assert b.status == 400


def test_gap_after_restart_without_store():
    with Api("--follow-hold", "3", "--connect-grace", "0.5") as api:
        cam = stdin_camera(api, "c3")
        say(cam, "old1", "old2")
        wait_count(api, "c3", 2)
        f = Follower(api.port, "camera=c3")
        old = messages(f, 2)
        cam.stop(signal.SIGTERM, timeout=harness.signal_limit() + 5)
        until_event(f, "offline")
        cam = stdin_camera(api, "c3")
        say(cam, "new1", "new2")
        b, seen = until_event(f, "gap", timeout=15)
        assert b["json"]["after"] == old[-1][1], b
        nxt = b["json"]["next"]
        assert nxt.split(":")[0] != old[0][1].split(":")[0] and nxt.endswith(":0"), b
        new = messages(f, 2)
        assert [d for d, _ in new] == ["new1", "new2"], new
        assert new[0][1] == nxt.split(":")[0] + ":1"
        assert not [s for s in seen if "id" in s], seen  # nothing old again
        cam.stop()


def test_offline_then_online_with_store(tmp="/tmp"):
    import tempfile
    with Api("--follow-hold", "3", "--connect-grace", "0.5") as api, \
            tempfile.TemporaryDirectory() as d:
        f = Follower(api.port, "camera=c4")  # a camera never seen
        assert f.next_block() == {"retry": "2000"}
        assert f.next_event()["event"] == "offline"
        cam = stdin_camera(api, "c4", "--store", d)
        say(cam, "s1")
        until_event(f, "online")
        assert [d_ for d_, _ in messages(f, 1)] == ["s1"]
        cam.stop(signal.SIGTERM, timeout=harness.signal_limit() + 5)
        until_event(f, "offline")
        cam = stdin_camera(api, "c4", "--store", d)
        say(cam, "s2")
        b, seen = until_event(f, "online", timeout=10)
        got = messages(f, 1)
        assert [d_ for d_, _ in got] == ["s2"], (seen, got)  # no repeat, no gap
        cam.stop()


def test_unnumbered_camera():
    with Api("--poll-timeout", "2") as api:
        a = harness.hold_poll(api, "old", 1)  # a 1.1 camera: no epoch
        f = Follower(api.port, "camera=old")
        assert f.status == 409, f.status
        assert f.error() == {"error": "follow=1: this camera does not number its events",
                             "camera": "old"}
        f = Follower(api.port, "camera=new")  # not known yet: followed
        assert f.next_block() == {"retry": "2000"}
        assert f.next_event()["event"] == "offline"
        b = harness.Async("GET", api.url + "/control-channel?camera=new", timeout=10)
        end = f.next_event()
        assert end["event"] == "end" and end["json"] == {"camera": "new", "reason": "unnumbered"}
        assert f.next_block() is None  # the stream closed
        a.result()
        b.result()


def test_follow_upload_outlives_request_timeout():
    with Api("--follow-hold", "3", "--request-timeout", "1", quiet=False) as api, \
            stdin_camera(api, "c5") as cam:
        say(cam, "r1")
        wait_count(api, "c5", 1)
        f = Follower(api.port, "camera=c5")
        messages(f, 1)
        wait_until(lambda: any("send-stats" in ln and "status=200" in ln and "ms=" in ln and
                               float(ln.rsplit("ms=", 1)[1].split()[0]) > 2500
                               for ln in api.err_lines), 10, "a 3 s follow upload answered 200")
        say(cam, "r2")
        assert [d for d, _ in messages(f, 1)] == ["r2"]
        assert not [ln for ln in api.err_lines if "status=408" in ln], api.stderr


def test_logs_from_cache_during_follow_upload():
    with Api("--follow-hold", "30") as api, stdin_camera(api, "c6") as cam:
        say(cam, "k1", "k2")
        wait_count(api, "c6", 2)
        f = Follower(api.port, "camera=c6")
        messages(f, 2)
        say(cam, "k3")
        messages(f, 1)  # through the follow upload, which stays open 30 s
        t0 = time.monotonic()
        st, hdrs, body = http("GET", api.url + "/logs?camera=c6&timeout=5")
        took = time.monotonic() - t0
        assert st == 200 and b'"k3"' in body, (st, body)
        assert "camlogs-cursor" in hdrs and "camlogs-cached" not in hdrs, hdrs
        assert took < 1.0, took  # at once: no fetch waits for the 30 s upload
        st, recs = logs(api, "c6", limit=1)
        assert st == 200 and [r["description"] for r in recs] == ["k3"]


def test_keepalive_and_shutdown():
    os.environ["CAMLOGS_FOLLOW_KEEPALIVE_MS"] = "400"
    try:
        api = Api()
    finally:
        del os.environ["CAMLOGS_FOLLOW_KEEPALIVE_MS"]
    with api:
        f = Follower(api.port, "camera=quiet")
        assert f.next_block() == {"retry": "2000"}
        assert f.next_event()["event"] == "offline"
        t0 = time.monotonic()
        assert f.next_block(timeout=3) == {"comment": "keep-alive"}
        assert time.monotonic() - t0 < 2
        api.send_signal(signal.SIGTERM)
        end = f.next_event(timeout=5)
        assert end["event"] == "end" and end["json"]["reason"] == "shutdown", end
        assert f.next_block() is None
        assert api.wait(harness.signal_limit() + 5) == 0


if __name__ == "__main__":
    harness.run(globals())
