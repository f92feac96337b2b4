"""Integration tests for auth and the abuse limits (PROTOCOL.md "Auth",
docs/PRODUCTION.md); TLS is test_security_tls.py's.

Credentials files are written 0600 in a temporary directory (security_lib.py).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Async, bearer, http, metric, raw, wait_metric, wait_until  # noqa: E402
from security_lib import (AUTH, OP1, OP2, SECRET, SECRET_FILE, TMP, api_bin,  # noqa: E402
                          cam_token, is_json_error, run_api, tls_args, write)


# --- issuing tokens, start failures, open mode -----------------------------------

def test_camera_token_subcommand_is_hmac_of_id():
    for cam_id in ("default", "cam-1", "a.b_C"):
        p = subprocess.run([api_bin(), "--camera-token", cam_id, "--camera-secret-file",
                            SECRET_FILE], capture_output=True, text=True, timeout=5)
        assert p.returncode == 0, p.stderr
        assert p.stdout == cam_token(cam_id) + "\n", (p.stdout, cam_id)
    p = subprocess.run([api_bin(), "--camera-token", "bad id!", "--camera-secret-file",
                        SECRET_FILE], capture_output=True, text=True, timeout=5)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p
    p = subprocess.run([api_bin(), "--camera-token", "cam"], capture_output=True, text=True,
                       timeout=5)
    assert p.returncode == 2 and "--camera-secret-file" in p.stderr, p


def test_bad_credentials_files_fail_start_with_one_line():
    cases = [
        ("secret mode 0644", ["--camera-secret-file", write("s644", SECRET, 0o644)], "chmod 600"),
        ("secret mode 0640", ["--camera-secret-file", write("s640", SECRET, 0o640)], "chmod 600"),
        ("tokens mode 0604", ["--operator-token-file", write("t604", OP1, 0o604)], "chmod 600"),
        ("secret 15 bytes", ["--camera-secret-file", write("s15", "0123456789abcde\n")],
         "at least 16"),
        ("secret missing", ["--camera-secret-file", os.path.join(TMP, "nope")], "No such file"),
        ("secret is a dir", ["--camera-secret-file", TMP], "not a regular file"),
        ("tokens empty", ["--operator-token-file", write("t0", "# none\n\n")], "no operator token"),
        ("short token", ["--operator-token-file", write("tshort", OP1 + "\nshort-tok-123\n")],
         ":2:"),
        ("token with space", ["--operator-token-file", write("tsp", "operator token 0001\n")],
         ":1:"),
        ("tls cert unreadable", ["--tls-cert", os.path.join(TMP, "nope"), "--tls-key",
                                 os.path.join(TMP, "nope")], "--tls-cert"),
        ("tls cert is a key", ["--tls-cert", tls_args()[3], "--tls-key", tls_args()[3]],
         "certificate chain"),
        ("tls key of another cert", ["--tls-cert", tls_args()[1], "--tls-key",
                                     tls_args("wrong")[3]], "private key"),
    ]
    for what, args, needle in cases:
        rc, out, err = run_api(*args)
        assert rc == 1, (what, rc, err)
        assert err.count("\n") == 1 and needle in err, (what, err)
        assert out == "", (what, out)  # never "listening on"
        assert "short-tok-123" not in err and "operator token 0001" not in err, err
    rc, _, err = run_api("--tls-cert", "x.pem")
    assert rc == 2 and err.count("\n") == 1, err


def warnings_of(api):
    """Stops the api and returns every warning line it wrote, start to exit."""
    assert api.stop() == 0, api.stderr
    api.join_stderr()
    return [l for l in api.err_lines if " warn api: " in l]


def test_open_without_auth_flags_warns_once_and_stays_on_loopback():
    p = subprocess.run([api_bin(), "--help"], capture_output=True, text=True, timeout=5)
    assert "default 127.0.0.1:8080" in p.stdout
    with Api("--poll-timeout", "1") as api:
        assert http("GET", api.url + "/cameras")[0] == 200
        assert http("GET", api.url + "/metrics")[0] == 200
        assert http("GET", api.url + "/control-channel?camera=x")[0] == 204
        assert http("POST", api.url + "/send-stats?camera=x", body=b"EOL\n")[0] == 409
        warns = warnings_of(api)
        assert len(warns) == 1 and "camera and operator" in warns[0], api.stderr
    # Only one half configured: the other half is named.
    with Api("--camera-secret-file", SECRET_FILE) as api:
        warns = warnings_of(api)
        assert len(warns) == 1 and "operator endpoints" in warns[0], api.stderr
    with Api(*AUTH) as api:
        assert warnings_of(api) == [], api.stderr


# --- who may call what ------------------------------------------------------------

WRONG = [
    ("no token", {}),
    ("wrong token", bearer("0" * 64)),
    ("other camera's token", bearer(cam_token("camB"))),
    ("operator token", bearer(OP1)),
    ("basic scheme", {"Authorization": "Basic " + cam_token("camA")}),
    ("empty bearer", {"Authorization": "Bearer "}),
    ("token with a suffix", bearer(cam_token("camA") + "0")),
    ("upper-case hex", bearer(cam_token("camA").upper())),
]


def test_camera_endpoints_need_that_cameras_token():
    with Api(*AUTH, "--poll-timeout", "1") as api:
        for path, method in (("/control-channel?camera=camA", "GET"),
                             ("/send-stats?camera=camA", "POST")):
            for what, hdrs in WRONG:
                st, h, body = http(method, api.url + path, headers=hdrs,
                                   body=b"EOL\n" if method == "POST" else None)
                is_json_error(st, h, body, 401)
                assert "token" in json.loads(body)["error"], (path, what, body)
        ok = bearer(cam_token("camA"))
        assert http("GET", api.url + "/control-channel?camera=camA", headers=ok)[0] == 204
        assert http("POST", api.url + "/send-stats?camera=camA", body=b"EOL\n",
                    headers=ok)[0] == 409  # authenticated; no fetch pending
        # Scheme is case-insensitive; no camera parameter means "default".
        st = http("GET", api.url + "/control-channel",
                  headers={"Authorization": "bearer " + cam_token("default")})[0]
        assert st == 204, st
        assert http("GET", api.url + "/control-channel", headers=ok)[0] == 401


def test_operator_endpoints_need_an_operator_token():
    with Api(*AUTH, "--connect-grace", "0.1") as api:
        for path in ("/logs?camera=camA&timeout=0.2", "/cameras", "/metrics"):
            for what, hdrs in WRONG[:3] + [("camera token", bearer(cam_token("camA"))),
                                           ("prefix of a token", bearer(OP1[:-1]))]:
                st, h, body = http("GET", api.url + path, headers=hdrs)
                is_json_error(st, h, body, 401)
            for tok in (OP1, OP2):
                st = http("GET", api.url + path, headers=bearer(tok))[0]
                assert st == (503 if path.startswith("/logs") else 200), (path, st)
        assert http("GET", api.url + "/healthz")[0] == 200


def test_relay_with_tokens_end_to_end_and_no_cross_camera_upload():
    with Api(*AUTH) as api:
        a, b = bearer(cam_token("camA")), bearer(cam_token("camB"))
        poll = Async("GET", api.url + "/control-channel?camera=camA", headers=a)
        wait_until(lambda: b'"connected":true' in http(
            "GET", api.url + "/cameras", headers=bearer(OP1))[2], 5, "camA's poll")
        logs = Async("GET", api.url + "/logs?camera=camA&timeout=5", headers=bearer(OP2))
        st, _, body = poll.result()
        assert st == 200, (st, body)
        rid = json.loads(body)["request_id"]
        rec = b'{"description":"x","timestamp":"2026-01-01T00:00:00Z"}\nEOL 1\n'
        # camB's token cannot answer camA's fetch, under either id.
        assert http("POST", api.url + "/send-stats?camera=camA&request_id=" + rid,
                    body=rec, headers=b)[0] == 401
        assert http("POST", api.url + "/send-stats?camera=camB&request_id=" + rid,
                    body=rec, headers=b)[0] == 409
        assert http("POST", api.url + "/send-stats?camera=camA&request_id=" + rid,
                    body=rec, headers=a)[0] == 200
        st, _, body = logs.result()
        assert st == 200 and json.loads(body) == [
            {"description": "x", "timestamp": "2026-01-01T00:00:00Z"}], (st, body)


def test_order_of_checks():
    with Api(*AUTH, "--max-body", "100") as api:
        u = api.url
        # 405 before 401.
        for method, path, allow in (("POST", "/control-channel?camera=a", "GET"),
                                    ("GET", "/send-stats?camera=a", "POST"),
                                    ("POST", "/logs", "GET"), ("DELETE", "/metrics", "GET"),
                                    ("PUT", "/cameras", "GET")):
            st, h, body = http(method, u + path)
            is_json_error(st, h, body, 405)
            assert h.get("allow") == allow, h
        # A bad camera id is 400 before 401 on the camera endpoints ...
        for bad in ("camera=", "camera=bad!", "camera=a&camera=b", "camera=" + "x" * 65):
            for method, path in (("GET", "/control-channel?"), ("POST", "/send-stats?")):
                st, h, body = http(method, u + path + bad, body=b"" if method == "POST" else None)
                is_json_error(st, h, body, 400)
        # ... and 401 before every other 400, on every endpoint.
        for method, path in (("GET", "/control-channel?camera=a&x=%zz"),
                             ("POST", "/send-stats?camera=a&request_id=bad!"),
                             ("GET", "/logs?camera=bad!"), ("GET", "/logs?timeout=abc"),
                             ("GET", "/logs?limit=0")):
            st, h, body = http(method, u + path, body=b"" if method == "POST" else None)
            is_json_error(st, h, body, 401)
        assert http("GET", u + "/control-channel?camera=a&x=%zz",
                    headers=bearer(cam_token("a")))[0] == 400
        assert http("POST", u + "/send-stats?camera=a&request_id=bad!", body=b"",
                    headers=bearer(cam_token("a")))[0] == 400
        assert http("GET", u + "/logs?timeout=abc", headers=bearer(OP1))[0] == 400
        # 401 before 413; with the token, 413 before 409 (no fetch pending).
        big = b"x" * 101
        assert http("POST", u + "/send-stats?camera=a", body=big)[0] == 401
        st, h, body = http("POST", u + "/send-stats?camera=a", body=big,
                           headers=bearer(cam_token("a")))
        is_json_error(st, h, body, 413)
        # Unknown paths stay 404 without a token.
        assert http("GET", u + "/nope")[0] == 404


def test_tokens_never_logged():
    with Api(*AUTH, "--poll-timeout", "1", "--log-level", "debug", quiet=False) as api:
        for hdrs in (bearer(cam_token("camA")), bearer(cam_token("camB")), bearer(OP1[:-1] + "Z")):
            http("GET", api.url + "/control-channel?camera=camA", headers=hdrs)
            http("GET", api.url + "/cameras", headers=hdrs)
        http("GET", api.url + "/metrics", headers=bearer(OP1))
        wait_until(lambda: len(api.err_lines) >= 7, 5, "request log lines")
        assert api.stop() == 0
        api.join_stderr()
    log = api.stderr
    for secret in (cam_token("camA"), cam_token("camB"), OP1, OP2, OP1[:-1] + "Z",
                   SECRET.decode()):
        assert secret not in log, secret
    assert " status=401 " in log and " status=204 " in log, log


# --- limits ---------------------------------------------------------------------

def test_max_polls():
    with Api("--max-polls", "2", "--poll-timeout", "0") as api:
        p1 = Async("GET", api.url + "/control-channel?camera=p1")
        p2 = Async("GET", api.url + "/control-channel?camera=p2")
        wait_metric(api, "camlogs_polls_held", 2)
        st, h, body = http("GET", api.url + "/control-channel?camera=p3")
        is_json_error(st, h, body, 503)
        assert json.loads(body)["error"] == "too many held polls", body
        # A camera that holds a poll may replace it (the old one gets 409).
        p1b = Async("GET", api.url + "/control-channel?camera=p1")
        assert p1.result(5)[0] == 409
        wait_metric(api, "camlogs_polls_held", 2)  # p1b took p1's place
        # A camera with a fetch waiting for it is answered at once, even at the limit.
        logs = Async("GET", api.url + "/logs?camera=p3&timeout=5")
        wait_metric(api, "camlogs_logs_waiting", 1)  # the fetch for p3
        st, _, body = http("GET", api.url + "/control-channel?camera=p3")
        assert st == 200 and json.loads(body)["camera"] == "p3", (st, body)
        assert http("POST", api.url + "/send-stats?camera=p3", body=b"EOL\n")[0] == 200
        assert logs.result(5)[0] == 200
        assert not p1b.done() and not p2.done()
    # Room again once a held poll ends.
    with Api("--max-polls", "1", "--poll-timeout", "1") as api:
        first = Async("GET", api.url + "/control-channel?camera=q1")
        wait_metric(api, "camlogs_polls_held", 1)
        assert http("GET", api.url + "/control-channel?camera=q2")[0] == 503
        assert first.result(5)[0] == 204
        wait_metric(api, "camlogs_polls_held", 0)
        assert http("GET", api.url + "/control-channel?camera=q2", timeout=10)[0] == 204


def test_max_cameras():
    with Api("--max-cameras", "2", "--poll-timeout", "0") as api:
        held = [Async("GET", api.url + "/control-channel?camera=c%d" % i) for i in (1, 2)]
        wait_until(lambda: len(json.loads(http("GET", api.url + "/cameras")[2])) == 2, 5,
                   "two cameras")
        for method, path in (("GET", "/control-channel?camera=c3"),
                             ("GET", "/logs?camera=c3&timeout=1")):
            st, h, body = http(method, api.url + path)
            is_json_error(st, h, body, 503)
            assert "too many cameras" in json.loads(body)["error"], body
        assert not any(a.done() for a in held)


def test_max_body():
    with Api("--max-body", "1000") as api:
        poll = Async("GET", api.url + "/control-channel?camera=b")
        wait_metric(api, "camlogs_polls_held", 1)
        logs = Async("GET", api.url + "/logs?camera=b&timeout=5")
        assert poll.result(5)[0] == 200
        st, h, body = http("POST", api.url + "/send-stats?camera=b", body=b"x" * 1001)
        is_json_error(st, h, body, 413)
        assert logs.result(5)[0] == 502
        # At the limit exactly, the body is read (and here malformed: 400, not 413).
        poll = Async("GET", api.url + "/control-channel?camera=b")
        wait_metric(api, "camlogs_polls_held", 1)
        logs = Async("GET", api.url + "/logs?camera=b&timeout=5")
        assert poll.result(5)[0] == 200
        assert http("POST", api.url + "/send-stats?camera=b", body=b"x" * 1000)[0] == 400
        assert logs.result(5)[0] == 502
        # The api's own JSON 413 at any size: decided from Content-Length.
        st, h, body = http("POST", api.url + "/send-stats?camera=b", body=b"x" * (2000 + 65537))
        is_json_error(st, h, body, 413)


# runtime/http1.h: HTTP1_HEAD_MAX bytes (blank line included), HTTP1_FIELDS_MAX fields.
HEAD_MAX, FIELDS_MAX = 8192, 32


def test_request_head_limits():
    with Api() as api:
        def get(extra):
            return raw(api.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + extra +
                       b"Connection: close\r\n\r\n", timeout=5)
        base = len(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        pad = HEAD_MAX - base - len(b"X-A: \r\n")
        assert get(b"X-A: " + b"a" * pad + b"\r\n").startswith(b"HTTP/1.1 200")
        r = get(b"X-A: " + b"a" * (pad + 1) + b"\r\n")
        assert r.startswith(b"HTTP/1.1 431") and r.closed, r[:200]
        assert b"application/json" in r and b'"error"' in r, r
        fields = b"".join(b"X-%d: 1\r\n" % i for i in range(FIELDS_MAX - 2))  # + Host, Connection
        assert get(fields).startswith(b"HTTP/1.1 200")
        r = get(fields + b"X-99: 1\r\n")
        assert r.startswith(b"HTTP/1.1 431") and r.closed, r[:200]
        assert http("GET", api.url + "/healthz")[0] == 200  # still serving


def test_request_timeout_cuts_slow_clients():
    with Api("--request-timeout", "1", "--poll-timeout", "0") as api:
        # A fetch pending, so that the upload is one the api reads.
        poll = Async("GET", api.url + "/control-channel")
        wait_metric(api, "camlogs_polls_held", 1)
        logs = Async("GET", api.url + "/logs?timeout=20")
        assert poll.result(5)[0] == 200
        for head, body in ((b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b""),
                           (b"POST /send-stats HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
                            b'{"description":"')):
            s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
            t0 = time.monotonic()
            s.sendall(head + body)
            got = b""
            try:
                # Trickle one byte every 0.2 s: progress does not extend the deadline.
                while True:
                    time.sleep(0.2)
                    s.sendall(b"X-Slow: 1\r\n" if not body else b"x")  # still a valid prefix
                    s.settimeout(0.01)
                    try:
                        b = s.recv(4096)
                        if not b:
                            break
                        got += b
                    except socket.timeout:
                        pass
                    s.settimeout(5)
                    if time.monotonic() - t0 > 8:
                        raise AssertionError("slow request not cut within 8 s")
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                s.close()
            took = time.monotonic() - t0
            assert 0.9 < took < 5, took
            assert not got.startswith(b"HTTP/1.1 200"), got
        assert logs.result(5)[0] == 502  # the cut upload failed its fetch at once
        assert http("GET", api.url + "/healthz")[0] == 200
    # The deadline covers receiving a request only: a held poll outlives it.
    with Api("--request-timeout", "1", "--poll-timeout", "0") as api:
        poll = Async("GET", api.url + "/control-channel?camera=z")
        wait_metric(api, "camlogs_polls_held", 1)
        time.sleep(1.6)  # the request timeout elapses while the poll is held
        assert not poll.done() and metric(api, "camlogs_polls_held") == 1
        assert http("GET", api.url + "/logs?camera=z&timeout=0.2")[0] == 504
        assert poll.result(5)[0] == 200


if __name__ == "__main__":
    try:
        harness.run(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
