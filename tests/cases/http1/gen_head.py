# Vectors for the request head: request line and header fields.
from vec import M, ok, err, head, done, vec

H = b"Host: x\r\n"
HF = (b"Host", b"x")


def req(line, fields=H, end=b"\r\n"):
    return line + b"\r\n" + fields + end


# --- accepted request lines
r = req(b"GET / HTTP/1.1")
ok("rl_get_root", r, head("GET", b"/", fields=[HF]) + done(len(r)))
r = req(b"GET /control-channel?camera=cam-1&timeout=30 HTTP/1.1")
ok("rl_query", r, head("GET", b"/control-channel?camera=cam-1&timeout=30", fields=[HF]) + done(len(r)))
r = req(b"GET /a? HTTP/1.1")
ok("rl_empty_query", r, head("GET", b"/a?", fields=[HF]) + done(len(r)),
   "a '?' with nothing after: has_query, empty query")
r = req(b"GET /a?b?c/d HTTP/1.1")
ok("rl_query_slash_qmark", r, head("GET", b"/a?b?c/d", fields=[HF]) + done(len(r)))
r = req(b"GET //a/./b/../c;p=1,x:y@z/%7e/ HTTP/1.1")
ok("rl_path_pchars", r, head("GET", b"//a/./b/../c;p=1,x:y@z/%7e/", fields=[HF]) + done(len(r)),
   "every pchar class, dot segments kept as sent")
r = req(b"M-SEARCH.x!#$%&'*+^_`|~ / HTTP/1.1")
ok("rl_method_tchars", r, head("M-SEARCH.x!#$%&'*+^_`|~", b"/", fields=[HF]) + done(len(r)))
r = req(b"get / HTTP/1.1")
ok("rl_method_lowercase", r, head("get", b"/", fields=[HF]) + done(len(r)),
   "methods are case-sensitive tokens: passed on as sent")
r = req(b"GET / HTTP/1.0", b"")
ok("rl_http10_no_host", r, head("GET", b"/", minor=0) + done(len(r)),
   "HTTP/1.0 needs no Host and is not keep-alive by default")
r = b"\r\n\r\n" + req(b"GET / HTTP/1.1")
ok("rl_leading_crlf", r, head("GET", b"/", fields=[(b"Host", b"x")]) + done(len(r)),
   "empty lines before the request line are ignored (RFC 9112 2.2)")

# --- refused request lines
err("rl_absolute_form", b"GET <<HERE>>http://x/ HTTP/1.1\r\n" + H + b"\r\n", 400, "absolute-form")
err("rl_asterisk_form", b"OPTIONS <<HERE>>* HTTP/1.1\r\n" + H + b"\r\n", 400, "asterisk-form")
err("rl_authority_form", b"CONNECT <<HERE>>x:443 HTTP/1.1\r\n" + H + b"\r\n", 400, "authority-form")
err("rl_two_spaces", b"GET <<HERE>> / HTTP/1.1\r\n", 400, "no target")
err("rl_tab_separator", b"GET<<HERE>>\t/ HTTP/1.1\r\n", 400, "method")
err("rl_space_before_method", b"<<HERE>> GET / HTTP/1.1\r\n", 400, "whitespace before")
err("rl_empty_line_lf", b"<<HERE>>\nGET / HTTP/1.1\r\n", 400, "bare LF")
r = req(b"GET /a#f HTTP/1.1")
ok("rl_fragment", r, head("GET", b"/a#f", fields=[HF]) + done(len(r)), "lenient target: any visible byte")
r = req(b"GET /a%4g HTTP/1.1")
ok("rl_bad_pct", r, head("GET", b"/a%4g", fields=[HF]) + done(len(r)), "%-escapes are the query grammar's to judge")
err("rl_raw_space_in_path", b"GET /a <<HERE>>b HTTP/1.1\r\n", 400, "version")
err("rl_nul_in_path", b"GET /a<<HERE>>\x00 HTTP/1.1\r\n", 400, "target")
r = req(b"GET /caf\xc3\xa9 HTTP/1.1")
ok("rl_obs_text_in_path", r, head("GET", b"/caf\xc3\xa9", fields=[HF]) + done(len(r)))
err("rl_bare_lf", b"GET / HTTP/1.1<<HERE>>\n" + H + b"\r\n", 400, "bare LF")
err("rl_bare_cr", b"GET / HTTP/1.1\r<<HERE>>X" + H + b"\r\n", 400, "bare CR")
err("rl_no_version", b"GET /<<HERE>>\r\n", 400, "target")
err("rl_lowercase_http", b"GET / <<HERE>>http/1.1\r\n", 400, "version")
err("rl_version_two_digits", b"GET / HTTP/1.1<<HERE>>0\r\n", 400, "CRLF expected")
err("rl_version_trailing_space", b"GET / HTTP/1.1<<HERE>> \r\n", 400, "CRLF expected")
err("rl_http2", b"GET / HTTP/<<HERE>>2.0\r\n", 505, "not supported")
err("rl_http09", b"GET / HTTP/<<HERE>>0.9\r\n", 505, "not supported")
err("rl_http12", b"GET / HTTP/1.<<HERE>>2\r\n", 505, "not supported")
err("rl_http_no_minor", b"GET / HTTP/1<<HERE>>\r\n", 400, "version")
err("rl_no_method", b"<<HERE>>/ HTTP/1.1\r\n", 400, "method")
err("rl_method_ctl", b"GE<<HERE>>\x01T / HTTP/1.1\r\n", 400, "method")

# --- accepted fields
r = req(b"GET / HTTP/1.1", b"Host:   x  \r\nX-A:\t a  b \t\r\nX-Empty:\r\nX-Ws: \t \r\n")
ok("field_ows_trimmed", r, head("GET", b"/", fields=[HF, (b"X-A", b"a  b"), (b"X-Empty", b""),
                                                   (b"X-Ws", b"")]) + done(len(r)),
   "leading and trailing SP/HTAB are not part of the value; inner ones are")
r = req(b"GET / HTTP/1.1", b"host: x\r\nX-Obs: caf\xc3\xa9 \x80\xff\r\nX-P: !\"#~\x7e\r\n")
ok("field_obs_text", r, head("GET", b"/", fields=[(b"host", b"x"), (b"X-Obs", b"caf\xc3\xa9 \x80\xff"),
                                                 (b"X-P", b"!\"#~~")]) + done(len(r)))
r = req(b"GET / HTTP/1.1", b"Host: a\r\nContent-Lengthy: 5\r\nTransfer-Encodings: gzip\r\n"
        b"Hosts: b\r\nExpectation: x\r\nConnections: close\r\n")
ok("field_near_framing_names", r, head("GET", b"/", fields=[
    (b"Host", b"a"), (b"Content-Lengthy", b"5"), (b"Transfer-Encodings", b"gzip"),
    (b"Hosts", b"b"), (b"Expectation", b"x"), (b"Connections", b"close")]) + done(len(r)),
   "names that only start like a framing field are ordinary fields")
r = req(b"GET / HTTP/1.1", b"Host:\r\n")
ok("field_empty_host", r, head("GET", b"/", fields=[(b"Host", b"")]) + done(len(r)),
   "an empty Host is allowed (RFC 9112 3.2)")

# --- refused fields
err("field_obs_fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n<<HERE>> b\r\n\r\n", 400, "obs-fold")
err("field_obs_fold_tab", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n<<HERE>>\tb\r\n\r\n", 400, "obs-fold")
err("field_first_line_ws", b"GET / HTTP/1.1\r\n<<HERE>> Host: x\r\n\r\n", 400, "whitespace")
err("field_space_before_colon", b"GET / HTTP/1.1\r\nHost<<HERE>> : x\r\n\r\n", 400, "before the colon")
err("field_tab_before_colon", b"GET / HTTP/1.1\r\nHost<<HERE>>\t: x\r\n\r\n", 400, "before the colon")
err("field_no_colon", b"GET / HTTP/1.1\r\nHost<<HERE>>\r\n\r\n", 400, "without a colon")
err("field_empty_name", b"GET / HTTP/1.1\r\n<<HERE>>: x\r\n\r\n", 400, "empty field name")
err("field_bad_name_byte", b"GET / HTTP/1.1\r\nX<<HERE>>()\r\n", 400, "field name")
err("field_nul_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a<<HERE>>\x00b\r\n\r\n", 400, "NUL")
err("field_ctl_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a<<HERE>>\x01b\r\n\r\n", 400, "control")
err("field_del_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a<<HERE>>\x7f\r\n\r\n", 400, "control")
err("field_bare_cr_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r<<HERE>>b\r\n\r\n", 400, "bare CR")
err("field_bare_lf_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a<<HERE>>\nX-B: b\r\n\r\n", 400, "bare LF")
err("field_bare_lf_end", b"GET / HTTP/1.1\r\nHost: x\r\n<<HERE>>\n", 400, "bare LF")
err("field_cr_cr_lf", b"GET / HTTP/1.1\r\nHost: x\r<<HERE>>\r\n\r\n", 400, "bare CR")
err("field_host_twice", b"GET / HTTP/1.1\r\nHost: a\r\nHost<<HERE>>: b\r\n\r\n", 400, "Host")
r = b"GET / HTTP/1.1\r\nX-A: a\r\n\r\n"
ok("field_host_missing", r, head("GET", b"/", fields=[(b"X-A", b"a")]) + done(len(r)), "Host is not required (decision: docs/HTTP1.md)")
err("field_nul_name", b"GET / HTTP/1.1\r\nHo<<HERE>>\x00st: x\r\n\r\n", 400, "field name")

# --- incomplete heads: the parser waits
vec("more_request_line", [b"GET /a HTTP/1."], ["more"])
vec("more_no_blank_line", [b"GET / HTTP/1.1\r\nHost: x\r\n"], ["more"])
vec("more_empty", [b""], ["more"])

# --- more field edges
err("field_obs_text_name", b"GET / HTTP/1.1\r\nHost: x\r\nX-\xc3<<HERE>>\xa9: 1\r\n\r\n".replace(b"\xc3<<HERE>>", b"<<HERE>>\xc3"),
    400, "field name")
err("field_colon_in_name_start", b"GET / HTTP/1.1\r\nHost: x\r\n<<HERE>>:authority: x\r\n\r\n", 400, "empty field name")
r = req(b"GET / HTTP/1.1", b"Host: x\r\nX-Colon: a:b: c\r\nX-Quote: \"q\\\"\"\r\n")
ok("field_colons_in_value", r, head("GET", b"/", fields=[HF, (b"X-Colon", b"a:b: c"),
                                                      (b"X-Quote", b"\"q\\\"\"")]) + done(len(r)))
err("rl_lf_after_method", b"GET<<HERE>>\n", 400, "bare LF")
err("rl_cr_in_method", b"GET<<HERE>>\r\n", 400, "method")
err("rl_http_lower_version_h", b"GET / HTT<<HERE>>p/1.1\r\n", 400, "version")
r = req(b"GET /?a=%41%7E%7e HTTP/1.1")
ok("rl_pct_in_query", r, head("GET", b"/?a=%41%7E%7e", fields=[HF]) + done(len(r)))
r = req(b"GET /?a=%4 HTTP/1.1")
ok("rl_pct_short", r, head("GET", b"/?a=%4", fields=[HF]) + done(len(r)))
r = req(b"GET /a\\b HTTP/1.1")
ok("rl_backslash", r, head("GET", b"/a\\b", fields=[HF]) + done(len(r)))
r = req(b"GET /a?{}[]|^ HTTP/1.1")
ok("rl_braces", r, head("GET", b"/a?{}[]|^", fields=[HF]) + done(len(r)), "what browsers leave unescaped")
