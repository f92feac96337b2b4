# Helpers for the vector generators (gen_*.py here; format: README.md).
# Expectations are written by hand from RFC 9112 and docs/HTTP1.md, never by
# running the parser. In an input, the marker <<HERE>> stands before the
# byte where the request must be refused; it sets the expected offset
# (from the start of that request) and is removed.
import os
import sys

M = b"<<HERE>>"
files = {}


def esc_input(b):
    """The input as the file holds it: \\r \\n \\\\ \\xHH, a line break after each LF."""
    out = bytearray()
    for c in b:
        if c == 0x0D:
            out += b"\\r"
        elif c == 0x0A:
            out += b"\\n\n"
        elif c == 0x5C:
            out += b"\\\\"
        elif c < 0x20 or c >= 0x7F:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out)


def esc_text(b):
    """Transcript escaping (tests/http1_script.h script_esc)."""
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def head(method, target, minor=1, fields=(), frame="none", ka=None, cont=0):
    """Transcript lines of an accepted head. fields: (name, value) bytes."""
    if ka is None:
        ka = 1 if minor == 1 else 0
    lines = ["req %s %s 1.%d" % (method, esc_text(target), minor)]
    for n, v in fields:
        lines.append("field %s: %s" % (esc_text(n), esc_text(v)))
    lines.append("frame %s keep-alive=%d continue=%d" % (frame, ka, cont))
    return lines


def done(used, body=None):
    lines = [] if body is None else ["body " + esc_text(body)]
    return lines + ["done %d" % used]


def vec(name, parts, want, reason="", comment=""):
    """parts: the input, one bytes per request (the last may carry <<HERE>>);
    want: transcript lines, where "ERR <status>" stands for the error line
    of the request holding the marker."""
    data = b"".join(parts)
    lines = []
    for w in want:
        if w.startswith("ERR "):
            last = parts[-1]
            i = last.index(M)
            w = "error %s %d" % (w[4:], i)
            data = data.replace(M, b"")
        lines.append(w)
    assert M not in data, name
    hdr = ("# " + comment + "\n") if comment else ""
    hdr += "".join("# = " + l + "\n" for l in lines)
    if reason:
        hdr += "# reason: " + reason + "\n"
    assert name not in files, name
    files[name] = hdr.encode() + esc_input(data)


def ok(name, req, want, comment=""):
    """One request, accepted whole: want ends with done(len(req))."""
    vec(name, [req], want, comment=comment)


def err(name, req, status, reason="", prefix=(), comment=""):
    """One request refused at <<HERE>>; prefix: transcript lines before."""
    vec(name, [req], list(prefix) + ["ERR %d" % status], reason, comment)


def write_all():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for old in os.listdir(out):  # a renamed case leaves no stale file behind
        if old.endswith(".txt"):
            os.remove(os.path.join(out, old))
    for name, body in sorted(files.items()):
        with open(os.path.join(out, name + ".txt"), "wb") as f:
            f.write(body)
    print("%d vectors" % len(files))
