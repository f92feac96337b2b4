# HTTP/1.1 request framing after RFC 9112 (runtime/http1.h): grammar only.
# Actions and host code live in http1_act.rl, which includes this file.
#
# Four machines share the rules: `main` reads a request head (request line,
# header fields, blank line), `chunked` one chunk-size line, `chunk_end` the
# CRLF after a chunk's data and `trailers` the trailer section. The chunk
# data itself is counted by the host code, never read by a machine. Each
# rule of the RFC is named once; spans are taken with entering (>) and
# leaving (%) actions, never per byte. Field names that change framing
# (Content-Length, Transfer-Encoding, Connection, Expect, Host) are cut out
# of the generic name, so every field line is read by exactly one of the
# alternatives and a framing value is checked by its own grammar. One error
# action per machine names the refusal from where the machine was (set by
# the section's first action) and the offending byte. Decisions and
# statuses: docs/HTTP1.md.
%%{
machine http1_fsm;

CR    = '\r' @cr;
LF    = '\n';
SP    = ' ';
HTAB  = '\t';
ws    = SP | HTAB;
OWS   = ws*;
DIGIT = digit;
HEXDIG = xdigit;

# RFC 9110 5.6.2: token characters.
tchar = [!#$%&'*+\-.^_`|~] | DIGIT | alpha;
token = tchar+;

# RFC 9110 5.5: field values; obs-text is any byte >= 0x80.
obs_text = 0x80..0xff;
vchar    = 0x21..0x7e | obs_text;

# Origin-form target: absolute-path [ "?" query ] (RFC 9112 3.2.1). Read
# leniently, as the servers clients meet are (browsers leave [ ] | { } ^
# unescaped): any visible byte, the first '?' starts the query. What the
# target means is decided later: the query grammar (spec/query.rl) checks
# %-escapes and parameters, and a path that is not a camera endpoint goes
# to h2o, which answers it as before.
tgt_byte = vchar;
path     = ( '/' ( tgt_byte - '?' )* ) >path_start;
query    = tgt_byte*;
target   = path ( '?' @query_start query )?;

# RFC 9112 2.3: HTTP-version, case-sensitive name, one digit each side.
version = 'HTTP/' DIGIT @v_major '.' DIGIT @v_minor;

method       = token >method_start;
request_line = method SP @method_end target SP @target_end version CR LF @rl_done;

# Value spans: vstart on the first byte, vend on leaving each run of
# non-blank bytes, so the last vend is the end of the value without its
# trailing OWS (RFC 9112 5.1).
vrun      = vchar+ %vend;
gen_value = ( vrun ( ws+ vrun )* ) >vstart;

# Content-Length = 1*DIGIT (RFC 9110 8.6); a list is refused.
cl_value = ( DIGIT+ $cl_digit ) >vstart >cl_begin %vend %cl_end;
# Transfer-Encoding: only "chunked" (RFC 9112 6.1, 7).
te_value = 'chunked'i >vstart >te_begin %vend %te_end;
# Connection = #connection-option (RFC 9110 7.6.1), empty elements allowed.
conn_opt   = 'close'i %conn_close | 'keep-alive'i %conn_ka
           | ( token - ( 'close'i | 'keep-alive'i ) );
c_item     = conn_opt %vend;
c_comma    = ',' %vend;
conn_value = ( c_item | c_comma ( OWS c_item )? ) >vstart ( OWS c_comma ( OWS c_item )? )*;
# Expect: only 100-continue (RFC 9110 10.1.1).
exp_value = '100-continue'i >vstart %vend %exp_100;

n_cl   = 'content-length'i;
n_te   = 'transfer-encoding'i;
n_conn = 'connection'i;
n_exp  = 'expect'i;
n_host = 'host'i;
n_gen  = token - ( n_cl | n_te | n_conn | n_exp | n_host );

f_gen  = n_gen  ':' @c_gen  OWS gen_value? OWS;
f_host = n_host ':' @c_host OWS gen_value? OWS;
f_cl   = n_cl   ':' @c_cl   OWS cl_value OWS;
f_te   = n_te   ':' @c_te   OWS te_value OWS;
f_conn = n_conn ':' @c_conn OWS conn_value? OWS;
f_exp  = n_exp  ':' @c_exp  OWS exp_value OWS;

field_line = ( f_gen | f_host | f_cl | f_te | f_conn | f_exp ) >field_start CR LF @field_done;

# RFC 9112 2.2: empty lines before the request line are ignored.
request = ( CR LF @lead_done )* request_line field_line* CR LF @head_done;

main := request $!e_main;

# RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF, then chunk-data CRLF.
qdtext        = HTAB | SP | 0x21 | 0x23..0x5b | 0x5d..0x7e | obs_text;
quoted_pair   = '\\' ( HTAB | SP | vchar );
quoted_string = '"' ( qdtext | quoted_pair )* '"';
chunk_ext     = ( OWS ';' OWS token ( OWS '=' OWS ( token | quoted_string ) )? )+ >ext_start;
chunk_size    = HEXDIG+ $size_digit;

chunked   := ( chunk_size chunk_ext? CR LF @size_done ) $!e_main;
chunk_end := ( CR LF @data_done ) $!e_main;

# Trailer fields (RFC 9112 7.1.2) are checked and skipped, never stored.
t_value   = vchar+ ( ws+ vchar+ )*;
t_line    = token >trailer_start ':' @c_trailer OWS t_value? OWS CR LF @trailer_done;
trailers := ( t_line* CR LF @body_done ) $!e_main;
}%%
