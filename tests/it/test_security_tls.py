"""Integration tests for TLS (docs/PRODUCTION.md): the api verified by a
Python client and by the camera, and refused where the certificate does
not match.

Credentials files are written 0600 in a temporary directory; TLS uses a CA
and server certificates made there with the openssl CLI (security_lib.py).
"""
import json
import os
import shutil
import ssl
import sys
from http.client import HTTPSConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, bearer, raw, wait_until  # noqa: E402
from security_lib import AUTH, OP1, TMP, cam_token, make_certs, tls_args  # noqa: E402


# --- TLS -------------------------------------------------------------------------

def https(port, method, path, cafile, headers=None, body=None, host="127.0.0.1", timeout=10,
          check_hostname=True):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = check_hostname
    c = HTTPSConnection(host, port, context=ctx, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def test_tls_python_client_verifies_the_api():
    make_certs()
    ca = os.path.join(TMP, "ca.pem")
    with Api(*AUTH, *tls_args()) as api:
        st, _, body = https(api.port, "GET", "/healthz", ca)
        assert st == 200 and json.loads(body) == {"status": "ok"}
        assert https(api.port, "GET", "/cameras", ca)[0] == 401
        assert https(api.port, "GET", "/cameras", ca, headers=bearer(OP1))[0] == 200
        assert https(api.port, "GET", "/healthz", ca, host="localhost")[0] == 200
        # Without the CA the server is not trusted.
        try:
            https(api.port, "GET", "/healthz", os.path.join(TMP, "self.pem"))
            raise AssertionError("untrusted certificate accepted")
        except ssl.SSLCertVerificationError:
            pass
        # Plain HTTP on the TLS port gets a plain 400 saying so (issue 24), never the endpoint.
        out = raw(api.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2)
        assert out.startswith(b"HTTP/1.1 400 ") and b"use https://" in out, out
        assert b'"status":"ok"' not in out and out.closed, out
    with Api(*tls_args("wrong")) as api:
        try:
            https(api.port, "GET", "/healthz", ca)
            raise AssertionError("certificate for another name accepted")
        except ssl.SSLCertVerificationError as e:
            assert "match" in str(e) or "mismatch" in str(e), e


def test_tls_camera_end_to_end():
    ca = os.path.join(TMP, "ca.pem")
    with Api(*AUTH, *tls_args(), "--connect-grace", "1") as api:
        url = "https://127.0.0.1:%d" % api.port
        with Camera(url, "--id", "camT", "--interval", "0.05", "--token", cam_token("camT"),
                    "--cacert", ca) as cam:
            wait_until(lambda: b'"connected":true' in https(api.port, "GET", "/cameras", ca,
                                                             headers=bearer(OP1))[2],
                       10, "camT's poll over TLS")

            def fetch():  # every answer is 200; the first may come before any event
                st, _, body = https(api.port, "GET", "/logs?camera=camT&timeout=5", ca,
                                    headers=bearer(OP1))
                assert st == 200, (st, body, cam.stderr)
                return json.loads(body)
            recs = wait_until(fetch, 10, "an event over TLS")
            assert recs[0]["description"].startswith("#1 "), recs[0]
        # Wrong token, missing CA, untrusted server: the camera never gets in.
        bad = [(("--token", cam_token("other"), "--cacert", ca), "401"),
               (("--token", cam_token("camU")), "certificate"),
               (("--token", cam_token("camU"), "--cacert", os.path.join(TMP, "self.pem")),
                "certificate")]
        for args, why in bad:
            with Camera(url, "--id", "camU", "--interval", "0.05", *args) as cam:
                wait_until(lambda: why in cam.stderr and "retry in" in cam.stderr, 10,
                           "the camera refused (%s)" % why)
                st, _, body = https(api.port, "GET", "/logs?camera=camU&timeout=2", ca,
                                    headers=bearer(OP1))
                assert st == 503, (args, st, body)
                assert cam.alive(), cam.stderr  # it keeps retrying with backoff
                assert cam_token("camU") not in cam.stderr and cam_token("other") not in cam.stderr
    # A certificate for another name: the camera checks the host name too.
    with Api(*tls_args("wrong")) as api:
        with Camera("https://127.0.0.1:%d" % api.port, "--interval", "0.05", "--cacert",
                    ca) as cam:
            wait_until(lambda: "certificate" in cam.stderr, 5, "the camera's TLS error")
            st, _, body = https(api.port, "GET", "/cameras", ca, check_hostname=False)
            assert st == 200 and json.loads(body) == [], (st, body)


if __name__ == "__main__":
    try:
        harness.run(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
