"""Helpers for integration tests: real api/camera processes on loopback.

Every wait has a deadline. Tests are plain functions named test_*; run()
executes them in order and prints "N passed, N failed, N skipped". A test
skips only by raising Skip (printed as a SKIP line with the reason), never
by returning early, so a skip is never counted as a pass.
"""
import argparse
import hashlib
import hmac
import http.client as httpclient
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

BIN = None


class Skip(Exception):
    """Raised by a test that cannot run here; the reason is printed."""


def parse_args():
    global BIN
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.getcwd(), "build", "bin"))
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    args = ap.parse_args()
    BIN = args.bin
    return args


def sanitized():
    """True when the binaries are built with ASan (much slower under load)."""
    if "asan" in os.path.basename(os.path.dirname(os.path.abspath(BIN))):
        return True
    try:
        out = subprocess.run(["ldd", os.path.join(BIN, "api")], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libasan" in out


def signal_limit():
    """Seconds a binary may take to stop on SIGINT/SIGTERM: the contract's
    "within a second" in the ordinary build, 5 s under ASan."""
    return 5.0 if sanitized() else 1.0


def rss_kib(pid):
    """The process's resident memory (VmRSS), KiB; 0 once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def wait_until(pred, timeout, what):
    """Polls pred() every 10 ms until it returns a truthy value; fails after timeout s."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(0.01)


class Proc:
    """A child process whose stderr is collected in the background."""

    def __init__(self, argv, stdin=False):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err_lines = []
        self._t = threading.Thread(target=self._drain_err, daemon=True)
        self._t.start()

    def _drain_err(self):
        for line in self.p.stderr:
            self.err_lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    def join_stderr(self, timeout=5):
        """After the process exited: waits until all of its stderr was read."""
        self._t.join(timeout)
        assert not self._t.is_alive(), "stderr still open %ss after exit" % timeout

    @property
    def stderr(self):
        return "\n".join(self.err_lines)

    def alive(self):
        return self.p.poll() is None

    def send_signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def wait(self, timeout):
        return self.p.wait(timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Signals the process and returns its exit code (kills it after timeout)."""
        if self.alive():
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
                raise AssertionError("%s did not exit within %ss of signal %d"
                                     % (self.argv[0], timeout, sig))
        return self.p.returncode

    def kill(self):
        if self.alive():
            self.p.kill()
        self.p.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


class Api(Proc):
    """build/bin/api on an ephemeral loopback port (or `port`)."""

    def __init__(self, *args, port=0, quiet=True, ready_timeout=10, prefix=()):
        """`prefix`: a command that runs the api (e.g. prlimit --nofile=256)."""
        argv = list(prefix) + [os.path.join(BIN, "api"), "--listen", "127.0.0.1:%d" % port]
        if quiet:
            argv.append("--quiet")
        super().__init__(argv + list(args))
        line = _readline_deadline(self.p, ready_timeout)
        if not line.startswith("listening on "):
            self.kill()
            raise AssertionError("api did not start: %r %s" % (line, self.stderr))
        hostport = line[len("listening on "):].strip()
        self.port = int(hostport.rsplit(":", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port


class Camera(Proc):
    def __init__(self, server_url, *args, stdin=False):
        argv = [os.path.join(BIN, "camera"), "--server", server_url] + list(args)
        super().__init__(argv, stdin=stdin)


def _readline_deadline(p, timeout):
    out = []
    t = threading.Thread(target=lambda: out.append(p.stdout.readline().decode()), daemon=True)
    t.start()
    t.join(timeout)
    if not out:
        raise AssertionError("no line on stdout within %ss" % timeout)
    return out[0]


def http(method, url, body=None, headers=None, timeout=10):
    """One request on a fresh connection: (status, headers (lower-case names), body bytes)."""
    u = urllib.parse.urlsplit(url)
    c = httpclient.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        c.request(method, path or "/", body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def get_json(url, **kw):
    status, hdrs, body = http("GET", url, **kw)
    return status, json.loads(body) if body else None


class Async:
    """Runs http(...) in a thread; .result(timeout) returns its tuple."""

    def __init__(self, *args, **kw):
        self._res = None
        self._exc = None
        self._t = threading.Thread(target=self._run, args=args, kwargs=kw, daemon=True)
        self._t.start()

    def _run(self, *args, **kw):
        try:
            self._res = http(*args, **kw)
        except Exception as e:  # reported by result()
            self._exc = e

    def done(self):
        return not self._t.is_alive()

    def result(self, timeout=15):
        self._t.join(timeout)
        if self._t.is_alive():
            raise AssertionError("request still running after %ss" % timeout)
        if self._exc:
            raise self._exc
        return self._res


class RawReply(bytes):
    """What came back on a raw connection; .closed tells whether the server
    closed (or reset) it, as opposed to the read timing out."""
    closed = False


def raw(port, data, timeout=5):
    """Sends raw bytes on a new connection; returns what came back before the
    server closed it or `timeout` s passed without a byte (a RawReply)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    chunks = []
    closed = False
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            chunks.append(b)
    except socket.timeout:
        pass
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    finally:
        s.close()
    out = RawReply(b"".join(chunks))
    out.closed = closed
    return out


def tcp_socket(local, remote=None):
    """The kernel's view of the IPv4 TCP socket bound to local (address,
    port), connected to remote if given (/proc/net/tcp): a dict of unsent or
    unacknowledged bytes (tx), unread bytes (rx), the pending timer (timer:
    1 retransmit, 2 keep-alive, 4 zero-window probe) and the zero-window
    probes sent so far (probes); None if there is no such socket."""
    def hexaddr(a):
        return "%08X:%04X" % (int.from_bytes(socket.inet_aton(a[0]), "little"), a[1])
    with open("/proc/net/tcp") as f:
        for row in f.readlines()[1:]:
            cols = row.split()
            if cols[1] == hexaddr(local) and (remote is None or cols[2] == hexaddr(remote)):
                tx, rx = (int(x, 16) for x in cols[4].split(":"))
                return dict(tx=tx, rx=rx, timer=int(cols[5].split(":")[0], 16),
                            probes=int(cols[8]))
    return None


def metric(api, name, token=None):
    """The value of one /metrics sample (name including labels), or None;
    `token`: an operator token to send."""
    s, _, b = http("GET", api.url + "/metrics", headers=bearer(token) if token else None)
    assert s == 200, (s, b)
    for line in b.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def wait_metric(api, name, value, timeout=5):
    """Waits until the api's gauge `name` equals value."""
    wait_until(lambda: metric(api, name) == value, timeout, "%s == %s" % (name, value))


# An RFC 3339 UTC time as log lines start with it.
LOG_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def cam_token(secret, cam_id):
    """A camera's token: hex HMAC-SHA256 of its id under the secret (bytes)."""
    return hmac.new(secret, cam_id.encode(), hashlib.sha256).hexdigest()


def preloaded(d, source, start, **env):
    """Compiles the C `source` into an LD_PRELOAD shim in directory d and
    returns start() called with it preloaded, and the variables of env
    set, in the environment the child inherits."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "no C compiler for the shim"
    src, so = os.path.join(d, "shim.c"), os.path.join(d, "shim.so")
    with open(src, "w") as f:
        f.write(source)
    subprocess.run([cc, "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True,
                   capture_output=True, timeout=60)
    saved = os.environ.copy()
    os.environ.update(env, LD_PRELOAD=so,
                      ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") +
                                    ":verify_asan_link_order=0").lstrip(":"))
    try:
        return start()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def private_file(directory, name, data, mode=0o600):
    """Writes directory/name with `mode` as an operator would: a new file
    renamed into place, so a reader never sees half of it."""
    path = os.path.join(directory, name)
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return path


def hold_poll(api, cam, held, headers=None, timeout=30, token=None):
    """Starts a poll for `cam` and waits until the api holds `held` polls in
    all (the gauge read with operator token `token`); fails if it was answered."""
    a = Async("GET", api.url + "/control-channel?camera=" + cam, headers=headers, timeout=timeout)
    wait_until(lambda: a.done() or metric(api, "camlogs_polls_held", token) == held, 10,
               "%d polls held" % held)
    assert not a.done(), a.result()
    return a


def stop_and_read(api):
    """Stops the api (SIGTERM, exit 0) and returns all of its stderr lines."""
    assert api.stop() == 0, api.stderr
    api.join_stderr()
    return api.err_lines


def run(ns):
    """Runs every test_* function of the module namespace `ns` in definition order."""
    args = parse_args()
    tests = [(n, f) for n, f in ns.items() if n.startswith("test_") and callable(f)]
    passed = failed = skipped = 0
    for name, fn in tests:
        if args.k and args.k not in name:
            continue
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print("ok   %-50s %.2fs" % (name, time.monotonic() - t0), flush=True)
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % name, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    sys.exit(1 if failed or not passed else 0)
