"""v1.2 on /logs and /send-stats beside the cache's contents: `stale=1`
(answered from the cache at once when the camera is away, and instead of
502/504, with Camlogs-Cached), the switches, a bad `after` (a follower's too), and
`/send-stats`'s `epoch`/`first`/`seq` rules (the real api, raw HTTP).
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Async, get_json, http, raw, wait_metric, wait_until  # noqa: E402
from numcam import NumCam, logs, model_reply  # noqa: E402

E1 = "3fa9c1d2e4b5a6f7"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def get(api, q, timeout=10):
    s, h, b = http("GET", api.url + "/logs?" + q, timeout=timeout)
    return s, h, json.loads(b) if b else None


def test_stale_when_away():
    with Api("--connect-grace", "5") as api:
        cam = NumCam(api, "s1", E1)
        cam.add(12)
        logs(api, cam)
        # away = not connected: no poll, no upload, no reply for the grace
        # (a camera between its upload and its next poll is not away)
        wait_until(lambda: not get_json(api.url + "/cameras")[1][0]["connected"], 15, "s1 away")
        t0 = time.monotonic()
        s, h, body = get(api, "camera=s1&stale=1&limit=4")
        took = time.monotonic() - t0
        want, _ = model_reply(cam, {"limit": 4})
        assert s == 200 and body == want, (s, body)
        assert took < 4, took  # at once, not after the 5 s grace
        assert STAMP.match(h["camlogs-cached"]) and h["camlogs-cursor"] == E1 + ":12", h
        s, h, body = get(api, "camera=s1&stale=1&after=%s:10" % E1)
        assert s == 200 and [r["description"] for r in body] == ["ev 11", "ev 12"], body
        s, h, body = get(api, "camera=s1&stale=1&after=zz:10")
        assert s == 200 and len(body) == 12 and h.get("camlogs-gap") == "1", h
        s, h, body = get(api, "camera=s1&stale=0&timeout=5")
        assert s == 503 and "camlogs-cached" not in h, (s, body)
        s, h, body = get(api, "camera=never&stale=1&timeout=5")  # nothing cached: the usual
        assert s == 503 and body["camera"] == "never", body


def test_stale_instead_of_504_and_502():
    with Api("--connect-grace", "5") as api:
        cam = NumCam(api, "s2", E1)
        cam.add(5)
        logs(api, cam)
        cam.add(1)  # the cache does not have it: a stale answer shows 5
        cam.start_poll()
        a = Async("GET", api.url + "/logs?camera=s2&stale=1&timeout=2", timeout=10)
        b = Async("GET", api.url + "/logs?camera=s2&timeout=2", timeout=10)
        wait_metric(api, "camlogs_logs_waiting", 2)  # both in the one fetch
        msg = cam.wake()  # delivered; the camera never uploads
        s, h, body = a.result()
        assert s == 200 and len(json.loads(body)) == 5 and "camlogs-cached" in h, (s, h, body)
        assert b.result()[0] == 504
        # A malformed upload: 502 to the waiters, the cache's records to stale ones.
        cam.start_poll()
        a = Async("GET", api.url + "/logs?camera=s2&stale=1", timeout=10)
        b = Async("GET", api.url + "/logs?camera=s2", timeout=10)
        wait_metric(api, "camlogs_logs_waiting", 2)
        msg = cam.wake()
        s, _, _ = cam.upload(msg, body=b'{"description":"x","timestamp":"2026-01-01T00:00:00Z"}\n')
        assert s == 400
        s, h, body = a.result()
        assert s == 200 and len(json.loads(body)) == 5 and "camlogs-cached" in h, (s, body)
        assert b.result()[0] == 502
        # A fresh reply never has Camlogs-Cached.
        s, h, body, _ = logs(api, cam, "stale=1")
        assert s == 200 and len(body) == 6 and "camlogs-cached" not in h, h


def test_switches_and_after_syntax():
    with Api() as api:
        for q in ["stale=2", "stale=", "stale=true", "follow=yes", "follow=01", "stale=1&stale=1",
                  "after=e1", "after=e1:", "after=:3", "after=e%2F1:3", "after=e1:-3",
                  "after=e1:9007199254740993"]:
            s, _, body = get(api, "camera=x&" + q)
            assert s == 400 and body["camera"] == "x", (q, s, body)
        s, _, body = get(api, "camera=x&follow=0&stale=0&timeout=0.5")
        assert s == 503, (s, body)  # off switches change nothing
        s, _, body = get(api, "camera=x&follow=1&limit=0")  # a follower's parameters too
        assert s == 400 and body["camera"] == "x" and "limit" in body["error"], (s, body)


def test_send_stats_numbers():
    with Api() as api:
        cam = NumCam(api, "n1", E1)
        cam.add(3)
        for q, why in [("epoch=" + E1, "missing first"), ("epoch=%s&first=0" % E1, "first"),
                       ("epoch=%s&first=x" % E1, "first"), ("epoch=a:b&first=1", "epoch")]:
            s, _, b = http("POST", api.url + "/send-stats?camera=n1&" + q, body=b"EOL\n")
            assert s == 400 and why in json.loads(b)["error"], (q, s, b)
        # Each at its first bad byte: the '}' that ends a record without seq, the
        # '0' no seq starts with, the '}' after a 2 not above the previous 2 (a
        # 20 would have been).
        bad = [(b'{"description":"a","timestamp":"2026-01-01T00:00:00Z"}\nEOL\n', 53),
               (b'{"description":"a","timestamp":"2026-01-01T00:00:00Z","seq":0}\nEOL\n', 60),
               (b'{"description":"a","timestamp":"2026-01-01T00:00:00Z","seq":2}\n'
                b'{"description":"a","timestamp":"2026-01-01T00:00:00Z","seq":2}\nEOL\n', 124)]
        for body, offset in bad:
            cam.start_poll()
            a = Async("GET", api.url + "/logs?camera=n1", timeout=10)
            msg = cam.wake()
            s, _, b = cam.upload(msg, body=body)
            err = json.loads(b)
            assert s == 400 and err["offset"] == offset, (body, err)
            assert a.result()[0] == 502
        # Over the camera path's raw socket: a numbered upload with keep-alive.
        cam.start_poll()
        a = Async("GET", api.url + "/logs?camera=n1&limit=1", timeout=10)
        msg = cam.wake()
        body = cam.body(cam.events)
        req = (b"POST /send-stats?camera=n1&epoch=%s&first=1&request_id=%s HTTP/1.1\r\n"
               b"Host: x\r\nContent-Length: %d\r\n\r\n" % (E1.encode(), msg["request_id"].encode(),
                                                           len(body))) + body
        out = raw(api.port, req, timeout=2)
        assert out.startswith(b"HTTP/1.1 200") and b'{"accepted":3}' in out, out
        s, h, got = a.result()
        assert s == 200 and json.loads(got) == model_reply(cam, {"limit": 1})[0], got
        assert h["camlogs-cursor"] == E1 + ":3"


def test_headers_over_http2():
    """The headers go out over HTTP/2 too (h2o's transport; curl, prior knowledge)."""
    with Api("--http2") as api:
        cam = NumCam(api, "h2", E1)
        cam.add(3)
        logs(api, cam)
        out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-D", "-", "-o",
                              "/dev/null", api.url + "/logs?camera=h2&stale=1&after=zz:1"],
                             capture_output=True, text=True, timeout=15)
        assert out.returncode == 0, out.stderr
        head = out.stdout.lower()
        assert head.startswith("http/2 200"), head
        assert "camlogs-cursor: " + E1 + ":3" in head and "camlogs-gap: 1" in head, head
        assert "camlogs-cached: " in head, head


def test_headers_on_raw_logs():
    with Api() as api:
        cam = NumCam(api, "r1", E1)
        cam.add(2)
        logs(api, cam)
        out = raw(api.port, b"GET /logs?camera=r1&stale=1&after=" + E1.encode() +
                  b":1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = out.split(b"\r\n\r\n")[0].lower()
        assert b"camlogs-cursor: " + E1.encode() + b":2" in head, out
        assert b"camlogs-cached: " in head and b"camlogs-gap" not in head, out



def test_stale_on_a_camera_between_upload_and_poll_is_fresh():
    """A connected camera is not away: stale=1 right after a /logs (the
    camera between its upload and its next poll) is a fresh fetch."""
    from camfake import feed
    from harness import Camera
    with Api() as api, Camera(api.url, "--id", "live1", "--source", "stdin", stdin=True) as cam:
        feed(cam, ["one", "two"])
        wait_until(lambda: len(get(api, "camera=live1")[2] or []) == 2, 15, "two events")
        for _ in range(5):
            get(api, "camera=live1")
            s, h, body = get(api, "camera=live1&stale=1")
            assert s == 200 and "camlogs-cached" not in h, (s, h)
            assert [r["description"] for r in body] == ["one", "two"], body


if __name__ == "__main__":
    harness.run(globals())
