"""The operator page with contract 1.2 (docs/WEB.md "Refresh"): a refresh
asks /logs with after=<the last Camlogs-Cursor> and appends what comes,
Camlogs-Gap replaces the log, a camera that does not number its events is
replaced whole, and an away camera shows the api's cached events marked with
their age (stale=1, Camlogs-Cached).

Real api and cameras (--source stdin chooses the descriptions; a camera
without --store starts a new epoch), headless Chromium through Selenium
(browser.py; the browser runs in UTC+05:30). What the page asked is read
from the browser's Resource Timing (the api's request log has no query):
each /logs URL and the size of its reply body. Every wait has a deadline.
"""
import atexit
import contextlib
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser, shots_dir  # noqa: E402 (exits without selenium)
from harness import Api, Async, Camera, http, run, wait_metric  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
from test_web import api_logs, feed, local, wait_cameras  # noqa: E402


_shared = None


@contextlib.contextmanager
def scene(name):
    """One api and one Chromium for every test here (a browser's start
    costs seconds under load); each test has its own camera ids and saves
    <name>.png in the screenshots."""
    global _shared
    if _shared is None:
        stack = contextlib.ExitStack()
        atexit.register(stack.close)
        _shared = (stack.enter_context(Api("--connect-grace", "0.5")),
                   stack.enter_context(Browser("web_cursor")))
    try:
        yield _shared
    finally:
        _shared[1].d.save_screenshot(os.path.join(shots_dir(), "%s.png" % name))


def stdin_camera(api, cam_id):
    return Camera(api.url, "--id", cam_id, "--source", "stdin", stdin=True)


def epoch_of(api, cam_id):
    s, h, _ = http("GET", api.url + "/logs?camera=" + cam_id, timeout=40)
    assert s == 200 and "camlogs-cursor" in h, (s, h)
    return h["camlogs-cursor"].split(":")[0]


def asked(br, n):
    """Waits for the page's n-th /logs request to be complete; returns the
    query of the last one (a dict) and the size of its reply body."""
    def entries():
        return br.js("return performance.getEntriesByType('resource')"
                     ".filter(e => /\\/logs\\?/.test(e.name))"
                     ".map(e => [e.name, e.decodedBodySize])")
    br.wait(lambda: len(entries()) >= n, "/logs request %d" % n)
    got = entries()
    assert len(got) == n, got
    url, size = got[-1]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)), size


def newest_first(api, query):
    return [(d, ts) for d, ts in reversed(api_logs(api, query))]


def polling(api, n=1):
    """Waits until n cameras hold a poll. The cache branch's api (05:15 UTC)
    answers stale=1 from its cache whenever the camera holds no poll at
    that instant, also between an upload and the camera's next poll, where
    the contract would not answer 503; so a test that wants a fresh reply
    from a connected camera asks once it polls."""
    wait_metric(api, "camlogs_polls_held", n, timeout=15)


def fetch_until(br, api, what, pred, polls=1):
    polling(api, polls)
    br.by_id("fetch").click()
    br.wait(pred, what)


def test_refresh_asks_after_the_cursor_and_appends():
    with scene("cursor") as (api, br), stdin_camera(api, "num") as cam:
        feed(cam, api, "num", ["one", "two", "three"], 3)
        epoch = epoch_of(api, "num")
        polling(api)
        br.d.get(api.url + "/?camera=num")
        br.wait(lambda: br.status().startswith("3 events, fetched"), "the first fetch")
        q, _ = asked(br, 1)
        assert q == {"camera": "num", "timeout": "30", "stale": "1"}, q
        assert br.events() == newest_first(api, "camera=num")
        br.d.find_elements(By.CSS_SELECTOR, "#events tr.ev")[0].click()  # "three", in full
        br.wait(lambda: "three" in br.text("detail"), "the picked event")

        feed(cam, api, "num", ["four", "five"], 5)
        fetch_until(br, api, "the refresh appended two",
                    lambda: br.status().startswith("5 events (2 new), fetched"))
        q, size = asked(br, 2)
        assert q.get("after") == epoch + ":3" and q.get("stale") == "1", q
        s, _, body = http("GET", api.url + "/logs?camera=num&after=%s:3" % epoch, timeout=40)
        assert s == 200 and [r["description"] for r in json.loads(body)] == ["four", "five"]
        assert size == len(body), (size, len(body))  # only the new events crossed
        assert br.events() == newest_first(api, "camera=num")
        cur = br.js("return document.querySelector('#events tr.ev.cur .text').textContent")
        assert cur == "three" and "three" in br.text("detail"), cur  # the cursor kept its event

        # Another query is fetched whole; its refresh keeps the last N.
        br.by_id("limit").send_keys("4")
        fetch_until(br, api, "the last 4",
                    lambda: br.status().startswith("4 events (last 4), fetched"))
        q, _ = asked(br, 3)
        assert "after" not in q and q["limit"] == "4", q
        feed(cam, api, "num", ["six"], 6)
        fetch_until(br, api, "the last 4 after a refresh",
                    lambda: br.status().startswith("4 events (last 4; 1 new), fetched"))
        q, _ = asked(br, 4)
        assert q.get("after") == epoch + ":5" and q["limit"] == "4", q
        assert br.events() == newest_first(api, "camera=num&limit=4")
        assert [e[0] for e in br.events()] == ["six", "five", "four", "three"]

        # A list scrolled away from the top keeps showing the same events.
        br.by_id("limit").clear()
        feed(cam, api, "num", ["filler %02d" % i for i in range(60)], 66)
        fetch_until(br, api, "all 66", lambda: br.status().startswith("66 events, fetched"))
        middle = ("const b = document.getElementById('events-view').getBoundingClientRect();"
                  "return document.elementFromPoint(b.left + 300, b.top + b.height / 2)"
                  ".closest('tr').querySelector('.text').textContent")
        br.js("document.getElementById('events-view').scrollTop = 300")
        br.wait(lambda: br.js(middle) not in (None, "") and br.js(middle) != br.events()[0][0],
                "scrolled")
        seen = br.js(middle)
        feed(cam, api, "num", ["new 1", "new 2"], 68)
        fetch_until(br, api, "two more", lambda: br.status().startswith("68 events (2 new)"))
        br.wait(lambda: br.js(middle) == seen, "the same event in the middle of the box")
        assert br.by_id("cached").is_displayed() is False
        br.check_log()


def test_away_camera_shows_the_cache_with_its_age_then_a_new_epoch_is_a_gap():
    with scene("cached") as (api, br):
        with stdin_camera(api, "away") as cam:
            feed(cam, api, "away", ["alpha", "beta"], 2)
            epoch = epoch_of(api, "away")
            before = newest_first(api, "camera=away")
            polling(api)
            br.d.get(api.url + "/?camera=away")
            br.wait(lambda: br.status().startswith("2 events, fetched"), "the camera's events")
        wait_cameras(api, {"away": False})
        s, h, _ = http("GET", api.url + "/logs?camera=away&stale=1")
        assert s == 200 and h.get("camlogs-cached"), (s, h)
        fetch_until(br, api, "the cached mark", lambda: br.by_id("cached").is_displayed(), 0)
        q, _ = asked(br, 2)
        assert q.get("after") == epoch + ":2" and q.get("stale") == "1", q
        text = br.text("cached")
        zone = br.js("return document.getElementById('tz').options[0].text")
        assert zone.endswith("(UTC+05:30)"), zone
        assert re.fullmatch(r"Cached: camera away is away\. This is what the api last had from "
                            r"it, as of (just now|\d+ s ago) \(%s %s\)\."
                            % (re.escape(local(h["camlogs-cached"])), re.escape(zone)), text), text
        assert br.status().startswith("2 events (nothing new), fetched"), br.status()
        assert br.events() == before
        Select(br.by_id("tz")).select_by_value("utc")
        utc = h["camlogs-cached"].replace("T", " ").rstrip("Z")[:23]
        br.wait(lambda: "(%s UTC)" % utc in br.text("cached"), "the age in UTC")

        # The camera comes back without a store: a new epoch, so the old
        # cursor is a gap; the log is replaced and the reply is fresh.
        with stdin_camera(api, "away") as cam:
            feed(cam, api, "away", ["gamma"], 1)
            fetch_until(br, api, "the new history, whole",
                        lambda: br.status().startswith("1 event (fetched whole"))
            q, _ = asked(br, 3)
            assert q.get("after") == epoch + ":2", q
            assert [e[0] for e in br.events()] == ["gamma"]
            assert br.by_id("cached").is_displayed() is False
        br.check_log()


def test_a_camera_without_numbers_is_replaced_whole():
    """A 1.1 camera (no epoch) on raw HTTP: no Camlogs-Cursor, so every
    fetch is whole and the page never sends after."""
    def answer(descs):
        poll = Async("GET", api.url + "/control-channel?camera=old", timeout=30)
        wait_cameras(api, {"old": True})
        return lambda: upload(poll, descs)

    def upload(poll, descs):
        s, _, body = poll.result(timeout=30)
        assert s == 200, (s, body)
        recs = "".join(json.dumps({"description": d, "timestamp": "2026-12-06T05:00:0%dZ" % i})
                       + "\n" for i, d in enumerate(descs))
        s, _, body = http("POST", api.url + "/send-stats?camera=old&request_id=" +
                          json.loads(body)["request_id"], body=(recs + "EOL\n").encode())
        assert s == 200, (s, body)

    with scene("unnumbered") as (api, br):
        up = answer(["a", "b"])
        br.d.get(api.url + "/?camera=old")
        up()
        br.wait(lambda: br.status().startswith("2 events, fetched"), "two events")
        up = answer(["a", "b", "c"])
        br.by_id("fetch").click()
        up()
        br.wait(lambda: br.status().startswith("3 events, fetched"), "three events, whole")
        q, _ = asked(br, 2)
        assert "after" not in q and q["stale"] == "1", q
        assert [e[0] for e in br.events()] == ["c", "b", "a"]
        br.check_log()


if __name__ == "__main__":
    run(globals())
