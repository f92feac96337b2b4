"""The operator page (docs/WEB.md) in headless Chromium driven by Selenium,
against a real api and real cameras (--source stdin sets descriptions).

Runs with Debian's /usr/bin/python3, which has python3-selenium
(tests/CMakeLists.txt); helpers in browser.py. Every wait is a WebDriverWait
or harness.wait_until with a deadline. Each browser test saves a screenshot
in <build>/screenshots/. The browser runs in UTC+05:30 (browser.TZ).
"""
import csv
import datetime
import glob
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zoneinfo
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import TZ, Browser, FrontDoor, Nginx, shots_dir  # noqa: E402 (exits without selenium)
from harness import Api, Async, Camera, get_json, http, run, wait_until  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

TOKEN = "operator-token-for-the-web-test"
HOSTILE = ["<img src=x onerror=window.__pwned=1>",
           "</script><script>window.__pwned=1</script>",
           "invoice\u202egnp.exe",
           "<b>" + "L" * 9992 + "</b>\u202e"]  # 10,000 characters
assert len(HOSTILE[3]) == 10000


def wait_cameras(api, want, headers=None):
    """Waits until /cameras says {id: connected} for every id in want."""
    def ok():
        s, cams = get_json(api.url + "/cameras", headers=headers)
        got = {c["camera"]: c["connected"] for c in cams} if s == 200 else {}
        return all(got.get(k) == v for k, v in want.items())
    wait_until(ok, 15, "cameras %s" % want)


def api_logs(api, query, headers=None):
    s, body = get_json(api.url + "/logs?" + query, headers=headers, timeout=40)
    assert s == 200, (s, body)
    return [(r["description"], r["timestamp"]) for r in body]


def feed(cam, api, cam_id, lines, total):
    cam.p.stdin.write("".join(line + "\n" for line in lines).encode())
    cam.p.stdin.flush()
    wait_until(lambda: len(api_logs(api, "camera=" + cam_id)) == total, 15, "%d events" % total)


def local(ts):
    """What the page shows for an RFC 3339 UTC stamp: local time, ms."""
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo(TZ))
    return t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000)


# --- the page as files and headers (no browser) -------------------------------------

class PageScan(HTMLParser):
    """Collects what index.html loads and anything inline."""

    def __init__(self):
        super().__init__()
        self.refs, self.inline = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [a[k] for k in ("src", "href") if k in a]
        self.inline += [tag + " " + k for k in a if k == "style" or k.startswith("on")]
        if tag == "style" or (tag == "script" and "src" not in a):
            self.inline.append(tag)


def test_headers_etag_and_nothing_inline():
    with Api() as api:
        s, h, page = http("GET", api.url + "/")
        assert s == 200 and h["content-type"] == "text/html; charset=utf-8", (s, h)
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "require-trusted-types-for 'script'" in csp, csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
        assert h["cache-control"] == "no-cache" and re.fullmatch(r'"[0-9a-f]{32}"', h["etag"]), h
        for inm in (h["etag"], "W/" + h["etag"], '"other", ' + h["etag"], "*"):
            s2, h2, b2 = http("GET", api.url + "/?camera=x", headers={"If-None-Match": inm})
            assert (s2, b2, h2["etag"]) == (304, b"", h["etag"]), (inm, s2, h2)
            assert "content-length" not in h2 and "content-security-policy" in h2, h2
        assert http("GET", api.url + "/", headers={"If-None-Match": '"0000"'})[0] == 200
        s, h2, body = http("HEAD", api.url + "/")
        assert (s, body, h2["content-length"]) == (200, b"", str(len(page))), (s, h2)
        s, h2, body = http("POST", api.url + "/")
        assert (s, h2["allow"]) == (405, "GET, HEAD") and json.loads(body)["error"], (s, h2)

        scan = PageScan()
        scan.feed(page.decode())
        assert scan.inline == [], scan.inline
        assert len(scan.refs) == 3 and all(r.startswith("ui/") for r in scan.refs), scan.refs
        js = [r for r in scan.refs if r.endswith("app.js")][0]
        prefix = js.rsplit("/", 1)[0]
        types = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
                 "svg": "image/svg+xml"}
        web = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web")
        names = sorted(n for n in os.listdir(web) if n != "index.html")
        assert {"app.js", "logs.js", "logview.js", "style.css", "icon.svg"} <= set(names), names
        for name in names:
            s, h2, body = http("GET", "%s/%s/%s" % (api.url, prefix, name))
            assert s == 200 and h2["content-type"] == types[name.rsplit(".", 1)[1]], (name, s)
            assert h2["cache-control"] == "max-age=31536000, immutable", h2
            assert h2["x-content-type-options"] == "nosniff", h2
            text = body.decode()
            assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)|url\(", text), name
            assert not re.search(r"\.style\b|setAttribute\('style'|localStorage\.set", text), name
        for bad in ("/ui/app.js", "/ui/%s/nope.js" % prefix[3:], "/index.html"):
            s, h2, body = http("GET", api.url + bad)
            assert s == 404 and json.loads(body)["error"], (bad, s)


# --- in the browser -----------------------------------------------------------------

def test_camera_table_live_filter_sort_keyboard():
    with Api() as api, Camera(api.url, "--id", "cam-b", "--interval", "1"), \
            Camera(api.url, "--id", "cam-a", "--interval", "60"), Browser("cameras") as br:
        wait_cameras(api, {"cam-a": True, "cam-b": True})
        br.d.get(api.url + "/")
        br.wait(lambda: br.camera_ids() == ["cam-a", "cam-b"], "both cameras, by id")
        assert [c[1] for c in br.cameras()] == ["● online"] * 2
        assert "Choose a camera" in br.status()
        br.js("document.querySelector('#cameras tbody tr').dataset.mark = 'kept'")
        with Camera(api.url, "--id", "cam-0", "--interval", "60"):
            br.wait(lambda: br.camera_ids() == ["cam-0", "cam-a", "cam-b"], "new row, no reload")
        br.wait(lambda: br.cameras()[0][1] == "○ offline", "cam-0 offline after it stopped")
        first = br.text("updated")
        br.wait(lambda: br.text("updated") != first, "the 'updated' time moves on")
        kept = br.js("return [...document.querySelectorAll('#cameras tbody tr')]"
                     ".find(r => r.dataset.mark === 'kept').cells[0].textContent")
        assert kept == "cam-a", "rows are updated in place, not rebuilt"
        title = br.js("return document.querySelector('#cameras tbody tr').cells[2].title")
        assert re.match(r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\n"
                        r"(last request .*\n)?\(Asia/", title), title

        br.d.find_element(By.CSS_SELECTOR, "button[data-sort=connected]").click()
        br.wait(lambda: br.camera_ids() == ["cam-a", "cam-b", "cam-0"], "connected first")
        br.d.find_element(By.CSS_SELECTOR, "button[data-sort=since]").click()
        br.wait(lambda: br.camera_ids()[0] == "cam-0", "newest change first")
        br.d.find_element(By.CSS_SELECTOR, "button[data-sort=since]").click()
        br.wait(lambda: br.camera_ids()[-1] == "cam-0", "reversed")
        br.d.find_element(By.CSS_SELECTOR, "button[data-sort=id]").click()
        br.by_id("filter").send_keys("B")
        br.wait(lambda: br.camera_ids() == ["cam-b"], "filtered as typed")
        assert br.text("count") == "(1 of 3)"

        # Keyboard only: Tab from the filter to the row, Enter opens its log.
        for _ in range(10):
            br.d.switch_to.active_element.send_keys(Keys.TAB)
            if br.js("return document.activeElement.tagName") == "TR":
                break
        assert br.js("return document.activeElement.cells[0].textContent") == "cam-b"
        br.d.switch_to.active_element.send_keys(Keys.ENTER)
        br.wait(lambda: br.d.current_url.endswith("/?camera=cam-b"), "address follows")
        br.wait(lambda: re.match(r"\d+ events?, fetched in \d+ ms", br.status()), "log of cam-b")
        assert br.text("log-h") == "Log of cam-b" and len(br.events()) >= 1
        br.by_id("filter").clear()
        br.by_id("filter").send_keys(Keys.BACKSPACE)  # an input event
        br.wait(lambda: len(br.camera_ids()) == 3, "filter cleared")
        br.check_log()


def test_log_is_what_logs_returns_limit_since_timeline_downloads():
    lines = ["door opened, by \"Bob\"", "=HYPERLINK(\"http://x\")", "  two spaces"]
    later = ["lens, cleaned", "-5 C outside", "plain"]
    with Api() as api, Camera(api.url, "--id", "door", "--source", "stdin", stdin=True) as cam, \
            Browser("log") as br:
        feed(cam, api, "door", lines, 3)
        cut = api_logs(api, "camera=door")[-1][1]
        cut_s = int(datetime.datetime.fromisoformat(cut.replace("Z", "+00:00")).timestamp()) + 1
        wait_until(lambda: time.time() > cut_s + 0.05, 3, "a new second")  # time must pass
        feed(cam, api, "door", later, 6)
        want = api_logs(api, "camera=door")

        br.d.get(api.url + "/?camera=door")
        br.wait(lambda: br.events() == want[::-1], "exactly the events /logs returns, newest first")
        assert re.fullmatch(r"6 events, fetched in \d+ ms\.", br.status()), br.status()
        assert br.by_id("camera").get_attribute("value") == "door"
        cells = br.js("return [...document.querySelectorAll('#events td.ts')]"
                      ".map(td => [td.textContent, td.title])")
        for (shown, title), (_, ts) in zip(cells, want[::-1]):
            assert shown == local(ts) and title == "as sent: " + ts, (shown, title, ts)
        bars = br.timeline()
        assert sum(int(c) for c in re.findall(r"v-(\d+)", bars)) == 6, bars

        br.by_id("limit").send_keys("2")
        br.by_id("fetch").click()
        br.wait(lambda: br.events() == want[-2:][::-1], "limit 2: the last two")
        assert "limit=2" in br.d.current_url and "2 events (last 2)" in br.status()
        br.by_id("limit").clear()
        Select(br.by_id("since-preset")).select_by_value("at")
        at = datetime.datetime.fromtimestamp(cut_s, zoneinfo.ZoneInfo(TZ))
        at = at.strftime("%Y-%m-%dT%H:%M:%S")
        br.js("const e = document.getElementById('since-at'); e.value = arguments[0];"
              "e.dispatchEvent(new Event('input'))", at)
        br.by_id("fetch").click()
        since = datetime.datetime.fromtimestamp(cut_s, datetime.timezone.utc)
        iso = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        br.wait(lambda: br.events() == [e for e in want if e[0] in later][::-1],
                "since: the later three")
        assert api_logs(api, "camera=door&since=" + iso) == br.events()[::-1]
        assert "since=" + iso.replace(":", "%3A") in br.d.current_url, br.d.current_url
        Select(br.by_id("since-preset")).select_by_value("15m")
        br.by_id("fetch").click()
        br.wait(lambda: "since=15m" in br.d.current_url and br.events() == want[::-1],
                "last 15 min")

        br.by_id("dl-json").click()
        br.by_id("dl-csv").click()
        files = {}
        wait_until(lambda: files.update((f.rsplit(".", 1)[1], f) for f in glob.glob(
            br.downloads + "/camlogs-door-*.[jc]s[ov]*")
            # Chromium may reserve the final name (empty) before it renames
            # the finished .crdownload onto it: wait for the bytes too.
            if not f.endswith("crdownload") and os.path.getsize(f) > 0)
            or len(files) == 2, 15, "both downloads")
        with open(files["json"], encoding="utf-8") as f:
            assert [(r["description"], r["timestamp"]) for r in json.load(f)] == want
        with open(files["csv"], encoding="utf-8", newline="") as f:
            rows = list(csv.reader(io.StringIO(f.read())))
        guard = lambda d: "'" + d if d[:1] in "=+-@" else d  # noqa: E731
        assert rows == [["timestamp", "description"]] + [[t, guard(d)] for d, t in want], rows
        br.check_log()


def test_hostile_descriptions_render_as_text():
    with Api(quiet=False) as api, \
            Camera(api.url, "--id", "evil", "--source", "stdin", stdin=True) as cam, \
            Browser("hostile") as br:
        feed(cam, api, "evil", HOSTILE, len(HOSTILE))
        br.d.get(api.url + "/?camera=evil")
        br.wait(lambda: [e[0] for e in br.events()] == HOSTILE[::-1], "every line, as text")
        assert br.js("return document.querySelectorAll('img, b, #events script').length") == 0
        assert br.js("return document.scripts.length") == 1
        flags = br.js("return [...document.querySelectorAll('#events tr.ev')]"
                      ".map(r => !!r.querySelector('.flag'))")
        assert flags == [True, True, False, False], flags
        assert br.js("return document.documentElement.scrollWidth <= window.innerWidth")
        br.check_log()
        assert re.search(r"GET /logs\b", api.stderr), "the request log is read"
        assert not re.search(r"GET /x\b", api.stderr), "the <img> was never requested"


def test_errors_are_explained():
    with Api("--connect-grace", "0.5") as api, Browser("errors") as br:
        br.d.get(api.url + "/?camera=ghost")
        br.wait(lambda: "HTTP 503" in br.status(), "503 for a camera that never polled")
        assert br.status().startswith("Camera ghost is not connected (no poll within 0.5 s). "
                                      "The api said: “camera not connected"), br.status()
        assert "camera not connected" in br.status()
        assert "error" in br.by_id("status").get_attribute("class")

        mute = Async("GET", api.url + "/control-channel?camera=mute", timeout=30)
        wait_cameras(api, {"mute": True})
        br.d.get(api.url + "/?camera=mute&timeout=1")
        br.wait(lambda: "HTTP 504" in br.status(), "504 when the camera never uploads")
        assert br.status().startswith("No reply from the camera within 1 s"), br.status()
        assert mute.result()[0] == 200

        bad = Async("GET", api.url + "/control-channel?camera=bad", timeout=30)
        wait_cameras(api, {"bad": True})
        br.d.get(api.url + "/?camera=bad")
        s, _, body = bad.result()
        rid = json.loads(body)["request_id"]
        s, _, _ = http("POST", api.url + "/send-stats?camera=bad&request_id=" + rid, body=b"junk\n")
        assert s == 400
        br.wait(lambda: "HTTP 502" in br.status(), "502 for a malformed upload")
        assert br.status().startswith("The camera's reply was malformed, or it disconnected.")
        br.check_log(allowed=["status of 50"])

        api.stop()
        br.wait(lambda: "could not be reached" in br.text("banner"), "the api went away")
        br.by_id("fetch").click()
        br.wait(lambda: br.status().startswith("The api could not be reached"), "and for /logs")
        assert "stale" in br.by_id("cameras").get_attribute("class")
        br.check_log(allowed=["status of 50", "ERR_CONNECTION_REFUSED"])


def test_operator_token_flow():
    tmp = tempfile.mkdtemp(prefix="test_web.")
    tokens = os.path.join(tmp, "operators")
    with open(tokens, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(tokens, 0o600)
    auth = {"Authorization": "Bearer " + TOKEN}
    with Api("--operator-token-file", tokens) as api, \
            Camera(api.url, "--id", "locked", "--interval", "1"), Browser("auth") as br:
        assert http("GET", api.url + "/")[0] == 200, "the page itself needs no token"
        assert http("GET", api.url + "/cameras")[0] == 401
        wait_cameras(api, {"locked": True}, headers=auth)
        br.d.get(api.url + "/?camera=locked")
        dialog_open = lambda: br.js("return document.getElementById('auth').open")  # noqa: E731
        br.wait(dialog_open, "the token dialog")
        assert br.text("auth-why") == "This api needs an operator token."
        br.by_id("token").send_keys("wrong-token-0123456789" + Keys.ENTER)
        br.wait(lambda: dialog_open() and "refused" in br.text("auth-why"), "asked again")
        br.by_id("token").send_keys(TOKEN + Keys.ENTER)
        br.wait(lambda: br.camera_ids() == ["locked"], "the camera list with the token")
        br.wait(lambda: re.match(r"\d+ events?", br.status()), "the log, retried with the token")
        assert br.js("return sessionStorage.getItem('camlogs.operator-token')") == TOKEN
        assert br.js("return [localStorage.length, document.cookie]") == [0, ""]
        assert TOKEN not in br.d.current_url and not dialog_open()

        assert br.text("forget") == "Forget token"
        br.by_id("forget").click()
        br.wait(dialog_open, "asked again after forgetting")
        assert br.js("return sessionStorage.length") == 0
        br.by_id("token").send_keys(Keys.ESCAPE)
        br.wait(lambda: "operator token" in br.text("banner")
                and br.text("forget") == "Enter token", "a dismissed dialog leaves a way back")
        br.check_log(allowed=["status of 401"])
    shutil.rmtree(tmp)


def test_trusted_types_and_csp_block_injection_and_are_seen():
    """The page's own run logs no violation (every test checks); here the
    policy is shown to bite, and the log check to see it."""
    def violation(br):
        try:
            br.check_log()
        except AssertionError as e:
            return str(e)
        return None

    with Api() as api, Browser("csp") as br:
        br.d.get(api.url + "/")
        br.wait(lambda: br.text("updated").startswith("updated"), "page ran")
        assert violation(br) is None
        err = br.js("try { document.body.innerHTML = '<img src=x>'; return 'ran' }"
                    " catch (e) { return e.name }")
        assert err == "TypeError", "Trusted Types refuse a string for an HTML sink"
        assert "TrustedHTML" in br.wait(lambda: violation(br), "the Trusted Types report")
        br.js("const i = document.createElement('img'); i.src = 'http://example.invalid/x.png';"
              "document.body.append(i)")
        assert "Content Security Policy" in br.wait(lambda: violation(br), "the CSP report")
        assert br.js("return window.__pwned") is None


def test_address_history_and_widths():
    with Api() as api, Camera(api.url, "--id", "one", "--interval", "1"), \
            Camera(api.url, "--id", "two", "--interval", "1"), Browser("wide") as br:
        wait_cameras(api, {"one": True, "two": True})
        br.d.get(api.url + "/")
        br.wait(lambda: br.camera_ids() == ["one", "two"], "two cameras")
        rows = br.d.find_elements(By.CSS_SELECTOR, "#cameras tbody tr")
        rows[0].click()
        br.wait(lambda: br.d.current_url.endswith("/?camera=one") and br.events(), "log of one")
        rows[1].click()
        br.wait(lambda: br.d.current_url.endswith("/?camera=two")
                and br.text("log-h") == "Log of two", "log of two")
        br.d.back()
        br.wait(lambda: br.d.current_url.endswith("/?camera=one")
                and br.text("log-h") == "Log of one", "Back shows one again")
        assert br.js("return document.querySelector('tr.selected').cells[0].textContent") == "one"
        assert br.js("return document.querySelector('th.node').hidden"), "no node, no column"
        side = br.js("const a = document.getElementById('fleet').getBoundingClientRect(),"
                     " b = document.getElementById('log').getBoundingClientRect();"
                     " return a.right <= b.left")
        assert side, "at 1280 px the table and the log sit side by side"
        br.d.save_screenshot(os.path.join(shots_dir(), "wide.png"))
        br.name = "phone"
        br.d.set_window_size(390, 844)
        br.wait(lambda: br.js("return window.innerWidth") < 500, "phone width")
        br.wait(lambda: br.js("return document.documentElement.scrollWidth <= window.innerWidth"),
                "nothing wider than a phone")
        br.check_log()


def test_front_door_node_column_and_hostile_ids():
    now = datetime.datetime.now(datetime.timezone.utc)
    def stamp(minutes_ago):
        return (now - datetime.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    cams = [{"camera": "gate-1", "connected": True, "since": stamp(90), "last_seen": stamp(0),
             "node": "api-a"},
            {"camera": "lobby", "connected": False, "since": stamp(7), "last_seen": stamp(7),
             "node": "api-b"},
            {"camera": "yard.cam-3", "connected": True, "since": stamp(30), "last_seen": stamp(0),
             "node": "api-b"},
            {"camera": HOSTILE[0], "connected": True, "since": stamp(2), "node": HOSTILE[1]}]
    phrases = ["motion detected in zone %d", "person at the gate", "lens temperature %d C",
               "vehicle entered the driveway", "switched to night mode (IR on)"]
    logs = [{"description": phrases[i % 5].replace("%d", str(i % 4 + 1)), "timestamp": stamp(m)}
            for i, m in enumerate([44, 41, 40, 33, 25, 24.5, 24, 23.8, 18, 12, 9, 8.5, 8, 3, 1,
                                   0.5])]
    with Api() as api, FrontDoor(api, cams, logs) as door, Browser("frontdoor") as br:
        br.d.get(door.url + "/")
        br.wait(lambda: len(br.cameras()) == 4, "the canned cameras")
        assert br.cameras() == [(HOSTILE[0], "● online", HOSTILE[1]),
                                ("gate-1", "● online", "api-a"),
                                ("lobby", "○ offline", "api-b"),
                                ("yard.cam-3", "● online", "api-b")], br.cameras()
        assert not br.js("return document.querySelector('th.node').hidden")
        assert br.js("const t = document.getElementById('cameras').getBoundingClientRect();"
                     "return t.right <= document.getElementById('fleet').getBoundingClientRect()"
                     ".right + 1"), "long ids and nodes wrap inside the table's column"
        br.by_id("filter").send_keys("api-b")
        br.wait(lambda: br.camera_ids() == ["lobby", "yard.cam-3"], "the filter matches nodes too")
        br.by_id("filter").clear()
        br.by_id("filter").send_keys(Keys.BACKSPACE)
        br.wait(lambda: len(br.cameras()) == 4, "filter cleared")
        br.d.find_elements(By.CSS_SELECTOR, "#cameras tbody tr")[0].click()
        br.wait(lambda: br.text("log-h") == "Log of " + HOSTILE[0], "a hostile id, as text")
        assert "/logs?camera=%3Cimg+src%3Dx+onerror%3Dwindow.__pwned%3D1%3E&" in door.log[-1]
        br.d.find_elements(By.CSS_SELECTOR, "#cameras tbody tr")[2].click()
        br.wait(lambda: [e[0] for e in br.events()] == [r["description"] for r in logs][::-1],
                "log, newest first")
        minutes = {int(datetime.datetime.fromisoformat(r["timestamp"][:-1] + "+00:00").timestamp()
                       // 60) for r in logs}
        d = br.timeline()
        assert d.count("M") == len(minutes), d
        br.check_log()


def test_behind_nginx_at_a_prefix():
    with Api() as api, Camera(api.url, "--id", "px", "--interval", "1"), Nginx(api) as ng, \
            Browser("nginx") as br:
        wait_cameras(api, {"px": True})
        br.d.get(ng.url + "/camlogs/?camera=px")
        br.wait(lambda: br.camera_ids() == ["px"], "cameras through the proxy")
        br.wait(lambda: re.match(r"\d+ events?, fetched", br.status()), "the log through the proxy")
        assert br.events() and br.d.current_url == ng.url + "/camlogs/?camera=px"
        br.check_log()


if __name__ == "__main__":
    run(globals())
