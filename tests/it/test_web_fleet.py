"""The operator page at fleet scale (docs/WEB.md): 500 cameras against one
real api (499 held polls from fleet.py over real HTTP, 50 of them hung up so
they are offline, and one real camera with 10,000 events fed with --input
json, one a minute), in headless Chromium driven by Selenium.

Runs with Debian's /usr/bin/python3 (tests/CMakeLists.txt). The api, the
fleet and the camera are started once for the tests that share them; the
token test has its own api; the others share one Chromium too (a start
costs seconds), each at its window size. Every wait has a deadline and waits for DOM
state. Speed is bench/web_page.py's (docs/BENCHMARKS.md): here the test
checks what makes the page fast (a few dozen rows in the DOM for 10,000
events) and that the page leaves its timing marks, never a duration.
"""
import atexit
import contextlib
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import TZ, Browser, shots_dir  # noqa: E402 (exits without selenium)
from fleet import Fleet  # noqa: E402
from harness import (Api, Camera, bearer, get_json, http, private_file, run,  # noqa: E402
                     wait_until)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

N, OFFLINE, EVENTS = 500, 50, 10000
REAL = "fleet-249a"  # sorts between fleet-249 and fleet-250: row 251 of 500
TOKEN = "operator-token-for-the-fleet-test"
_scene = None


def stamps(n):
    """n RFC 3339 UTC stamps, one a minute, ending now."""
    start = time.time() - n * 60
    return [time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + i * 60)) + ".%03dZ" % (i % 1000)
            for i in range(n)]


def describe(i):
    return "motion in zone %d, event %d." % (i % 7, i)


def all_connected(url, want, headers=None):
    def ok():
        s, cams = get_json(url + "/cameras", headers=headers)
        return s == 200 and sum(c["connected"] for c in cams) == want and len(cams) == N
    wait_until(ok, 30, "%d cameras, %d connected" % (N, want))


def scene():
    """The shared api, fleet and camera (started on first use)."""
    global _scene
    if _scene:
        return _scene
    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    api = stack.enter_context(Api("--connect-grace", "1"))
    fleet = stack.enter_context(Fleet(api.url, N - 1))
    cam = stack.enter_context(Camera(api.url, "--id", REAL, "--source", "stdin", "--input", "json",
                                     "--retain", str(EVENTS), stdin=True))
    ts = stamps(EVENTS)
    cam.p.stdin.write("".join(json.dumps({"timestamp": t, "description": describe(i)}) + "\n"
                              for i, t in enumerate(ts)).encode())
    cam.p.stdin.flush()
    wait_until(lambda: len(get_json(api.url + "/logs?camera=" + REAL, timeout=40)[1]) == EVENTS,
               40, "%d events" % EVENTS)
    fleet.close_some(OFFLINE)
    all_connected(api.url, N - OFFLINE)
    _scene = (api, ts, stack.enter_context(Browser("fleet")))
    return _scene


@contextlib.contextmanager
def page(name, width=1280, height=900):
    """The shared api and camera, and the shared browser (one Chromium for
    the tests that share the api: each start costs seconds) at a window
    size; saves <name>.png in the screenshots when the test is done."""
    api, ts, br = scene()
    br.d.set_window_size(width, height)
    # Chromium's windows are at least 500 px wide.
    br.wait(lambda: width - 100 < br.js("return innerWidth") <= max(width, 500),
            "the window at %d px" % width)
    try:
        yield api, ts, br
    finally:
        br.d.save_screenshot(os.path.join(shots_dir(), "%s.png" % name))


def open_page(br, url):
    br.d.get(url)
    br.wait(lambda: br.js("return document.querySelectorAll('#cameras tbody tr').length") == N,
            "%d rows" % N, 30)


def shown_log(br):
    """Waits for the 10,000 events and the page's marks; returns the rows drawn."""
    br.wait(lambda: br.status().startswith("10,000 events, fetched in"), "the log", 40)
    br.wait(lambda: br.js("return performance.getEntriesByName('logs:shown').length"), "drawn")
    return br.events()


def local(ts, tz=TZ):
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo(tz))
    return t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000)


def test_counts_and_filters():
    with page("fleet-counts") as (api, _, br):
        open_page(br, api.url + "/")
        assert (br.text("n-online"), br.text("n-offline")) == ("450 online", "50 offline")
        assert br.text("count") == "(500)" and not br.by_id("fleet-empty").is_displayed()
        br.by_id("filter").send_keys("offline")
        br.wait(lambda: len(br.cameras()) == OFFLINE, "'offline' finds the offline cameras")
        assert {c[1] for c in br.cameras()} == {"○ offline"} and br.text("count") == "(50 of 500)"
        br.by_id("filter").clear()
        br.by_id("filter").send_keys("fleet-01")
        br.wait(lambda: br.camera_ids() == ["fleet-%03d" % i for i in range(10, 20)], "by id")
        br.by_id("filter").clear()
        br.by_id("n-online").click()  # the header's count is the state filter
        br.wait(lambda: len(br.cameras()) == N - OFFLINE, "online only")
        assert Select(br.by_id("state")).first_selected_option.text == "online"
        br.by_id("filter").send_keys("fleet-0")  # fleet-000 .. 049 are offline
        br.wait(lambda: br.camera_ids() == ["fleet-%03d" % i for i in range(50, 100)],
                "id and state together")
        br.check_log()


def log_in_view(br):
    return br.js("const r = document.getElementById('events-view').getBoundingClientRect();"
                 "return r.top >= 0 && r.top < innerHeight - 100 && r.bottom > r.top")


def test_log_in_view_at_any_row_desktop_and_phone():
    with page("fleet-desktop") as (api, _, br):
        open_page(br, api.url + "/")
        row = br.js("const r = [...document.querySelectorAll('#cameras tbody tr')]"
                    ".find(r => r.cells[0].textContent === arguments[0]);"
                    "r.scrollIntoView({block: 'center'}); return r", REAL)
        assert br.js("return document.getElementById('fleet-scroll').scrollTop") > 1000
        row.click()
        shown_log(br)
        assert log_in_view(br), "the log is in the window"
        assert br.js("return document.documentElement.scrollHeight <= innerHeight + 1"), \
            "the page itself does not scroll: the list and the log have their own boxes"
        assert br.js("return document.getElementById('fleet-scroll').scrollTop") > 1000
        br.check_log()
    with page("fleet-phone", 390, 844) as (api, _, br):
        open_page(br, api.url + "/")
        br.js("const r = [...document.querySelectorAll('#cameras tbody tr')]"
              ".find(r => r.cells[0].textContent === arguments[0]);"
              "r.scrollIntoView({block: 'center'}); r.click()", REAL)
        shown_log(br)
        br.wait(lambda: log_in_view(br), "the log brought into view at phone width")
        assert br.js("return document.documentElement.scrollWidth <= innerWidth")
        br.check_log()


def test_ten_thousand_events_newest_first_keys_search():
    with page("fleet-log") as (api, ts, br):
        open_page(br, api.url + "/?camera=" + REAL)
        rows = shown_log(br)
        assert 20 <= len(rows) <= 100, "a virtual list draws only what is in view: %d" % len(rows)
        assert rows[0] == (describe(EVENTS - 1), ts[-1]), "newest first by default"
        marks = br.js("return ['ask', 'bytes', 'parsed', 'drawn', 'shown'].map(n =>"
                      " performance.getEntriesByName('logs:' + n)[0].startTime)")
        assert marks == sorted(marks), marks
        print("page marks, ms after the ask:", [round(m - marks[0]) for m in marks])
        br.by_id("order").click()
        br.wait(lambda: br.events()[0] == (describe(0), ts[0]), "oldest first")
        assert br.text("order") == "Oldest first"
        br.js("const b = document.getElementById('events-view'); b.scrollTop = b.scrollHeight")
        br.wait(lambda: br.events() and br.events()[-1] == (describe(EVENTS - 1), ts[-1]),
                "the last rows drawn when scrolled to the end")
        keys_and_search(br, ts)
        assert br.status().startswith("10,000 events"), "the status counts every event"
        br.check_log()


def keys_and_search(br, ts):
    """The keyboard's cursor over the log (oldest first), then the search."""
    box = br.by_id("events-view")
    box.send_keys(Keys.HOME)
    br.wait(lambda: describe(0) in br.text("detail"), "Home: the first event in full")
    box.send_keys(Keys.ARROW_DOWN)
    br.wait(lambda: describe(1) in br.text("detail"), "down: the next one")
    box.send_keys(Keys.END)
    br.wait(lambda: describe(EVENTS - 1) in br.text("detail") and ts[-1] in br.text("detail"),
            "End: the last one, with its timestamp as sent")
    assert br.js("return document.querySelector('#events tr.cur .text').textContent") == \
        describe(EVENTS - 1), "the cursor's row is drawn and marked"
    br.by_id("search").send_keys("ZONE 3,")
    want = sum(1 for i in range(EVENTS) if i % 7 == 3)
    br.wait(lambda: br.text("matches") == "%s of 10,000 match" % format(want, ","), "search")
    assert all("zone 3," in d for d, _ in br.events())
    br.by_id("search").clear()
    br.by_id("search").send_keys("event 4242.")
    br.wait(lambda: br.events() == [(describe(4242), ts[4242])], "one match")
    br.d.find_element(By.CSS_SELECTOR, "#events tr.ev").click()
    assert describe(4242) in br.text("detail") and ts[4242] in br.text("detail")


def test_one_time_zone_named_with_a_switch():
    with page("fleet-zone") as (api, ts, br):
        open_page(br, api.url + "/?camera=" + REAL)
        shown_log(br)
        zone = br.js("return document.getElementById('tz').options[0].textContent")
        assert re.fullmatch(r"Asia/(Kolkata|Calcutta) \(UTC\+05:30\)", zone), zone
        assert br.text("ts-h") == "Time, " + zone and zone in br.text("since-zone")
        first = br.js("return document.querySelector('#events td.ts').textContent")
        assert first == local(ts[-1]), first
        since = br.js("return document.querySelector('#cameras td.since').title")
        assert since.endswith("(%s)" % zone), since
        Select(br.by_id("tz")).select_by_value("utc")
        br.wait(lambda: br.js("return document.querySelector('#events td.ts').textContent")
                == local(ts[-1], "UTC"), "rows in UTC")
        assert br.text("ts-h") == "Time, UTC" and br.text("since-zone") == "UTC"
        assert br.js("return document.querySelector('#cameras td.since').title").endswith("(UTC)")
        assert "tz=utc" in br.d.current_url
        axis = br.js("return document.querySelector('#timeline .axis span:last-child')"
                     ".textContent")
        assert axis == local(ts[-1], "UTC")[:16], axis
        br.d.refresh()
        shown_log(br)
        assert br.js("return document.querySelector('#events td.ts').textContent") == \
            local(ts[-1], "UTC"), "the address keeps the zone"
        # "from…" is read in the page's zone: UTC here (ts[5000] ends in .000Z).
        Select(br.by_id("since-preset")).select_by_value("at")
        br.js("const e = document.getElementById('since-at'); e.value = arguments[0];"
              "e.dispatchEvent(new Event('input'))", ts[5000][:19])
        br.by_id("fetch").click()
        br.wait(lambda: br.status().startswith("4,999 events (since %s %s)"
                                               % (ts[5000][:10], ts[5000][11:23])), "since, UTC")
        assert "since=" + ts[5000].replace(":", "%3A") in br.d.current_url, br.d.current_url
        br.check_log()


def test_token_dialog_and_cancel_tell_the_truth():
    tmp = tempfile.mkdtemp(prefix="test_web_fleet.")
    tokens = private_file(tmp, "operators", TOKEN + "\n")
    auth = bearer(TOKEN)
    with Api("--operator-token-file", tokens) as api, Fleet(api.url, N), \
            Browser("fleet-token") as br:
        all_connected(api.url, N, headers=auth)
        assert http("GET", api.url + "/cameras")[0] == 401
        br.d.get(api.url + "/")
        br.wait(lambda: br.js("return document.getElementById('auth').open"), "the dialog")
        assert not br.by_id("fleet-empty").is_displayed(), "no 'no camera' behind the dialog"
        assert br.text("fleet-wait") == "The camera list needs an operator token."
        br.by_id("auth-cancel").click()
        br.wait(lambda: br.by_id("banner").is_displayed(), "the refusal, in the banner")
        banner = br.text("banner")
        assert "no list has loaded yet" in banner and "last success" not in banner, banner
        assert not br.by_id("fleet-empty").is_displayed() and not br.cameras()
        br.wait(lambda: br.text("forget") == "Enter token", "a way back")
        br.by_id("forget").click()
        br.wait(lambda: br.js("return document.getElementById('auth').open"), "asked again")
        br.by_id("token").send_keys(TOKEN + "\n")
        br.wait(lambda: len(br.cameras()) == N, "the list with the token", 30)
        assert br.text("n-online") == "500 online" and not br.by_id("banner").is_displayed()
        br.check_log(allowed=["status of 401"])
    shutil.rmtree(tmp)


if __name__ == "__main__":
    run(globals())
