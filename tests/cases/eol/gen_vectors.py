# Writes the EOL decoder's test vectors (format: README.md here). Usage, from
# the repo root: python3 tests/cases/eol/gen_vectors.py tests/cases/eol
# In a body, the marker <<HERE>> stands before the byte where the stream
# must be rejected (at the end: rejected at EOF); it sets the expected
# line and offset and is removed. Bodies are written with \xHH escapes.
import os, sys
OUT = sys.argv[1]
TS = b"2026-11-28T06:44:29.120Z"
M = b"<<HERE>>"
files = {}

def R(desc=b"d", ts=TS, pre=b"", post=b"", order=0):
    d = b'"description":"' + desc + b'"'
    t = b'"timestamp":"' + ts + b'"'
    mem = [d, t] if order == 0 else [t, d]
    return b"{" + pre + b",".join(mem) + post + b"}"

def esc_out(b, header=False):
    out = bytearray()
    for i, c in enumerate(b):
        if c == 0x5c and i + 1 < len(b) and b[i+1] == ord('x'):
            out += b"\\x5c"
        elif c == 10 and not header:
            out.append(c)
        elif c < 0x20 or c >= 0x7f:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out)

def numbered_hdr(first):
    return b"" if first is None else b"# numbered: %d\n" % first

def ok(name, body, recs, comment="", first=None):
    """recs: (desc, ts) pairs, or (desc, ts, seq) in a numbered stream."""
    hdr = b"# " + comment.encode() + b"\n" if comment else b""
    hdr += numbered_hdr(first) + b"# expect: ok %d\n" % len(recs)
    for rec in recs:
        hdr += b"# desc: " + esc_out(rec[0], True) + b"\n# ts: " + esc_out(rec[1], True) + b"\n"
        if first is not None:
            hdr += b"# seq: %d\n" % rec[2]
    assert name not in files, name
    files[name] = hdr + esc_out(body)

def err(name, body, reason="", comment="", first=None):
    i = body.index(M)
    b = body[:i] + body[i+len(M):]
    assert M not in b
    line = b[:i].count(b"\n") + 1
    hdr = b"# " + comment.encode() + b"\n" if comment else b""
    hdr += numbered_hdr(first)
    hdr += b"# expect: error %d %d\n" % (line, i)
    if reason:
        hdr += b"# reason: " + reason.encode() + b"\n"
    assert name not in files, name
    files[name] = hdr + esc_out(b)

r1 = R(b"motion detected"); r2 = R(b"lens cleaned", b"2026-11-28T06:44:39Z", post=b',"level":"info"')
E = (b"motion detected", TS); E2 = (b"lens cleaned", b"2026-11-28T06:44:39Z")
D = (b"d", TS)

# --- framing
ok("frame_example", r1 + b"\n" + r2 + b"\nEOL 2\n", [E, E2], "PROTOCOL.md example")
ok("frame_eol_only", b"EOL\n", [], "no records, bare EOL")
ok("frame_eol_no_newline", b"EOL", [], "eol-char is optional")
ok("frame_eol_count_no_newline", r1 + b"\nEOL 1", [E])
ok("frame_eol_zero", b"EOL 0\n", [])
ok("frame_eol_crlf", r1 + b"\r\nEOL 1\r\n", [E], "CR LF everywhere")
ok("frame_eol_cr_lf_no_count", r1 + b"\r\n" + r1 + b"\nEOL\r\n", [E, E], "mixed line endings")
ok("frame_ws_around", b" \t" + r1 + b"\t \n\t" + r1 + b" \r\nEOL 2\n", [E, E], "SP/HTAB around the object")
ok("frame_count_leading_zeros", r1 + b"\n" + r1 + b"\nEOL 0002\n", [E, E], "leading zeros accepted: the value counts")
ok("frame_count_zeros_zero", b"EOL 000\n", [])
ok("frame_count_12", (r1 + b"\n") * 12 + b"EOL 12\n", [E] * 12)
err("frame_empty_body", M, "missing EOL line")
err("frame_missing_eol", r1 + b"\n" + r1 + b"\n" + M, "missing EOL line")
err("frame_missing_eol_partial", r1 + b"\n" + r1 + M, "missing EOL")
err("frame_truncated_record", b'{"description":"ab' + M, "missing EOL")
err("frame_truncated_eol", b"EO" + M, "incomplete EOL")
err("frame_eol_cr_eof", b"EOL\r" + M, "incomplete EOL")
err("frame_eol_cr_x", b"EOL\r" + M + b"x")
err("frame_eol_space_eof", b"EOL " + M, "incomplete EOL")
err("frame_eol_space_lf", b"EOL " + M + b"\n", "malformed EOL")
err("frame_eol_two_spaces", b"EOL " + M + b" 0\n")
err("frame_eol_trailing_space", b"EOL 0" + M + b" \n")
err("frame_eol_lower", M + b"eol\n", "neither")
err("frame_eol_indented", b" " + M + b"EOL\n")
err("frame_eol_suffix", b"EOL" + M + b"S\n", "malformed EOL")
err("frame_eol_tab", b"EOL" + M + b"\t1\n")
err("frame_data_after_eol", r1 + b"\nEOL 1\n" + M + b"x", "data after EOL")
err("frame_blank_after_eol", b"EOL\n" + M + b"\n", "data after EOL")
err("frame_two_eol", b"EOL 0\n" + M + b"EOL 0\n", "data after EOL")
err("frame_record_after_eol", b"EOL\n" + M + r1 + b"\n")
err("frame_count_low", r1 + b"\n" + r1 + b"\nEOL " + M + b"1\n", "EOL count")
err("frame_count_high", r1 + b"\n" + r1 + b"\nEOL " + M + b"3\n", "EOL count")
err("frame_count_extra_digit", r1 + b"\n" + r1 + b"\nEOL 2" + M + b"0\n", "EOL count")
err("frame_count_prefix_lf", (r1 + b"\n") * 12 + b"EOL 1" + M + b"\n", "EOL count")
err("frame_count_prefix_crlf", (r1 + b"\n") * 12 + b"EOL 1" + M + b"\r\n", "EOL count")
err("frame_count_prefix_eof", (r1 + b"\n") * 12 + b"EOL 1" + M, "EOL count")
err("frame_count_zero_records", b"EOL 00" + M + b"1\n", "EOL count")
err("frame_count_zero_vs_one", r1 + b"\nEOL 0" + M + b"\n", "EOL count")
err("frame_blank_first", M + b"\nEOL\n", "blank")
err("frame_blank_crlf", M + b"\r\nEOL\n", "blank")
err("frame_blank_middle", r1 + b"\n" + M + b"\n" + r1 + b"\nEOL 2\n", "blank")
err("frame_ws_only", r1 + b"\n \t" + M + b"\nEOL 1\n", "blank")
err("frame_ws_only_crlf", b"  " + M + b"\r\nEOL\n", "blank")
err("frame_vt_not_ws", M + b"\x0b" + r1 + b"\nEOL 1\n")
err("frame_cr_alone", r1 + b"\r" + M + b"EOL 1\n")
err("frame_cr_cr_lf", r1 + b"\r" + M + b"\r\nEOL 1\n")
err("frame_lf_in_object", b'{"description":"d",' + M + b'\n"timestamp":"' + TS + b'"}\nEOL 1\n', "line ends")
err("frame_cr_in_object", b'{"description"' + M + b'\r:"d","timestamp":"' + TS + b'"}\nEOL 1\n', "line ends")
err("frame_after_object", r1 + b" " + M + b"x\nEOL 1\n", "after the record")
err("frame_two_objects", r1 + M + r1 + b"\nEOL 2\n")
err("frame_array_record", M + b'["d"]\nEOL 1\n')
err("frame_line3", r1 + b"\r\n" + r1 + b"\r\n" + b'{"description":' + M + b'x}\nEOL 3\n', "invalid JSON")

# --- UTF-8
U = b"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf \xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"
ok("utf8_ok", R(U, pre=b'"\xc3\xa9t\xc3\xa9":"\xe2\x82\xac",', post=b',"x":["\xf0\x9d\x84\x9e",{"\xc3\xa9":"\xf4\x8f\xbf\xbf"}]') + b"\nEOL 1\n", [(U, TS)], "boundaries of every sequence length, in all string kinds")
def in_desc(name, bad_before, bad_after, reason="invalid UTF-8"):
    err(name, b'{"description":"a' + bad_before + M + bad_after + b'","timestamp":"' + TS + b'"}\nEOL 1\n', reason)
in_desc("utf8_c3_28", b"\xc3", b"(")
in_desc("utf8_overlong_c0", b"", b"\xc0\xaf")
in_desc("utf8_overlong_c1", b"", b"\xc1\xbf")
in_desc("utf8_overlong_e0", b"\xe0", b"\x80\x80")
in_desc("utf8_overlong_f0", b"\xf0", b"\x80\x80\x80")
in_desc("utf8_surrogate_d800", b"\xed", b"\xa0\x80")
in_desc("utf8_surrogate_dfff", b"\xed", b"\xbf\xbf")
in_desc("utf8_above_max_f4_90", b"\xf4", b"\x90\x80\x80")
in_desc("utf8_above_max_f5", b"", b"\xf5\x80\x80\x80")
in_desc("utf8_ff", b"", b"\xff")
in_desc("utf8_stray_continuation", b"", b"\x80")
in_desc("utf8_truncated_at_quote", b"\xe2\x82", b"")
in_desc("utf8_truncated_4", b"\xf0\x9d\x84", b"x")
err("utf8_in_key", b'{"a\xe2' + M + b'(":1,' + R()[1:] + b"\nEOL 1\n", "invalid UTF-8")
err("utf8_in_other_value", R(post=b',"x":"\xed' + M + b'\xa0\x80"') + b"\nEOL 1\n", "invalid UTF-8")
err("utf8_in_nested", R(post=b',"x":[{"k":["\xc3' + M + b'("]}]') + b"\nEOL 1\n", "invalid UTF-8")
err("utf8_outside_string", b"{" + M + b"\xc3\xa9" + R()[1:] + b"\nEOL 1\n")
err("utf8_in_eol_line", b"EOL " + M + b"\xc3\xa9\n")
err("utf8_in_timestamp", b'{"description":"d","timestamp":"2026' + M + b'\xc3\xa9"}\nEOL 1\n', "RFC 3339")

ok("utf8_cjk_only", R("日本語のテキスト、カメラ".encode()) + b"\nEOL 1\n", [("日本語のテキスト、カメラ".encode(), TS)], "no ASCII: the run after each sequence is copied at once")
in_desc("utf8_after_utf8_surrogate", "ééé".encode() + b"\xed", b"\xa0\x80")
in_desc("utf8_after_4byte_cut", "😀".encode() + b"\xf0\x9f\x98", b"")
err("utf8_ascii_after_utf8_ts", b'{"description":"d","timestamp":"' + M + "é2026".encode() + b'"}\nEOL 1\n', "RFC 3339")

# --- escapes
ok("esc_simple", R(rb'a\"b\\c\/d\be\ff\ng\rh\ti') + b"\nEOL 1\n", [(b'a"b\\c/d\be\ff\ng\rh\ti', TS)])
ok("esc_unicode", R(rb"\u0041\u00e9\u20AC\uD834\uDD1E\uffff\u007f\u0001 \ud7ff\ue000\udbff\udfff") + b"\nEOL 1\n",
   [(b"A\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xef\xbf\xbf\x7f\x01 \xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", TS)])
ok("esc_key_decoded", b'{"descr\\u0069ption":"x","\\u0074imestamp":"' + TS + b'"}\nEOL 1\n', [(b"x", TS)], "escaped keys name the required members")
ok("esc_in_timestamp", b'{"description":"d","timestamp":"\\u0032026-11-28T06:44:29.120\\u005a"}\nEOL 1\n', [(b"d", b"2026-11-28T06:44:29.120Z")])
ok("esc_other_members", R(post=rb',"a\"b":"\u00e9\n","c":["\ud83d\ude00\\"]') + b"\nEOL 1\n", [D])
in_desc("esc_u0000", rb"\u000", b"0", "\\u")
in_desc("esc_lone_high_quote", rb"\ud800", b"", "\\u")
in_desc("esc_lone_high_then_bmp", rb"\ud800\u", b"0041", "\\u")
in_desc("esc_lone_high_then_high", rb"\ud800\ud", b"800", "\\u")
in_desc("esc_lone_high_then_n", rb"\ud800" + b"\\", b"n", "\\u")
in_desc("esc_lone_high_then_x", rb"\uD800", b"x", "\\u")
in_desc("esc_lone_low", rb"\ud", b"c00", "\\u")
in_desc("esc_bad_hex", rb"\u12", b"G4", "\\u")
in_desc("esc_short_u", rb"\u12", b"", "\\u")
in_desc("esc_invalid_x", b"\\", b"x41", "invalid escape")
in_desc("esc_upper_u", b"\\", b"U0041", "invalid escape")
in_desc("esc_single_quote", b"\\", b"'", "invalid escape")
err("esc_lone_in_key", b'{"\\ud' + M + b'fff":1,' + R()[1:] + b"\nEOL 1\n", "\\u")
err("esc_lone_in_nested", R(post=rb',"x":[["\ud800\u' + M + b'0041"]]') + b"\nEOL 1\n", "\\u")
err("esc_u0000_in_other", R(post=rb',"x":"\u000' + M + b'0"') + b"\nEOL 1\n", "\\u")
err("esc_invalid_in_nested", R(post=b',"x":{"k":"\\' + M + b'a"}') + b"\nEOL 1\n", "invalid escape")

# --- raw control characters
in_desc("ctl_01", b"", b"\x01", "raw control")
in_desc("ctl_1f", b"", b"\x1f", "raw control")
in_desc("ctl_tab", b"", b"\t", "raw control")
in_desc("ctl_nul", b"", b"\x00", "raw control")
in_desc("ctl_cr", b"", b"\r", "raw control")
in_desc("ctl_lf", b"", b"\n", "raw control")
ok("ctl_del_allowed", R(b"a\x7fb") + b"\nEOL 1\n", [(b"a\x7fb", TS)], "DEL is not a control character in JSON")
err("ctl_in_key", b'{"k' + M + b'\x01":1,' + R()[1:] + b"\nEOL 1\n", "raw control")
err("ctl_in_timestamp", b'{"description":"d","timestamp":"' + M + b'\x01"}\nEOL 1\n')
err("ctl_in_nested", R(post=b',"x":["' + M + b'\x1f"]') + b"\nEOL 1\n", "raw control")

# --- required members
ok("req_order_swapped", R(order=1) + b"\nEOL 1\n", [D])
ok("req_other_members", R(pre=b'"Description":1,"descriptionX":null,"timestam":true,"":"",', post=b',"z":{"description":2}') + b"\nEOL 1\n", [D], "near-miss keys are other members; nested description ignored")
err("req_missing_description", b'{"timestamp":"' + TS + b'"' + M + b"}\nEOL 1\n", "missing description")
err("req_missing_timestamp", b'{"description":"d"' + M + b"}\nEOL 1\n", "missing timestamp")
err("req_empty_object", b"{" + M + b"}\nEOL 1\n", "missing description")
err("req_empty_object_ws", b"{ \t" + M + b"}\nEOL 1\n", "missing description")
err("req_duplicate_description", b'{"description":"a","timestamp":"' + TS + b'","description' + M + b'":"b"}\nEOL 1\n', "duplicate description")
err("req_duplicate_timestamp", b'{"timestamp":"' + TS + b'","description":"a","timestamp' + M + b'":"' + TS + b'"}\nEOL 1\n', "duplicate timestamp")
err("req_duplicate_escaped", b'{"description":"a","descr\\u0069ption' + M + b'":"b","timestamp":"' + TS + b'"}\nEOL 1\n', "duplicate description")
for name, v in [("number", b"1"), ("negative", b"-1"), ("null", b"null"), ("true", b"true"), ("false", b"false"), ("array", b'["d"]'), ("object", b'{"d":1}')]:
    err("req_desc_" + name, b'{"description":' + M + v + b',"timestamp":"' + TS + b'"}\nEOL 1\n', "description is not a string")
err("req_ts_number", b'{"description":"d","timestamp": ' + M + b'1700000000}\nEOL 1\n', "timestamp is not a string")
err("req_ts_array", b'{"description":"d","timestamp":' + M + b'["' + TS + b'"]}\nEOL 1\n', "timestamp is not a string")

# --- timestamp (the RFC 3339 machine decides; offsets are the deciding byte)
def ts_bad(name, before, after, reason="RFC 3339"):
    err(name, b'{"description":"d","timestamp":"' + before + M + after + b'"}\nEOL 1\n', reason)
ok("ts_forms", b"".join(R(ts=t) + b"\n" for t in [b"2024-02-29T00:00:00Z", b"2026-11-28t06:44:29z", b"2016-12-31T23:59:60Z", b"2026-01-01T00:00:00.123456789012+23:59", b"2026-01-01T00:00:00-00:00"]) + b"EOL 5\n",
   [(b"d", t) for t in [b"2024-02-29T00:00:00Z", b"2026-11-28t06:44:29z", b"2016-12-31T23:59:60Z", b"2026-01-01T00:00:00.123456789012+23:59", b"2026-01-01T00:00:00-00:00"]])
ts_bad("ts_feb29", b"2025-02-2", b"9T00:00:00Z")
ts_bad("ts_month13", b"2025-1", b"3-01T00:00:00Z")
ts_bad("ts_hour24", b"2025-01-01T2", b"4:00:00Z")
ts_bad("ts_incomplete", b"2025-01-01", b"")
ts_bad("ts_empty", b"", b"")
ts_bad("ts_space", b"2025-01-01", b" 00:00:00Z")
ts_bad("ts_escaped_bad", b"2025-01-01T00:00:00\\u004", b"1")

# --- numbers and literals (other members)
ok("num_ok", R(post=b',"n":[0,-0,1.5,-1.5e10,1E+2,1e-2,0.0e0,123456789012345678901234567890,-0.5E-0]') + b"\nEOL 1\n", [D])
ok("num_top_level", R(pre=b'"a":0,"b":-12.5e+3 , "c" : 7\t,') + b"\nEOL 1\n", [D])
ok("lit_ok", R(pre=b'"a":true,"b":false,"c":null,"d":[true,false,null],') + b"\nEOL 1\n", [D])
def other_bad(name, before, after, reason=""):
    err(name, R(post=b',"x":' + before + M + after) + b"\nEOL 1\n", reason)
other_bad("num_leading_zero", b"0", b"1")
other_bad("num_trailing_dot", b"1.", b"}")
other_bad("num_leading_dot", b"", b".5")
other_bad("num_plus", b"", b"+1")
other_bad("num_bare_exp", b"1e", b"}")
other_bad("num_bare_minus", b"-", b"}")
other_bad("num_hex", b"0", b"x1")
other_bad("num_dot_exp", b"1.", b"e5")
other_bad("num_nan", b"", b"NaN")
other_bad("num_infinity", b"-", b"Infinity")
other_bad("lit_truncated", b"tru", b"}")
other_bad("lit_capital", b"", b"True")
other_bad("lit_nul", b"nul", b"")

# --- nested values
ok("nest_ok", R(post=b',"x":[],"y":{},"z":[ {"a" : [1, "s\\u00e9\\n", {"b":null}] } , [[]], "\xc3\xa9" ],"w":{"k":{"k":{"k":[true]}}}') + b"\nEOL 1\n", [D])
err("nest_trailing_comma", R(post=b',"x":[1,' + M + b']') + b"\nEOL 1\n", "invalid JSON")
err("nest_missing_colon", R(post=b',"x":{"k" ' + M + b'1}') + b"\nEOL 1\n")
err("nest_nonstring_key", R(post=b',"x":{' + M + b'1:2}') + b"\nEOL 1\n")
err("nest_unclosed", R()[:-1] + b',"x":[[1]' + M + b"\nEOL 1\n", "line ends")
err("nest_unclosed_eof", R()[:-1] + b',"x":{"a":[' + M, "missing EOL")
ok("utf8_then_ctl_ok", R(b"\xc3\xa9\\n\xe2\x82\xac") + b"\nEOL 1\n", [(b"\xc3\xa9\n\xe2\x82\xac", TS)])
in_desc("utf8_then_ctl", b"\xc3\xa9", b"\x01", "raw control")
in_desc("esc_then_ctl", b"\\n", b"\x01", "raw control")
in_desc("uesc_then_ctl", b"\\u00e9", b"\x01", "raw control")
err("nest_mismatched", R(post=b',"x":[1' + M + b'}') + b"\nEOL 1\n")
err("nest_bad_number", R(post=b',"x":[0' + M + b'0]') + b"\nEOL 1\n")

# --- JSON syntax of the record object
err("json_trailing_comma", R()[:-1] + b"," + M + b"}\nEOL 1\n")
err("json_missing_comma", b'{"description":"d" ' + M + b'"timestamp":"' + TS + b'"}\nEOL 1\n')
err("json_single_quotes", b"{" + M + b"'description':'d'}\nEOL 1\n")
err("json_unquoted_key", b"{" + M + b"description:1}\nEOL 1\n")
err("json_missing_value", b'{"description":' + M + b',"timestamp":"' + TS + b'"}\nEOL 1\n')
err("json_double_colon", b'{"description":' + M + b':"d"}\nEOL 1\n')
err("json_unclosed_object", R()[:-1] + M + b"\nEOL 1\n", "line ends")

# --- seq in a numbered upload (1.2; "# numbered: FIRST": the query's first)
def S(n, desc=b"d", where="last"):
    """A record with "seq" (a raw value) first or last."""
    n = n if isinstance(n, bytes) else b"%d" % n
    return R(desc, pre=b'"seq":' + n + b",") if where == "first" else R(desc, post=b',"seq":' + n)
MAX = 2**53 - 1
ok("seq_ok", S(1) + b"\n" + S(2, where="first") + b"\n" + S(7) + b"\nEOL 3\n",
   [(b"d", TS, 1), (b"d", TS, 2), (b"d", TS, 7)], "first or last member, gaps allowed", first=1)
ok("seq_first_equal", S(5) + b"\n" + S(6) + b"\nEOL 2\n", [(b"d", TS, 5), (b"d", TS, 6)], first=5)
ok("seq_max", S(MAX - 1) + b"\n" + S(MAX) + b"\nEOL 2\n", [(b"d", TS, MAX - 1), (b"d", TS, MAX)],
   "2^53-1 is the largest", first=MAX - 1)
ok("seq_first_above_all", b"EOL 0\n", [], "first = newest+1 when the camera holds nothing", first=2**53)
ok("seq_ws", R(post=b',"seq" : \t12 ,"x":1') + b"\n" + R(post=b',"seq":13 ') + b"\nEOL 2\n",
   [(b"d", TS, 12), (b"d", TS, 13)], "whitespace around the value", first=10)
ok("seq_escaped_key", R(post=b',"s\\u0065q":3') + b"\nEOL 1\n", [(b"d", TS, 3)],
   "the key is decoded first", first=1)
ok("seq_other_keys", R(post=b',"seq2":"x","Seq":-1,"se":0,"seq":4') + b"\nEOL 1\n", [(b"d", TS, 4)],
   "only the key seq itself", first=1)
ok("seq_unnumbered_any", R(post=b',"seq":"x"') + b"\n" + R(post=b',"seq":0,"seq":-1.5e3') + b"\n" +
   R(post=b',"seq":[1,{"a":2}]') + b"\n" + R() + b"\nEOL 4\n", [D] * 4,
   "not numbered: seq is an ordinary member, any value, any number of times")
def seq_bad(name, before, after, reason, first=1, prev=None, comment=""):
    head = S(prev) + b"\n" if prev is not None else b""
    count = 2 if prev is not None else 1
    err(name, head + R(post=b',"seq":' + before + M + after) + b"\nEOL %d\n" % count, reason,
        comment, first)
seq_bad("seq_zero", b"", b"0", "seq is not a number", comment="0 can never start a seq")
seq_bad("seq_leading_zero", b"", b"01", "seq is not a number", comment="refused at the zero itself")
seq_bad("seq_negative", b"", b"-1", "seq is not a number")
seq_bad("seq_plus", b"", b"+1", "seq is not a number")
seq_bad("seq_string", b"", b'"1"', "seq is not a number", comment="a non-number at its first byte")
seq_bad("seq_null", b"", b"null", "seq is not a number")
seq_bad("seq_array", b" ", b"[1]", "seq is not a number")
seq_bad("seq_fraction", b"1", b".0", "not an integer")
seq_bad("seq_exponent", b"1", b"e2", "not an integer")
seq_bad("seq_exponent_upper", b"12", b"E2", "not an integer")
seq_bad("seq_2p53", b"900719925474099", b"2", "above 2^53-1", comment="2^53: at the digit that makes it too large")
seq_bad("seq_17_digits", b"1000000000000000", b"0", "above 2^53-1")
seq_bad("seq_below_first", b"9", b"", "seq below first", first=10,
        comment="9 could still become 90: refused at the byte after its last digit")
seq_bad("seq_below_first_doomed", b"9007199254740", b"8", "seq below first", first=MAX - 5,
        comment="no continuation reaches first without passing 2^53-1: at this digit")
seq_bad("seq_not_above_prev", b"4", b"", "previous record", prev=41)
seq_bad("seq_equal_prev", b"41", b"", "previous record", prev=41)
seq_bad("seq_not_above_prev_max", b"", b"9", "previous record", first=1, prev=MAX,
        comment="nothing comes after 2^53-1")
seq_bad("seq_line_ends", b"12", b"\n", "line ends")
seq_bad("seq_then_junk", b"12", b"x", "invalid JSON")
err("seq_missing", R()[:-1] + M + b"}\nEOL 1\n", "missing seq", first=1)
err("seq_missing_empty_object", b"{" + M + b"}\nEOL 1\n", "missing description", first=1)
err("seq_duplicate", R(post=b',"seq":3,"seq' + M + b'":4') + b"\nEOL 1\n", "duplicate seq",
    "at the repeated key's closing quote", first=1)
err("seq_duplicate_escaped", R(post=b',"seq":3,"\\u0073eq' + M + b'":4') + b"\nEOL 1\n",
    "duplicate seq", first=1)

os.makedirs(OUT, exist_ok=True)
for name, data in files.items():
    with open(os.path.join(OUT, name + ".txt"), "wb") as f:
        f.write(data)
print(len(files), "files")
