"""Messages that point the right way (issue 24, item 6): the camera's hints
for a revoked id and a certificate naming another host, plain HTTP to the
TLS port, a refusal's reason in the api's request line, camera flag errors
in JSON, and both --help texts grouped with every flag's default. Real api
and camera processes over loopback.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, cam_token, http, private_file, raw, wait_until  # noqa: E402

TMP = tempfile.mkdtemp(prefix="test_fleet_messages.")
SECRET = b"fleet-messages-secret-0123456789"


def cert(name, san):
    """A self-signed certificate for `san` (cert path, key path)."""
    c, k = os.path.join(TMP, name + ".pem"), os.path.join(TMP, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k,
                    "-out", c, "-days", "2", "-subj", "/CN=" + name, "-addext",
                    "subjectAltName=" + san], check=True, capture_output=True, timeout=60)
    return c, k


def warn_line(cam, what):
    return wait_until(lambda: [l for l in cam.err_lines if what in l], 15, what)[0]


def test_revoked_camera_is_told_so():
    revoked = private_file(TMP, "revoked", "cam-r\n")
    secret = private_file(TMP, "secret", SECRET + b"\n")
    token = private_file(TMP, "cam-r.token", cam_token(SECRET, "cam-r"))
    with Api("--camera-secret-file", secret, "--camera-revoked-file", revoked) as api:
        with Camera(api.url, "--id", "cam-r", "--token-file", token, "--source", "stdin",
                    stdin=True) as cam:
            line = warn_line(cam, "status 401")
            cam.kill()
    assert 'error="camera revoked"' in line, line
    assert "revoked this camera id" in line and "a new token will not help" in line, line
    assert "check --token" not in line, line


def test_host_name_mismatch_names_the_fix():
    c, k = cert("elsewhere", "DNS:elsewhere.example")
    with Api("--tls-cert", c, "--tls-key", k) as api:
        url = api.url.replace("http:", "https:")
        with Camera(url, "--cacert", c, "--source", "stdin", stdin=True) as cam:
            line = warn_line(cam, "warn camera: poll:")
            cam.kill()
    assert "target host name" in line or "does not match" in line, line
    assert "does not name the host in --server" in line and "subjectAltName" in line, line
    assert "give --cacert" not in line, line


def test_plain_http_to_the_tls_port_gets_400_json():
    c, k = cert("localhost", "DNS:localhost,IP:127.0.0.1")
    with Api("--tls-cert", c, "--tls-key", k, quiet=False) as api:
        s, h, b = http("GET", api.url + "/healthz")
        assert (s, h["content-type"], h.get("connection")) == \
            (400, "application/json", "close"), (s, h)
        assert json.loads(b) == {"error": "this port speaks TLS (HTTPS): use https:// in the URL"}
        out = raw(api.port, b"POST /send-stats?camera=x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
        assert out.startswith(b"HTTP/1.1 400 ") and out.closed, out
        # TLS still works on the same port, and a client that sends nothing is cut as before.
        s = subprocess.run(["curl", "-s", "--cacert", c, "https://127.0.0.1:%d/healthz" % api.port],
                           capture_output=True, text=True, timeout=20)
        assert s.stdout == '{"status":"ok"}', s
        with Camera(api.url, "--source", "stdin", stdin=True) as cam:
            line = warn_line(cam, "status 400")
            cam.kill()
        lines = [l for l in api.err_lines if "status=400" in l]
    assert "use https:// in --server" in line, line
    assert len(lines) >= 3 and all('error="this port speaks TLS' in l for l in lines), lines


def test_refusal_reasons_in_the_request_line():
    with Api("--poll-timeout", "30", "--connect-grace", "1", quiet=False) as api:
        p = harness.hold_poll(api, "r400", 1)
        op = harness.Async("GET", api.url + "/logs?camera=r400", timeout=15)
        assert p.result()[0] == 200
        s, _, b = http("POST", api.url + "/send-stats?camera=r400", body=b'{"nope":1}\nEOL 1\n')
        assert s == 400, b
        reason = json.loads(b)["error"]
        assert op.result()[0] == 502
        s, _, b = http("POST", api.url + "/send-stats?camera=r400", body=b"EOL\n")
        assert s == 409
    line = [l for l in api.err_lines if "POST /send-stats" in l and "status=400" in l]
    assert len(line) == 1 and ('error="%s"' % reason) in line[0], (reason, api.stderr)
    assert [l for l in api.err_lines if "status=409" in l and 'error="no pending fetch' in l]
    assert not [l for l in api.err_lines if "status=200" in l and "error=" in l], api.stderr


def run(prog, *args):
    return subprocess.run([os.path.join(harness.BIN, prog)] + list(args), capture_output=True,
                          text=True, timeout=10)


def test_camera_flag_errors_in_json():
    for args in (["--bogus", "--log-format", "json"], ["--log-format=json", "--id", "a b"],
                 ["--interval", "0", "--log-format", "json"]):
        p = run("camera", *args)
        assert p.returncode == 2 and p.stdout == "", (args, p)
        lines = p.stderr.splitlines()
        assert len(lines) == 1, (args, p.stderr)
        o = json.loads(lines[0])
        assert (o["level"], o["prog"]) == ("error", "camera") and o["msg"], o
    p = run("camera", "--bogus")  # text by default, as before
    assert p.returncode == 2 and p.stderr == "camera: unknown flag --bogus (see --help)\n", p


def help_blocks(text):
    """{flag: its help text} of a grouped --help: a flag line is two spaces
    and the flag; its text runs until the next flag or group."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"  (--[a-z0-9-]+)", line)
        if m:
            cur = m.group(1)
            out[cur] = line
        elif cur and line.startswith("    "):
            out[cur] += " " + line.strip()
        else:
            cur = None
    return out


def test_help_is_grouped_with_defaults():
    groups = ("connection", "limits", "security", "storage", "logging", "cluster")
    for prog in ("api", "camera"):
        p = run(prog, "--help")
        assert p.returncode == 0, p
        heads = [g for g in groups if re.search(r"^%s\b.*:" % g, p.stdout, re.M)]
        assert heads == list(groups), (prog, heads)
        blocks = help_blocks(p.stdout)
        assert len(blocks) >= 17, (prog, sorted(blocks))
        for flag, text in blocks.items():
            if flag in ("--help", "--version", "--tls-cert"):  # --tls-key's line says it
                continue
            assert "default" in text, (prog, flag, text)
    api_help = run("api", "--help").stdout
    for flag in ("--connect-grace", "--max-body", "--tls-cert", "--tls-key",
                 "--camera-secret-file", "--operator-token-file", "--camera-revoked-file",
                 "--node", "--http2", "--rebalance-spread", "--forget-after"):
        assert flag in help_blocks(api_help), flag
    # Every flag in the help is one the api takes (a bad --listen last: nothing starts).
    for flag in help_blocks(api_help):
        q = run("api", flag, "!", "--listen", "no-port")
        assert q.returncode in (0, 1, 2) and "unknown" not in q.stderr, (flag, q.stderr)
    assert "unknown" in run("api", "--no-such-flag", "--listen", "no-port").stderr


if __name__ == "__main__":
    try:
        harness.run(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
