"""Browser-side helpers for test_web.py: one headless Chromium per test
(fresh profile, downloads into a temp dir, browser log collected), a fake
front door serving canned /cameras and /logs beside the real page, and nginx
in front of the api at a prefix. Runs with Debian's /usr/bin/python3.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import http, wait_until

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    sys.exit("test_web: python3-selenium is missing for %s (bash scripts/deps.sh installs it; "
             "run with /usr/bin/python3)" % sys.executable)

# The browser's time zone: UTC+05:30, so local time differs from UTC.
TZ = "Asia/Kolkata"
CHROME_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--disable-quic", "--disable-extensions"]


def shots_dir():
    d = os.path.join(os.path.dirname(os.path.abspath(harness.BIN)), "screenshots")
    os.makedirs(d, exist_ok=True)
    return d


class Browser:
    """One Chromium with a fresh profile; saves a screenshot when done."""

    def __init__(self, name, width=1280, height=900):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="test_web.")
        self.downloads = os.path.join(self.tmp, "downloads")
        os.mkdir(self.downloads)
        o = Options()
        o.binary_location = "/usr/bin/chromium"
        for a in CHROME_ARGS + ["--user-data-dir=" + os.path.join(self.tmp, "profile"),
                                "--window-size=%d,%d" % (width, height)]:
            o.add_argument(a)
        o.add_experimental_option("prefs", {"download.default_directory": self.downloads,
                                            "download.prompt_for_download": False})
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver",
                                                  env=dict(os.environ, TZ=TZ)), options=o)
        self.d.set_page_load_timeout(30)
        self.d.set_script_timeout(30)
        self.d.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": self.downloads})
        self.entries = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.d.save_screenshot(os.path.join(shots_dir(), "%s.png" % self.name))
        finally:
            self.d.quit()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, pred, what, timeout=20):
        return WebDriverWait(self.d, timeout).until(lambda _: pred(), message=what)

    def by_id(self, i):
        return self.d.find_element(By.ID, i)

    def text(self, i):
        return self.by_id(i).text

    def cameras(self):
        """The visible camera rows: [(id, connected mark, node)]."""
        return [tuple(r) for r in self.js(
            "return [...document.querySelectorAll('#cameras tbody tr')].filter(r => !r.hidden)"
            ".map(r => [r.cells[0].textContent, r.cells[1].textContent, r.cells[3].textContent])")]

    def camera_ids(self):
        return [c[0] for c in self.cameras()]

    def events(self):
        """The rows of the log drawn now (a virtual list: those in view and
        a few around them): [(description, timestamp as sent)]."""
        return [tuple(r) for r in self.js(
            "return [...document.querySelectorAll('#events tr.ev')]"
            ".map(r => [r.querySelector('.text').textContent, r.dataset.ts])")]

    def timeline(self):
        """The timeline's bars (its <path>'s d), once drawn: the page draws
        it in the frame after the rows."""
        return self.wait(lambda: self.js("const p = document.querySelector('#timeline path');"
                                         "return p && p.getAttribute('d')"), "the timeline")

    def status(self):
        return self.text("status")

    def check_log(self, allowed=()):
        """Fails on any CSP or Trusted Types message, and on any error the
        test did not expect; returns the messages seen since the last call."""
        new = self.d.get_log("browser")
        self.entries += new
        for e in new:
            m = e["message"]
            assert not re.search(r"Content Security Policy|Trusted(HTML|Script| Type)", m), m
            assert e["level"] != "SEVERE" or any(a in m for a in allowed), m
        assert self.js("return window.__pwned") is None, "a script from the data ran"
        return [e["message"] for e in new]


class FrontDoor:
    """Stands in for the scale-out front door: the page and its assets come
    from the real api; /cameras and /logs are canned, with `node` members and
    camera ids the real api would refuse."""

    def __init__(self, api, cameras, logs):
        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith(("/cameras", "/logs")):
                    s, h, b = 200, {"content-type": "application/json"}, json.dumps(
                        cameras if self.path.startswith("/cameras") else logs).encode()
                    self.log.append(self.path)
                else:
                    s, h, b = http("GET", api.url + self.path)
                self.send_response(s)
                for k, v in h.items():
                    if k not in ("content-length", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def log_message(self, *a):
                pass

        H.log = self.log = []
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()


class Nginx:
    """nginx in front of the api with the page under /camlogs/ (the api sees /)."""

    def __init__(self, api):
        self.dir = tempfile.mkdtemp(prefix="test_web.nginx.")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        temps = "".join("%s_temp_path %s/%s;\n" % (t, self.dir, t)
                        for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write("daemon off; pid %s/nginx.pid; worker_processes 1; events {}\n"
                    "http { access_log off; %s server { listen 127.0.0.1:%d;\n"
                    "location /camlogs/ { proxy_pass http://127.0.0.1:%d/; proxy_http_version 1.1;"
                    " proxy_set_header Connection \"\"; proxy_read_timeout 90s; } } }\n"
                    % (self.dir, temps, port, api.port))
        self.p = subprocess.Popen(["nginx", "-p", self.dir, "-e", self.dir + "/error.log", "-c",
                                   self.dir + "/nginx.conf"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self.url = "http://127.0.0.1:%d" % port

        def up():
            try:
                return http("GET", self.url + "/camlogs/", timeout=2)[0] == 200
            except OSError:
                assert self.p.poll() is None, open(self.dir + "/error.log").read()
                return False
        wait_until(up, 10, "nginx up")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.terminate()
        self.p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
