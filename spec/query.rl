# Query strings, ids and the Authorization header (PROTOCOL.md, "Names and
# common rules"). Grammar only: the actions named here are C, in query_act.rl.
#
# Three machines:
#   query_split   the raw query string: '&'-separated name[=value] pairs,
#                 %HH escapes decoded byte by byte ('+' is a plain byte);
#   query_value   the decoded value of a known parameter, one entry point per
#                 kind (id, timeout, limit, first, after, switch), fed the
#                 bytes split decodes;
#   query_bearer  an Authorization value "Bearer <token>".

%%{
machine query_split_common;

# %HH, hex either case. A '%' without two hex digits has no transition: the
# error action records it and skips to the next '&'.
esc   = '%' ( xdigit @hex_hi ) ( xdigit @hex_lo );
name  = ( ( any - [&=%] ) @byte | esc )*;
value = ( ( any - [&%] ) @byte | esc )*;
param = name ( '=' @eq value )?;
query = ( param %param_end ) ( '&' param %param_end )*;

# After a bad escape: the rest of that parameter, up to and including '&'.
skip_rest = ( any - '&' )* '&';
}%%

%%{
machine query_value_common;

id_char       = [A-Za-z0-9._\-];
id_value      = id_char{1,64};

# Digits accumulate (saturating) in the actions, so any length is safe.
timeout_value = ( digit @int_d )+ ( '.' ( digit @frac_d )+ )?;
limit_value   = ( digit @int_d )+;

# 1.2. Event numbers accumulate (saturating above 2^53) in seq_d.
first_value   = ( digit @seq_d )+;
after_value   = id_char{1,64} ':' ( digit @seq_d )+;
switch_value  = [01] @int_d;
}%%

%%{
machine query_bearer_common;

# RFC 6750 b64token is narrower; we take any visible ASCII and let the
# comparison decide. Scheme case-insensitive, 1*SP (RFC 9110 11.4), nothing
# after the token but the optional white space that ends a field value:
# leading and trailing SP/HTAB are not part of the value (RFC 9110 5.5), and
# h2o keeps trailing ones (HTTP/1) and both (HTTP/2).
ows    = [ \t]*;
bearer = ows 'bearer'i ' '+ ( graph $tok_byte )+ >tok_start ows;
}%%
