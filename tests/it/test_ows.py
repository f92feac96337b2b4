"""Optional white space around a header value is not part of it (RFC 9110
5.5; docs/API.md "Request headers"): Authorization tokens with surrounding
SP/HTAB are accepted on every endpoint, over HTTP/1.1 and HTTP/2 (cleartext,
prior knowledge), with the credentials files of security_lib.py.
"""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Api, raw, run  # noqa: E402
from security_lib import AUTH, OP1, OP2, TMP, cam_token  # noqa: E402

# Optional white space around an Authorization value (RFC 9110 5.5).
OWS = [(" ", ""), ("", " "), ("", "\t"), ("\t ", " \t"), ("  ", "\t\t")]


def status_raw(api, method, path, auth, body=b""):
    """The status of one HTTP/1.1 request whose Authorization value is sent
    byte for byte as given (h2o skips leading SP/HTAB, keeps trailing ones)."""
    head = b"%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: %s\r\n" % (
        method.encode(), path.encode(), auth.encode())
    if method == "POST":
        head += b"Content-Length: %d\r\n" % len(body)
    r = raw(api.port, head + b"\r\n" + body)
    assert r.startswith(b"HTTP/1.1 "), r[:200]
    return int(r[9:12])


def status_h2(api, method, path, auth, body=b""):
    """The same over HTTP/2 (cleartext, prior knowledge) with the curl CLI,
    which sends trailing white space as given (and drops leading)."""
    argv = ["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} "
            "%{http_code}", "-X", method, "-H", "Authorization: " + auth, api.url + path]
    if method == "POST":
        argv[1:1] = ["--data-binary", body.decode()]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=15)
    assert out.returncode == 0, out.stderr
    version, code = out.stdout.split()
    assert version == "2", out.stdout
    return int(code)


# HPACK (RFC 7541) just enough for a status: the static entries 8-14 and
# the Huffman codes of the digits.
H2_STATIC = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}
H2_DIGITS = {"00000": "0", "00001": "1", "00010": "2", "011001": "3", "011010": "4",
             "011011": "5", "011100": "6", "011101": "7", "011110": "8", "011111": "9"}


def h2_frame(kind, flags, stream, payload):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") \
        + payload


def h2_status(block):
    """The :status at the start of a response header block."""
    b = block[0]
    if b & 0x80:
        return H2_STATIC[b & 0x7f]
    assert b & 0x0f == 8 or b & 0x3f == 8, block[:8]  # literal, name :status (index 8)
    n, huff, raw_value = block[1] & 0x7f, block[1] & 0x80, block[2:2 + (block[1] & 0x7f)]
    if not huff:
        return int(raw_value)
    bits, digits, code = "".join("{:08b}".format(x) for x in raw_value[:n]), "", ""
    for bit in bits:
        code += bit
        if code in H2_DIGITS:
            digits, code = digits + H2_DIGITS[code], ""
    return int(digits)


def status_h2_raw(api, method, path, auth, body=b""):
    """One HTTP/2 GET written by hand (curl drops leading white space of a
    header value; this sends the value byte for byte, HPACK literals)."""
    assert method == "GET"
    fields = [(":method", "GET"), (":scheme", "http"), (":path", path),
              (":authority", "127.0.0.1"), ("authorization", auth)]
    block = b"".join(b"\x00" + bytes([len(k)]) + k.encode() + bytes([len(v)]) + v.encode()
                     for k, v in fields)
    s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
    try:
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b"") +
                  h2_frame(1, 0x5, 1, block))  # HEADERS, END_STREAM | END_HEADERS
        buf = b""
        while True:
            while len(buf) < 9 or len(buf) < 9 + int.from_bytes(buf[:3], "big"):
                chunk = s.recv(65536)
                assert chunk, "connection closed before the response headers"
                buf += chunk
            n, kind, stream = int.from_bytes(buf[:3], "big"), buf[3], int.from_bytes(
                buf[5:9], "big") & 0x7fffffff
            payload, buf = buf[9:9 + n], buf[9 + n:]
            assert kind != 7, "GOAWAY %r" % payload
            if kind == 1 and stream == 1:
                return h2_status(payload)
    finally:
        s.close()


def test_tokens_with_surrounding_white_space_are_accepted():
    """Leading and trailing SP/HTAB are not part of the field value: the
    token is still accepted on every endpoint, over HTTP/1.1 and HTTP/2; a
    wrong token with the same white space is still 401, and so is white
    space other than a space between the scheme and the token."""
    calls = [("GET", "/logs?camera=camA&timeout=0.2", OP1, 503),  # authorised, no camera
             ("GET", "/cameras", OP2, 200), ("GET", "/metrics", OP1, 200),
             ("GET", "/control-channel?camera=camA", cam_token("camA"), 204),
             ("POST", "/send-stats?camera=camA", cam_token("camA"), 409)]  # no fetch pending
    with Api(*AUTH, "--connect-grace", "0.1", "--poll-timeout", "1", "--http2") as api:
        for status in (status_raw, status_h2):
            for method, path, tok, want in calls:
                for pre, post in OWS:
                    auth = pre + "Bearer " + tok + post
                    st = status(api, method, path, auth, b"EOL\n")
                    assert st == want, (status.__name__, path, repr(auth), st)
                    st = status(api, method, path, pre + "Bearer " + tok[:-1] + post, b"EOL\n")
                    assert st == 401, (status.__name__, path, "wrong token", st)
                st = status(api, method, path, "Bearer\t" + tok, b"EOL\n")
                assert st == 401, (status.__name__, path, "tab after the scheme", st)
        for method, path, tok, want in calls[:4]:
            for pre, post in OWS:
                st = status_h2_raw(api, method, path, pre + "Bearer " + tok + post)
                assert st == want, ("h2 raw", path, repr(pre + "Bearer " + tok + post), st)
                st = status_h2_raw(api, method, path, pre + "Bearer " + tok[:-1] + post)
                assert st == 401, ("h2 raw", path, "wrong token", st)


if __name__ == "__main__":
    try:
        run(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
