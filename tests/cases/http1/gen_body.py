# Vectors for framing: Content-Length, Transfer-Encoding, chunked bodies,
# Connection, Expect and pipelined requests.
from vec import M, ok, err, head, done, vec

HF = (b"Host", b"x")


def post(fields, body=b""):
    return b"POST /send-stats HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n" + body


def ph(fields, frame, **kw):
    """Transcript of post()'s head with the extra fields (name, value)."""
    return head("POST", b"/send-stats", fields=[HF] + list(fields), frame=frame, **kw)


CL5 = (b"Content-Length", b"5")
TEC = (b"Transfer-Encoding", b"chunked")

# --- Content-Length
r = post(b"Content-Length: 5\r\n", b"hello")
ok("cl_basic", r, ph([CL5], "length=5") + done(len(r), b"hello"))
r = post(b"Content-Length: 0\r\n")
ok("cl_zero", r, ph([(b"Content-Length", b"0")], "length=0") + done(len(r), b""))
r = post(b"Content-Length:\t 005 \t\r\n", b"hello")
ok("cl_ows_leading_zeros", r, ph([(b"Content-Length", b"005")], "length=5") + done(len(r), b"hello"))
r = post(b"Content-Length: 5\r\ncontent-length: 05\r\n", b"hello")
ok("cl_identical_repeat", r, ph([CL5, (b"content-length", b"05")], "length=5") + done(len(r), b"hello"),
   "repeated Content-Length fields with the same value are accepted")
r = post(b"Content-Length: 9223372036854775807\r\n", b"abc")
vec("cl_max", [r], ph([(b"Content-Length", b"9223372036854775807")], "length=9223372036854775807")
    + ["body abc", "more"], comment="2^63-1 fits; the body is not complete")
r = post(b"Content-Length: 5\r\n", b"hel")
vec("cl_short_body", [r], ph([CL5], "length=5") + ["body hel", "more"])
err("cl_overflow", post(b"Content-Length: 922337203685477580<<HERE>>8\r\n"), 400, "too large")
err("cl_overflow_long", post(b"Content-Length: 1000000000000000000<<HERE>>0\r\n"), 400, "too large")
err("cl_differing", post(b"Content-Length: 5\r\nContent-Length: 6<<HERE>>\r\n"), 400, "differing")
err("cl_list", post(b"Content-Length: 5<<HERE>>, 5\r\n"), 400, "Content-Length")
err("cl_plus", post(b"Content-Length: <<HERE>>+5\r\n"), 400, "Content-Length")
err("cl_minus", post(b"Content-Length: <<HERE>>-5\r\n"), 400, "Content-Length")
err("cl_hex", post(b"Content-Length: 0<<HERE>>x5\r\n"), 400, "Content-Length")
err("cl_hex_letters", post(b"Content-Length: <<HERE>>a\r\n"), 400, "Content-Length")
err("cl_space_inside", post(b"Content-Length: 1 <<HERE>>2\r\n"), 400, "Content-Length")
err("cl_empty", post(b"Content-Length: <<HERE>>\r\n"), 400, "Content-Length")
err("cl_decimal", post(b"Content-Length: 5<<HERE>>.0\r\n"), 400, "Content-Length")
err("cl_space_before_colon", post(b"Content-Length<<HERE>> : 5\r\n"), 400, "before the colon")

# --- Transfer-Encoding
r = post(b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n")
ok("te_chunked", r, ph([TEC], "chunked") + done(len(r), b"hello"))
r = post(b"transfer-encoding:  ChUnKeD \t\r\n", b"0\r\n\r\n")
ok("te_case_ows", r, ph([(b"transfer-encoding", b"ChUnKeD")], "chunked") + done(len(r), b""))
err("te_gzip", post(b"Transfer-Encoding: <<HERE>>gzip\r\n"), 501, "other than chunked")
err("te_gzip_chunked", post(b"Transfer-Encoding: <<HERE>>gzip, chunked\r\n"), 501, "other than chunked")
err("te_chunked_identity", post(b"Transfer-Encoding: chunked<<HERE>>, identity\r\n"), 501, "other than chunked")
err("te_identity", post(b"Transfer-Encoding: <<HERE>>identity\r\n"), 501, "other than chunked")
err("te_chunked_param", post(b"Transfer-Encoding: chunked<<HERE>>;q=1\r\n"), 501, "other than chunked")
err("te_prefix", post(b"Transfer-Encoding: chunk<<HERE>>\r\n"), 501, "other than chunked")
err("te_empty", post(b"Transfer-Encoding: <<HERE>>\r\n"), 400, "Transfer-Encoding")
err("te_space_before_colon", post(b"Transfer-Encoding<<HERE>> : chunked\r\n"), 400, "before the colon")
err("te_leading_space", b"POST / HTTP/1.1\r\nHost: x\r\n<<HERE>> Transfer-Encoding: chunked\r\n\r\n",
    400, "obs-fold")
err("te_twice", post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding<<HERE>>: chunked\r\n"), 400,
    "repeated")
err("te_then_cl", post(b"Transfer-Encoding: chunked\r\nContent-Length<<HERE>>: 5\r\n"), 400,
    "both Content-Length and Transfer-Encoding")
err("te_cl_then_te", post(b"Content-Length: 5\r\nTransfer-Encoding<<HERE>>: chunked\r\n"), 400,
    "both Content-Length and Transfer-Encoding")
err("te_http10", b"POST / HTTP/1.0\r\nTransfer-Encoding<<HERE>>: chunked\r\n\r\n", 400, "HTTP/1.0")
err("te_nul", post(b"Transfer-Encoding: chun<<HERE>>\x00ked\r\n"), 400, "NUL")

# --- chunked bodies
TE = b"Transfer-Encoding: chunked\r\n"
CH = ph([TEC], "chunked")
r = post(TE, b"5\r\nhello\r\n1;a=b ; c = \"q\\\"x\" ;d\r\n \r\nA\r\n0123456789\r\n000\r\n\r\n")
ok("ch_ext_and_sizes", r, CH + done(len(r), b"hello 0123456789"),
   "chunk extensions (token and quoted values, BWS), hex sizes, last chunk 000")
r = post(TE, b"3\r\n\r\n\r\r\n0\r\nX-T: 1\r\nX-U:\r\n\r\n")
ok("ch_trailers", r, CH + done(len(r), b"\r\n\r"), "data may hold CR LF; trailers are skipped")
r = post(TE, b"7fffffffffffffff\r\nab")
vec("ch_max_size", [r], CH + ["body ab", "more"])
err("ch_size_overflow", post(TE, b"800000000000000<<HERE>>0\r\n"), 400, "too large", CH + ["body "])
err("ch_size_overflow_long", post(TE, b"1000000000000000<<HERE>>0\r\n"), 400, "too large", CH + ["body "])
err("ch_size_0x", post(TE, b"0<<HERE>>x5\r\nhello\r\n0\r\n\r\n"), 400, "chunk size", CH + ["body "])
err("ch_size_empty", post(TE, b"<<HERE>>\r\n"), 400, "chunk size", CH + ["body "])
err("ch_size_negative", post(TE, b"<<HERE>>-1\r\n"), 400, "chunk size", CH + ["body "])
err("ch_size_space", post(TE, b"5 <<HERE>>\r\nhello\r\n0\r\n\r\n"), 400, "extension", CH + ["body "])
err("ch_size_lf", post(TE, b"5<<HERE>>\nhello\r\n0\r\n\r\n"), 400, "bare LF", CH + ["body "])
err("ch_no_crlf_after_data", post(TE, b"5\r\nhello<<HERE>>0\r\n\r\n"), 400, "missing CRLF",
    CH + ["body hello"])
err("ch_data_too_long", post(TE, b"3\r\nhel<<HERE>>lo\r\n0\r\n\r\n"), 400, "missing CRLF", CH + ["body hel"])
err("ch_lf_after_data", post(TE, b"5\r\nhello<<HERE>>\n0\r\n\r\n"), 400, "missing CRLF", CH + ["body hello"])
err("ch_cr_after_data", post(TE, b"5\r\nhello\r<<HERE>>0\r\n\r\n"), 400, "bare CR", CH + ["body hello"])
err("ch_bare_cr_size", post(TE, b"5\r<<HERE>>hello"), 400, "bare CR", CH + ["body "])
err("ch_ext_bad", post(TE, b"5;<<HERE>>=x\r\n"), 400, "extension", CH + ["body "])
err("ch_ext_ctl_quoted", post(TE, b"5;a=\"<<HERE>>\x01\"\r\n"), 400, "extension", CH + ["body "])
err("ch_trailer_fold", post(TE, b"0\r\nX: a\r\n<<HERE>> b\r\n\r\n"), 400, "obs-fold", CH + ["body "])
err("ch_trailer_nul", post(TE, b"0\r\nX: a<<HERE>>\x00\r\n\r\n"), 400, "trailer", CH + ["body "])
err("ch_trailer_lf_end", post(TE, b"0\r\n<<HERE>>\n"), 400, "bare LF", CH + ["body "])
vec("ch_more_in_data", [post(TE, b"5\r\nhel")], CH + ["body hel", "more"])
vec("ch_more_in_trailers", [post(TE, b"0\r\nX: 1\r\n")], CH + ["body ", "more"])

# --- Connection and Expect
r = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
ok("conn_close", r, head("GET", b"/", fields=[HF, (b"Connection", b"close")], ka=0) + done(len(r)))
r = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: ,Upgrade , CLOSE,,\r\n\r\n"
ok("conn_list_close", r, head("GET", b"/", fields=[HF, (b"Connection", b",Upgrade , CLOSE,,")], ka=0)
   + done(len(r)))
r = b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
ok("conn_http10_keep_alive", r, head("GET", b"/", minor=0, fields=[(b"Connection", b"Keep-Alive")], ka=1)
   + done(len(r)))
r = b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"
ok("conn_http10_both", r, head("GET", b"/", minor=0, fields=[(b"Connection", b"keep-alive, close")],
                               ka=0) + done(len(r)), "close wins")
r = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed, keep-alives\r\n\r\n"
ok("conn_near_tokens", r, head("GET", b"/", fields=[HF, (b"Connection", b"closed, keep-alives")])
   + done(len(r)))
r = b"GET / HTTP/1.1\r\nHost: x\r\nConnection:\r\n\r\n"
ok("conn_empty", r, head("GET", b"/", fields=[HF, (b"Connection", b"")]) + done(len(r)))
err("conn_two_tokens", b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close <<HERE>>x\r\n\r\n", 400, "Connection")
r = post(b"Expect: 100-Continue\r\nContent-Length: 5\r\n", b"hello")
ok("exp_continue", r, ph([(b"Expect", b"100-Continue"), CL5], "length=5", cont=1) + done(len(r), b"hello"))
r = b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"
ok("exp_http10_ignored", r, head("POST", b"/", minor=0, fields=[
    (b"Expect", b"100-continue"), (b"Content-Length", b"0")], frame="length=0", cont=0) + done(len(r), b""),
   "a 100-continue expectation in HTTP/1.0 is ignored (RFC 9110 10.1.1)")
err("exp_other", post(b"Expect: <<HERE>>gzip\r\n"), 417, "100-continue")
err("exp_continue_param", post(b"Expect: 100-continue<<HERE>>;x\r\n"), 417, "100-continue")

# --- pipelining: the exact count consumed, the rest is the next request
g1 = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
p1 = post(b"Content-Length: 5\r\n", b"hello")
p2 = post(TE, b"2\r\nhi\r\n0\r\n\r\n")
vec("pipe_three", [g1, p1, p2], head("GET", b"/a", fields=[HF]) + done(len(g1))
    + ph([CL5], "length=5") + done(len(p1), b"hello") + CH + done(len(p2), b"hi"))
vec("pipe_then_partial", [p2, b"GET / HT"], CH + done(len(p2), b"hi") + ["more"])
g3 = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
vec("pipe_then_garbage", [p1, g3, b"<<HERE>>\x00"], ph([CL5], "length=5") + done(len(p1), b"hello")
    + head("GET", b"/", fields=[HF, (b"Content-Length", b"3")], frame="length=3")
    + done(len(g3), b"abc") + ["ERR 400"], reason="invalid method")
smug = post(b"Content-Length: 4\r\n", b"0\r\n\r")
vec("pipe_body_looks_like_request", [smug, b"\nGET / HTTP/1.1\r\n"],
    ph([(b"Content-Length", b"4")], "length=4") + done(len(smug), b"0\r\n\r")
    + ["error 400 0"], reason="bare LF")

# --- more framing edges
err("te_leading_space_first", b"POST / HTTP/1.1\r\n<<HERE>> Transfer-Encoding: chunked\r\nHost: x\r\n\r\n",
    400, "whitespace", comment="a space-led first field line is not skipped: refused")
err("te_tab_before_colon", post(b"Transfer-Encoding<<HERE>>\t: chunked\r\n"), 400, "before the colon")
err("te_vertical_tab", post(b"Transfer-Encoding: <<HERE>>\x0bchunked\r\n"), 400, "control byte")
err("te_chunked_chunked", post(b"Transfer-Encoding: chunked<<HERE>>, chunked\r\n"), 501, "other than chunked")
err("cl_te_http10", b"POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding<<HERE>>: chunked\r\n\r\n",
    400, "both")
err("cl_bare_cr", post(b"Content-Length: 5\r<<HERE>>Host: y\r\n"), 400, "bare CR")
err("cl_nul", post(b"Content-Length: 5<<HERE>>\x00\r\n"), 400, "NUL")
err("cl_differing_zero", post(b"Content-Length: 0\r\nContent-Length: 00000000000000000001<<HERE>>\r\n"),
    400, "differing")
r = post(TE, b"ff\r\n" + b"x" * 255 + b"\r\nA\r\n" + b"y" * 10 + b"\r\n0\r\n\r\n")
ok("ch_hex_case", r, CH + done(len(r), b"x" * 255 + b"y" * 10))
r = post(TE, b"00000000000000000000001\r\nz\r\n0\r\n\r\n")
ok("ch_size_leading_zeros", r, CH + done(len(r), b"z"),
   "leading zeros do not overflow (picohttpparser refuses more than 16 digits)")
r = post(TE, b"1\r\na\r\n0\r\nContent-Length: 99\r\nTransfer-Encoding: gzip\r\n\r\n")
ok("ch_trailer_framing_names", r, CH + done(len(r), b"a"),
   "framing names in the trailers are ordinary trailer fields")
r = post(TE, b"0;last\r\n\r\n")
ok("ch_last_chunk_ext", r, CH + done(len(r), b""))
err("ch_trailer_space_colon", post(TE, b"0\r\nX<<HERE>> : 1\r\n\r\n"), 400, "trailer", CH + ["body "])
err("ch_trailer_no_colon", post(TE, b"0\r\nX<<HERE>>\r\n\r\n"), 400, "trailer", CH + ["body "])
err("ch_ext_quoted_unterminated", post(TE, b"1;a=\"x<<HERE>>\r\n"), 400, "extension", CH + ["body "])
err("ch_size_overflow_after_data", post(TE, b"1\r\na\r\nfffffffffffffff<<HERE>>f\r\n"), 400, "too large",
    CH + ["body a"])
err("ch_nul_size", post(TE, b"<<HERE>>\x00\r\n"), 400, "chunk size", CH + ["body "])
err("ch_bare_lf_size_line", post(TE, b"1\r\na\r\n<<HERE>>\n"), 400, "bare LF", CH + ["body a"])

# --- more pipelining
g1 = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
g2 = b"\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
vec("pipe_crlf_between", [g1, g2], head("GET", b"/a", fields=[HF]) + done(len(g1))
    + head("GET", b"/b", fields=[HF]) + done(len(g2)),
    comment="a CRLF some clients send after a request starts the next one's head")
h10 = b"POST /x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi"
vec("pipe_http10_keep_alive", [h10, g1], head("POST", b"/x", minor=0, fields=[
    (b"Connection", b"keep-alive"), (b"Content-Length", b"2")], frame="length=2", ka=1)
    + done(len(h10), b"hi") + head("GET", b"/a", fields=[HF]) + done(len(g1)))
smuggle = post(b"Content-Length: 6\r\n", b"0\r\n\r\nG")
et = b"ET / HTTP/1.1\r\nHost: x\r\n\r\n"
vec("pipe_cl_wins_over_body_text", [smuggle, et],
    ph([(b"Content-Length", b"6")], "length=6") + done(len(smuggle), b"0\r\n\r\nG")
    + head("ET", b"/", fields=[HF]) + done(len(et)),
    comment="the classic CL.TE body is read as 6 bytes; the next request's method is then 'ET'")
err("te_ctl_after_prefix", post(b"Transfer-Encoding: chun<<HERE>>\x01ked\r\n"), 400, "control byte")
err("exp_prefix", post(b"Expect: 100-cont<<HERE>>\r\n"), 417, "100-continue")
err("exp_empty", post(b"Expect: <<HERE>>\r\n"), 417, "100-continue")
err("exp_ctl", post(b"Expect: 100<<HERE>>\x7f\r\n"), 400, "control byte")
