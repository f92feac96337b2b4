"""The auth tests' credentials (test_security*.py, test_ows.py): a camera
secret and operator tokens written 0600 into a temporary directory (TMP;
the test that imports this removes it at its end), the tokens and headers
they make, TLS certificates made with the openssl CLI, the api run to
its exit, a JSON error reply checked."""
import json
import os
import subprocess
import tempfile

import harness

TMP = tempfile.mkdtemp(prefix="test_security.")
SECRET = b"s3cret-for-tests-0123456789"
OP1 = "operator-token-aaaaaaaaaaaa"
OP2 = "operator-token-bbbbbbbbbbbb"


def write(name, data, mode=0o600):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


SECRET_FILE = write("secret", SECRET + b"\n")
TOKENS_FILE = write("tokens", "# operators\n%s\n\n  %s \t\n" % (OP1, OP2))
AUTH = ("--camera-secret-file", SECRET_FILE, "--operator-token-file", TOKENS_FILE)


def cam_token(cam_id):
    return harness.cam_token(SECRET, cam_id)


def api_bin():
    return os.path.join(harness.BIN, "api")


def run_api(*args, timeout=5):
    """Runs api to completion: (exit code, stdout, stderr)."""
    p = subprocess.run([api_bin(), "--listen", "127.0.0.1:0"] + list(args),
                       capture_output=True, timeout=timeout, text=True)
    return p.returncode, p.stdout, p.stderr


def is_json_error(status, hdrs, body, want):
    assert status == want, (status, body)
    assert hdrs.get("content-type") == "application/json", hdrs
    assert "error" in json.loads(body), body


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=TMP,
                   timeout=30)


def make_certs():
    """ca.pem signs srv.pem (127.0.0.1, localhost) and wrong.pem (example.com only)."""
    if os.path.exists(os.path.join(TMP, "wrong.pem")):
        return
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=camlogs test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, san in (("srv", "IP:127.0.0.1,DNS:localhost"), ("wrong", "DNS:example.com")):
        write(name + ".ext", "subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
              "extendedKeyUsage=serverAuth\n" % san)
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                "/CN=" + name)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext")
    # A self-signed certificate, for a client that trusts nothing it was not given.
    openssl("req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-days", "2",
            "-subj", "/CN=self", "-addext", "subjectAltName=IP:127.0.0.1")


def tls_args(name="srv"):
    make_certs()
    return ("--tls-cert", os.path.join(TMP, name + ".pem"),
            "--tls-key", os.path.join(TMP, name + ".key"))
