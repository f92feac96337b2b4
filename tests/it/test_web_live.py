"""The operator page's live view (docs/WEB.md "Live"; issue 22 item 4): the
"Live" switch reads GET /logs?camera=ID&follow=1 with fetch(), parses the
Server-Sent Events itself (web/sse.js), appends each event as it comes,
reconnects with Last-Event-ID after a drop, and says live / reconnecting /
camera away / ended.

A real api and a real camera (--source stdin: each line written is an
event), headless Chromium (browser.py), and sseproxy.Proxy in front of the
api: it records every request (the token must never be in a URL) and cuts
the open streams on demand (a drop). Every wait has a deadline.
"""
import atexit
import contextlib
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser, shots_dir  # noqa: E402 (exits without selenium)
from harness import Api, Camera, bearer, hold_poll, run, wait_until  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from sseproxy import Proxy  # noqa: E402
from test_web import api_logs, feed  # noqa: E402

TOKEN = "operator-token-for-the-live-test"

# Each case: the stream as sent, and the events a parser must give
# ([type, data, lastId]) and its retry.
SSE_CASES = [
    ("\ufeffretry: 1500\r\n\r\n: hi\r\nid: e:1\r\ndata: {\"a\":1}\r\n\r\n"
     "event: offline\rdata: x\r\rdata:  two\ndata\ndata: lines\n\nid: e:2\n\n"
     "id: bad\u0000\ndata: y\n\ndata: cut off",
     [["message", '{"a":1}', "e:1"], ["offline", "x", "e:1"], ["message", " two\n\nlines", "e:1"],
      ["message", "y", "e:2"]], 1500),
    ("retry: soon\nretry\ndata:\n\n:\n\nevent\ndata: z\n\n",
     [["message", "", ""], ["message", "z", ""]], None),
]


_browser = None


@contextlib.contextmanager
def browser(name):
    """One Chromium for every test here (its start costs seconds under
    load); each test saves <name>.png in the screenshots and checks the
    browser log it left."""
    global _browser
    if _browser is None:
        stack = contextlib.ExitStack()
        atexit.register(stack.close)
        _browser = stack.enter_context(Browser("web_live"))
    try:
        yield _browser
    finally:
        _browser.d.save_screenshot(os.path.join(shots_dir(), "%s.png" % name))
        _browser.d.get("about:blank")


def stdin_camera(api, cam_id):
    return Camera(api.url, "--id", cam_id, "--source", "stdin", stdin=True)


def say(cam, *lines):
    cam.p.stdin.write("".join(line + "\n" for line in lines).encode())
    cam.p.stdin.flush()


def page_events(br):
    """The descriptions on screen, newest first (a short log: all drawn)."""
    return [d for d, _ in br.events()]


def live_state(br):
    return br.js("const s = document.getElementById('live-state');"
                 "return s.hidden ? '' : s.className")


def bar_total(br):
    """The events the timeline's bars count (each bar's path is v-COUNT)."""
    return sum(int(c) for c in re.findall(r"v-(\d+)", br.timeline()))


def go_live(br, url, cam_id, n):
    br.d.get("%s/?camera=%s" % (url, cam_id))
    br.wait(lambda: len(page_events(br)) == n, "the log of %d events" % n)
    br.by_id("live").click()
    br.wait(lambda: live_state(br) == "live-live", "the live state")


def test_sse_parser():
    """web/sse.js as the page loads it, every stream split at every point
    (CR LF pairs included): the same events, ids, retry and comments."""
    with Api() as api, browser("web_live_parser") as br:
        br.d.get(api.url + "/")
        base = br.js("return document.querySelector('script[type=module]').src"
                     ".replace(/app\\.js$/, 'sse.js')")
        for text, want, retry in SSE_CASES:
            got = br.d.execute_async_script("""
                const [url, text, done] = arguments;
                import(url).then(({ SseParser }) => {
                  const all = [];
                  for (let cut = 0; cut <= text.length; cut++) {
                    const evs = [], p = new SseParser((e) => evs.push([e.type, e.data, e.id]));
                    p.feed(text.slice(0, cut));
                    p.feed(text.slice(cut));
                    p.end();
                    all.push([evs, p.retry]);
                  }
                  done(all);
                }, (e) => done(String(e)));""", base, text)
            assert isinstance(got, list), got
            for cut, (evs, r) in enumerate(got):
                assert evs == want and r == retry, (cut, evs, r)
        br.check_log()


def test_live_event_within_a_second():
    """An event written to the camera's stdin is on the page within a
    second, on top (newest first); the timeline and the count grow."""
    with Api() as api, stdin_camera(api, "lv1") as cam, Proxy(api) as px, \
            browser("web_live") as br:
        feed(cam, api, "lv1", ["one", "two"], 2)
        go_live(br, px.url, "lv1", 2)
        assert bar_total(br) == 2
        for i in range(3):
            t0 = time.monotonic()
            say(cam, "live %d" % i)
            br.wait(lambda: page_events(br)[:1] == ["live %d" % i], "live %d on top" % i, 5)
            took = time.monotonic() - t0
            print("event -> page: %.0f ms" % (took * 1000))
            assert took < 1.0, took
        assert page_events(br) == ["live 2", "live 1", "live 0", "two", "one"]
        assert br.status().startswith("5 events (3 live)"), br.status()
        br.wait(lambda: bar_total(br) == 5, "the timeline counts the live events")
        q, h = px.follows()[0]
        assert q["camera"] == "lv1" and "after" not in q, q
        assert h.get("last-event-id", "").endswith(":2"), h
        br.check_log()


def test_reconnect_resumes_without_repeats():
    """The stream is cut twice, with events made while it is down: the page
    says reconnecting, comes back with Last-Event-ID = the last id it got,
    and shows every event exactly once; a stopped camera shows as away."""
    with Api("--connect-grace", "0.5") as api, stdin_camera(api, "lv2") as cam, \
            Proxy(api) as px, browser("web_live_reconnect") as br:
        feed(cam, api, "lv2", ["a"], 1)
        go_live(br, px.url, "lv2", 1)
        br.js("window.__states = []; new MutationObserver(() => window.__states.push("
              "document.getElementById('live-state').className)).observe("
              "document.getElementById('live-state'), {attributes: true})")
        for k in range(2):
            say(cam, "before %d" % k)
            br.wait(lambda: page_events(br)[:1] == ["before %d" % k], "before %d" % k, 5)
            n = len(px.follows())
            assert px.cut() >= 1
            say(cam, "while down %d" % k)
            br.wait(lambda: len(px.follows()) > n, "a reconnect", 10)
            br.wait(lambda: page_events(br)[:1] == ["while down %d" % k], "resumed", 10)
            last_id = px.follows()[n][1].get("last-event-id", "")
            assert last_id.endswith(":%d" % (2 + 2 * k)), (k, last_id)
        assert "live-reconnecting" in br.js("return window.__states"), "said reconnecting"
        want = [d for d, _ in reversed(api_logs(api, "camera=lv2"))]
        assert page_events(br) == want, (page_events(br), want)
        assert len(set(want)) == len(want) == 5
        cam.stop()
        br.wait(lambda: live_state(br) == "live-away", "the camera shown away", 15)
        assert "lv2 is away" in br.text("live-state")
        br.check_log(allowed=("logs?camera=lv2&follow=1",))


def test_token_stays_in_the_header():
    """With operator tokens on, the live stream carries the token as
    Authorization: Bearer, and no request the page made (seen at the proxy)
    has it in its URL."""
    tmp = tempfile.mkdtemp(prefix="test_web_live.")
    tokens = os.path.join(tmp, "operators")
    with open(tokens, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(tokens, 0o600)
    with Api("--operator-token-file", tokens) as api, stdin_camera(api, "lv3") as cam, \
            Proxy(api) as px, browser("web_live_token") as br:
        wait_until(lambda: len(api_logs(api, "camera=lv3", headers=bearer(TOKEN))) == 0, 15,
                   "the camera")
        say(cam, "secret-free")
        br.d.get("%s/?camera=lv3" % px.url)
        br.wait(lambda: br.js("return document.getElementById('auth').open"), "the dialog")
        br.by_id("token").send_keys(TOKEN + Keys.ENTER)
        br.wait(lambda: page_events(br) == ["secret-free"], "the log with the token")
        br.by_id("live").click()
        br.wait(lambda: live_state(br) == "live-live", "live with the token: %s"
                % (br.text("live-state"),))
        say(cam, "after live")
        br.wait(lambda: page_events(br)[:1] == ["after live"], "a live event", 5)
        follows = px.follows()
        assert follows and all(h.get("authorization") == "Bearer " + TOKEN
                               for _, h in follows), follows
        paths = [p for p, _ in px.requests]
        assert any("follow=1" in p for p in paths)
        assert not any(TOKEN in p for p in paths), paths
        br.check_log(allowed=("401",))


def test_camera_that_does_not_number_ends_live():
    """A 1.1 camera (a raw poll without epoch): follow=1 is 409, the line
    says live is not possible and the switch turns off."""
    with Api() as api, Proxy(api) as px, browser("web_live_ended") as br:
        poll = hold_poll(api, "old11", 1)
        br.d.get("%s/?camera=old11&timeout=0.5" % px.url)
        br.wait(lambda: "HTTP 504" in br.status(), "the fetch with nobody uploading")
        br.by_id("live").click()
        br.wait(lambda: live_state(br) == "live-ended", "live ended")
        text = br.text("live-state")
        assert "Live is not possible:" in text and "does not number its events" in text, text
        assert not br.by_id("live").is_selected(), "the switch is off: no retry"
        assert len(px.follows()) == 1, px.follows()
        poll.result()
        br.check_log(allowed=("status of 409", "status of 504"))


def test_camera_list_from_the_stream():
    """The camera list follows GET /cameras?follow=1: a camera's arrival
    and departure show without any poll of /cameras; when the stream is cut
    the page polls, then takes the stream again."""
    with Api("--connect-grace", "0.5") as api, Proxy(api) as px, \
            browser("web_live_fleet") as br:
        def polls():
            return [p for p, _ in px.requests if p.split("?")[0].endswith("/cameras")
                    and "follow=1" not in p]
        def streams():
            return [p for p, _ in px.requests if p.endswith("/cameras?follow=1")]
        br.d.get(px.url + "/")
        br.wait(lambda: "(live)" in br.text("updated"), "the list from the stream")
        n = len(polls())
        with stdin_camera(api, "arrives"):
            br.wait(lambda: br.cameras() == [("arrives", "● online", "")], "the arrival", 5)
        br.wait(lambda: br.cameras() == [("arrives", "○ offline", "")], "the departure", 5)
        assert len(polls()) == n, "no poll while the stream flows"
        s = len(streams())
        assert px.cut() >= 1
        br.wait(lambda: len(polls()) > n, "a poll after the stream was cut", 10)
        br.wait(lambda: len(streams()) > s and "(live)" in br.text("updated"),
                "the stream again", 15)
        with stdin_camera(api, "again"):
            br.wait(lambda: ("again", "● online", "") in br.cameras(), "an arrival", 5)
        br.check_log()


if __name__ == "__main__":
    run(globals())
