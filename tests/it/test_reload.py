"""SIGHUP reload (issue 13, api side): the operator tokens and the camera
secret rotated while a poll is held, a camera revoked (its held poll ends
401, its next poll too, others unaffected; a fetch delivered to it fails 502
after the connect grace), and a bad file that keeps every
previous setting. Real api processes; files 0600 in a temporary directory.
"""
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (LOG_TIME, Api, Async, bearer, cam_token, hold_poll, http,  # noqa: E402
                     metric, private_file, wait_until)

TMP = tempfile.mkdtemp(prefix="test_reload.")


def write(name, data, mode=0o600):
    return private_file(TMP, name, data, mode)


# --- reload --------------------------------------------------------------------------------

SECRET_A = b"first-secret-0123456789"
SECRET_B = b"second-secret-0123456789"
OP_OLD = "operator-token-old-aaaaaaaa"
OP_NEW = "operator-token-new-bbbbbbbb"


def reload_files(tag):
    return (write("secret-" + tag, SECRET_A + b"\n"), write("tokens-" + tag, OP_OLD + "\n"),
            write("revoked-" + tag, "# revoked cameras\n"))


def hup(api, what):
    """Sends SIGHUP and waits for the reload's log line (info or error)."""
    n = len(api.err_lines)
    api.send_signal(signal.SIGHUP)
    return wait_until(lambda: [l for l in api.err_lines[n:] if "reload" in l], 10, what)[0]


def test_sighup_rotates_operator_token_and_camera_secret():
    secret, tokens, revoked = reload_files("rot")
    with Api("--camera-secret-file", secret, "--operator-token-file", tokens,
             "--camera-revoked-file", revoked, "--poll-timeout", "0", quiet=False) as api:
        old_cam = bearer(cam_token(SECRET_A, "c1"))
        p = hold_poll(api, "c1", 1, headers=old_cam, token=OP_OLD)
        write("tokens-rot", OP_NEW + "\n")
        write("secret-rot", SECRET_B + b"\n")
        line = hup(api, "reload")
        assert " info api: reloaded " in line and "operator_tokens=1" in line, line
        # The held poll survives, and still takes the fetch.
        assert metric(api, "camlogs_polls_held", OP_NEW) == 1
        w = Async("GET", api.url + "/logs?camera=c1", headers=bearer(OP_NEW))
        s, _, b = p.result()
        assert s == 200, (s, b)
        # Its upload needs the new secret's token now.
        assert http("POST", api.url + "/send-stats?camera=c1", body=b"EOL\n",
                    headers=old_cam)[0] == 401
        assert http("POST", api.url + "/send-stats?camera=c1", body=b"EOL\n",
                    headers=bearer(cam_token(SECRET_B, "c1")))[0] == 200
        assert w.result()[0] == 200
        assert http("GET", api.url + "/cameras", headers=bearer(OP_OLD))[0] == 401
        assert http("GET", api.url + "/cameras", headers=bearer(OP_NEW))[0] == 200
        log = "\n".join(api.err_lines)
    for secret_text in (SECRET_A.decode(), SECRET_B.decode(), OP_OLD, OP_NEW):
        assert secret_text not in log


def test_sighup_revokes_a_camera():
    secret, tokens, revoked = reload_files("rev")
    tok = lambda c: bearer(cam_token(SECRET_A, c))
    with Api("--camera-secret-file", secret, "--operator-token-file", tokens,
             "--camera-revoked-file", revoked, "--poll-timeout", "0", quiet=False) as api:
        stolen = hold_poll(api, "stolen", 1, headers=tok("stolen"), token=OP_OLD)
        other = hold_poll(api, "other", 2, headers=tok("other"), token=OP_OLD)
        write("revoked-rev", "# revoked cameras\nstolen\n")
        line = hup(api, "reload")
        assert "revoked=1" in line and "polls_ended=1" in line, line
        s, h, b = stolen.result()
        assert s == 401 and json.loads(b) == {"error": "camera revoked", "camera": "stolen"}, b
        assert "invalid_token" in h.get("www-authenticate", ""), h
        s, _, b = http("GET", api.url + "/control-channel?camera=stolen", headers=tok("stolen"))
        assert s == 401 and json.loads(b)["error"] == "camera revoked", b
        assert not other.done() and metric(api, "camlogs_polls_held", OP_OLD) == 1
        w = Async("GET", api.url + "/logs?camera=other", headers=bearer(OP_OLD))
        assert other.result()[0] == 200
        assert http("POST", api.url + "/send-stats?camera=other", body=b"EOL\n",
                    headers=tok("other"))[0] == 200
        assert w.result()[0] == 200
        # Taken off the list again: the camera gets back in.
        write("revoked-rev", "")
        hup(api, "reload")
        p = hold_poll(api, "stolen", 1, headers=tok("stolen"), token=OP_OLD)
        assert not p.done()


def test_revoking_a_camera_mid_fetch_fails_it_after_the_grace():
    secret, tokens, revoked = reload_files("mid")
    tok = lambda c: bearer(cam_token(SECRET_A, c))
    with Api("--camera-secret-file", secret, "--operator-token-file", tokens,
             "--camera-revoked-file", revoked, "--poll-timeout", "0", "--connect-grace", "0.5",
             quiet=False) as api:
        for cam, upload in (("held", False), ("streaming", True)):
            p = hold_poll(api, cam, 1, headers=tok(cam), token=OP_OLD)
            w = Async("GET", api.url + "/logs?camera=%s&timeout=20" % cam,
                      headers=bearer(OP_OLD), timeout=30)
            rid = json.loads(p.result()[2])["request_id"]
            if upload:  # an upload in progress: refused 401 at its next byte
                body = b'{"description":"x","timestamp":"2026-01-01T00:00:00Z"}\nEOL\n'
                u = socket.create_connection(("127.0.0.1", api.port), timeout=10)
                auth = "Authorization: " + tok(cam)["Authorization"]
                u.sendall(("POST /send-stats?camera=%s&request_id=%s HTTP/1.1\r\nHost: x\r\n"
                           "%s\r\nContent-Length: %d\r\n\r\n" % (cam, rid, auth, len(body))).encode())
                # Whether the head is read before the reload or after, the
                # upload is refused 401 and the fetch fails after the grace.
            else:  # the camera polls again: held in delivered_polling
                p = hold_poll(api, cam, 1, headers=tok(cam), token=OP_OLD)
            write("revoked-mid", cam + "\n")
            t0 = time.monotonic()
            hup(api, "reload")
            if upload:
                u.sendall(body)
                assert b"401" in u.recv(4096).split(b"\r\n")[0]
                u.close()
            else:
                s, _, b = p.result()
                assert s == 401 and json.loads(b)["error"] == "camera revoked", b
            s, _, b = w.result(15)
            assert s == 502 and "revoked" in json.loads(b)["error"], (s, b)
            assert time.monotonic() - t0 < 0.5 + 2.0, "502 after the grace, not the timeout"


def test_a_revoked_id_with_no_token_is_not_an_invalid_token():
    revoked = write("revoked-nt", "a\n")
    with Api("--camera-revoked-file", revoked) as api:
        s, h, b = http("GET", api.url + "/control-channel?camera=a", timeout=5)
        assert s == 401 and json.loads(b)["error"] == "camera revoked", (s, b)
        assert h["www-authenticate"].startswith("Bearer"), h
        assert "invalid_token" not in h["www-authenticate"], h
        s, h, b = http("GET", api.url + "/control-channel?camera=a", headers=bearer("x" * 32),
                       timeout=5)
        assert s == 401 and "invalid_token" in h["www-authenticate"], h


def test_sighup_with_a_bad_file_keeps_the_old_settings():
    secret, tokens, revoked = reload_files("bad")
    with Api("--camera-secret-file", secret, "--operator-token-file", tokens,
             "--camera-revoked-file", revoked, "--poll-timeout", "1", quiet=False) as api:
        cases = [("tokens-bad", OP_NEW + "\ntiny-tok-1\n", 0o600, ":2:"),
                 ("tokens-bad", OP_NEW + "\n", 0o644, "chmod 600"),
                 ("secret-bad", "tiny\n", 0o600, "at least 16"),
                 ("revoked-bad", "not an id!\n", 0o600, ":1:"),
                 ("revoked-bad", "cam\n", 0o602, "chmod o-w")]
        for name, data, mode, needle in cases:
            path = write(name, data, mode)
            line = hup(api, "reload of a bad " + name)
            assert re.match(LOG_TIME + r" error api: reload failed, previous settings kept: ",
                            line) and needle in line and path in line, line
            # Every file as before, the good ones included.
            assert http("GET", api.url + "/cameras", headers=bearer(OP_OLD))[0] == 200
            assert http("GET", api.url + "/cameras", headers=bearer(OP_NEW))[0] == 401
            assert http("GET", api.url + "/control-channel?camera=x",
                        headers=bearer(cam_token(SECRET_A, "x")))[0] == 204
            reload_files("bad")  # good again
        assert "tiny-tok-1" not in "\n".join(api.err_lines)


def test_revoked_file_absent_at_start_then_written_then_removed():
    """The list is optional: absent is nobody revoked, at start and at any
    reload; not a secret: 0644 is fine. A reload that changes nothing says so."""
    revoked = os.path.join(TMP, "revoked-later")
    tok = bearer(cam_token(SECRET_A, "late"))
    secret = write("secret-late", SECRET_A + b"\n")
    with Api("--camera-secret-file", secret, "--camera-revoked-file", revoked,
             "--poll-timeout", "1", quiet=False) as api:
        wait_until(lambda: [x for x in api.err_lines if " started " in x], 10, "started")
        assert "revoked=absent" in [x for x in api.err_lines if " started " in x][0]
        line = hup(api, "reload without the file")
        assert re.fullmatch(LOG_TIME + r" info api: reload: nothing changed camera_secret=same "
                            r"operator_tokens=0 revoked=absent", line), line
        write("revoked-later", "late\n", 0o644)
        line = hup(api, "reload with the file")
        assert "reloaded credentials camera_secret=same" in line and "revoked=1" in line, line
        s, _, b = http("GET", api.url + "/control-channel?camera=late", headers=tok)
        assert s == 401 and json.loads(b)["error"] == "camera revoked", (s, b)
        write("secret-late", SECRET_B + b"\n")
        assert "camera_secret=changed" in hup(api, "a new secret")
        os.unlink(revoked)
        assert "revoked=absent polls_ended=0" in hup(api, "the file removed")
        tok = bearer(cam_token(SECRET_B, "late"))
        assert http("GET", api.url + "/control-channel?camera=late", headers=tok)[0] == 204


def test_sighup_without_credentials_files_says_nothing_changed():
    with Api("--poll-timeout", "1", quiet=False) as api:
        line = hup(api, "reload")
        assert " info api: reload: nothing changed: no credentials files configured" in line, line


if __name__ == "__main__":
    try:
        harness.run(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
