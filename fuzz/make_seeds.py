#!/usr/bin/env python3
"""Writes the hand seeds of every target into fuzz/corpus/fuzz_<t>/seed_*.

fuzz_eol also gets every tests/cases/eol/*.txt vector, converted: the
vector's body (after its '#' header lines, \\xHH decoded) behind a flags byte
0x00 (fed whole and byte by byte). fuzz_http1 gets every
tests/cases/http1/*.txt input the same way (\\r \\n \\\\ \\xHH decoded, the
file's line breaks dropped). Run from the repo root; then minimise
with -merge=1 (see fuzz/README.md)."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = (b'{"description":"motion detected","timestamp":"2026-11-28T06:44:29.120Z"}\n'
           b'{"description":"lens cleaned","timestamp":"2026-11-28T06:44:39Z","level":"info"}\n'
           b'EOL 2\n')


def write(target, name, data):
    d = os.path.join(ROOT, "fuzz", "corpus", "fuzz_" + target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def vector_body(path):
    text = open(path, "rb").read()
    lines = text.split(b"\n")
    i = 0
    while i < len(lines) and lines[i].startswith(b"#"):
        i += 1
    body = b"\n".join(lines[i:])
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), body)


# fuzz_eol.c's FIRSTS: bit 6 of the flags byte numbers the stream, bits 3-5 pick its first.
EOL_FIRSTS = [1, 5, 10, 100, 12345, 2**53 - 6, 2**53 - 2, 2**53]


def eol_flags(path):
    """The flags byte for a vector: numbered with its first ("# numbered:")."""
    m = re.search(rb"^# numbered: (\d+)$", open(path, "rb").read(), re.M)
    return bytes([0x40 | EOL_FIRSTS.index(int(m.group(1))) << 3]) if m else b"\x00"


def eol_seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/cases/eol/*.txt"))):
        write("eol", "vec_" + os.path.basename(path)[:-4], eol_flags(path) + vector_body(path))
    write("eol", "seq_split3", b"\x43\x05\x01\x20" + b'{"description":"d","timestamp":'
          b'"2026-01-01T00:00:00Z","seq":1}\n{"seq":2,"description":"e","timestamp":'
          b'"2026-01-01T00:00:00Z"}\nEOL 2\n')
    write("eol", "example_whole", b"\x01\xff" + EXAMPLE)
    write("eol", "example_split3", b"\x03\x05\x01\x20" + EXAMPLE)
    # 0x80: expand. 'a' then 0xFF 0xDA = 'a' * 65400 more: a line at the limit.
    long_desc = b'{"description":"a\xff\xda","timestamp":"2026-01-01T00:00:00Z"}\nEOL\n'
    write("eol", "long_line", b"\x81\x40" + long_desc)
    write("eol", "deep", b"\x00" + b'{"x":' + b"[" * 70 + b"]" * 70 +
          b',"description":"","timestamp":"2026-01-01T00:00:00Z"}\nEOL 1\n')


def rfc3339_seeds():
    for i, s in enumerate([b"2026-11-28T06:44:29.120Z", b"1970-01-01T00:00:00Z",
                           b"2024-02-29t23:59:60.5z", b"0000-01-01T00:00:00+23:59",
                           b"9999-12-31T23:59:59.999999999-23:59", b"2025-02-29T00:00:00Z",
                           b"2026-04-31T00:00:00Z", b"2026-13-01T00:00:00Z",
                           b"2026-01-01T24:00:00Z", b"2026-01-01T00:58:60Z",
                           b"2026-01-01T00:00:00.Z", b"2026-01-01T00:00:00+24:00",
                           b"2026-01-01 00:00:00Z", b"1900-02-29T00:00:00Z",
                           b"2000-02-29T00:00:00.000Z", b"2026-01-01T00:00:00",
                           b"2017-01-01T00:59:60.5+01:00", b"2025-03-10T13:59:60+05:30"]):
        write("rfc3339", "%02d" % i, s)


def session_seeds():
    # Events are bytes 1..10 (see fuzz_session.c).
    write("session", "deliver_complete", bytes([1, 5, 6]))
    write("session", "pending_grace", bytes([5, 8, 5, 1, 6]))
    write("session", "gone_resend", bytes([1, 5, 1, 4, 1, 2, 1, 3, 7]))
    write("session", "polling_stats", bytes([1, 5, 1, 6, 3, 5, 1, 9, 4]))
    write("session", "resend_held", bytes([1, 5, 1, 8, 1, 8, 6]))
    write("session", "revoke", bytes([1, 10, 1, 5, 1, 10, 2, 6]))
    write("session", "outside", bytes([0, 11, 12, 13, 14, 15, 1]))


def query_seeds():
    for i, s in enumerate([b"camera=cam-1", b"camera=cam-1&timeout=2.5&limit=10",
                           b"camera=a&since=2026-11-28T06:44:29.120Z&request_id=r.1",
                           b"since=2026-11-28T06%3A44%3A29%2B01%3A00", b"camera=%zz&camera=b",
                           b"timeout=300.0001&limit=0", b"timeout=0.1&limit=1000000",
                           b"camera&x=1&=&&", b"camera=a+b", b"Bearer abcdefghijklmnop",
                           b"bearer    tok", b"BEARER", b"x=%41%4", b"camera=" + b"a" * 65,
                           b"limit=99999999999999999999", b" \tBearer abcdef0123456789 \t",
                           b"connected=1&prefix=cam-", b"connected=2&prefix=a/b&connected=0"]):
        write("query", "%02d" % i, s)


def control_seeds():
    for i, s in enumerate([b'{"request_id":"r1","camera":"cam"}',
                           b'{"request_id":"r1","camera":"cam","limit":5,'
                           b'"since":"2026-11-28T06:44:29.120Z"}',
                           b' {"camera":"c","request_id":"\\u0072","x":[1,{"a":null}],"y":-1.5e3} ',
                           b'{"request_id":"r","camera":"c","limit":1e2}',
                           b'{"request_id":"r","request_id":"r","camera":"c"}', b"",
                           b'{"request_id":"r","camera":"c","since":"2026-02-29T00:00:00Z"}',
                           b'{"x":' + b"[" * 40 + b"]" * 40 + b"}",
                           b'{"request_id":"r","camera":"c","limit":1000001}', b"{}"]):
        write("control", "%02d" % i, s)
    for i, s in enumerate([b'{"request_id":"r","camera":"c","after":"3fa9c1d2e4b5a6f7:41",'
                           b'"follow":25}',
                           b'{"request_id":"r","camera":"c","after":"e:9007199254740992"}',
                           b'{"request_id":"r","camera":"c","after":"\\u0065:01","follow":0}']):
        write("control", "after_%02d" % i, s)


def http1_input(path):
    text = open(path, "rb").read()
    lines = text.split(b"\n")
    i = 0
    while i < len(lines) and lines[i].startswith(b"#"):
        i += 1
    raw = b"".join(lines[i:])
    out, k = bytearray(), 0
    while k < len(raw):
        c = raw[k:k + 1]
        if c == b"\\" and raw[k + 1:k + 2] in (b"r", b"n", b"\\"):
            out += {b"r": b"\r", b"n": b"\n", b"\\": b"\\"}[raw[k + 1:k + 2]]
            k += 2
        elif c == b"\\" and re.match(rb"x[0-9a-f]{2}", raw[k + 1:k + 4]):
            out.append(int(raw[k + 2:k + 4], 16))
            k += 4
        else:
            out += c
            k += 1
    return bytes(out)


def http1_seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/cases/http1/*.txt"))):
        write("http1", "vec_" + os.path.basename(path)[:-4], b"\x00" + http1_input(path))
    get = b"GET /control-channel?camera=cam-1 HTTP/1.1\r\nHost: x\r\n\r\n"
    write("http1", "split3", b"\x03\x05\x01\x20" + get)
    # 0x80: expand. 'a' then 0xFF 0xCD = 'a' * 8200 more: a head over the limit.
    write("http1", "long_head", b"\x80GET / HTTP/1.1\r\nHost: x\r\nX-Pad: a\xff\xcd\r\n\r\n")
    fields = b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(33))
    write("http1", "many_fields", b"\x00GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")


def jsonw_seeds():
    write("jsonw", "plain", b"\x00hello\xff2026-01-01T00:00:00Z\xffsecond\xffx")
    write("jsonw", "escapes", b"\x01\"\\\x01\x1f\x7f/\n\r\t\xffcaf\xc3\xa9 \xf0\x9f\x93\xb7")
    write("jsonw", "invalid", b"\x02\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80\xffa\xffb\xffc")


if __name__ == "__main__":
    os.chdir(ROOT)
    for f in (eol_seeds, rfc3339_seeds, session_seeds, query_seeds, control_seeds, jsonw_seeds,
              http1_seeds):
        f()
    sys.exit(0)
