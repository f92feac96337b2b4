# The control message (PROTOCOL.md, GET /control-channel): one JSON object
# (RFC 8259). Grammar only: the actions named here are C, in control_act.rl.
#
# Members of the top-level object are checked by name when they end; any
# other value is skipped, nested objects and arrays through fcall (the
# depth is bounded by the call stack, see control_act.rl).

%%{
machine control_common;

ws = [ \t\r\n]*;

# UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
tail  = 0x80..0xbf;
utf8n = 0xc2..0xdf tail
      | 0xe0 0xa0..0xbf tail
      | ( 0xe1..0xec | 0xee..0xef ) tail tail
      | 0xed 0x80..0x9f tail
      | 0xf0 0x90..0xbf tail tail
      | 0xf1..0xf3 tail tail tail
      | 0xf4 0x80..0x8f tail tail;

# \uXXXX: a surrogate only as a high-low pair.
surr_hi = [dD] [89abAB] xdigit{2};
surr_lo = [dD] [c-fC-F] xdigit{2};
u_one   = ( xdigit{4} - ( [dD] [89a-fA-F] xdigit{2} ) ) $u_d;
u_pair  = surr_hi '\\u' surr_lo;
escape  = '\\' ( ["\\/bfnrt] @esc_c
               | 'u' >u_start u_one @u_end
               | 'u' u_pair @u_wide );

char   = ( 0x20..0x7f - ["\\] ) @ch | utf8n $ch | escape;
string = '"' @str_start char* '"';

int_part = '0' | [1-9] digit*;
number   = ( '-' @not_int )? ( int_part $int_d )
           ( '.' @not_int digit+ )? ( [eE] @not_int [+\-]? digit+ )?;
literal  = 'true' | 'false' | 'null';

# Any value; a nested object or array is skipped by a called machine.
value = string | number | literal | '{' @call_object | '[' @call_array;

# The called machines only need the input to be well-formed.
skip_member = string ws ':' ws value;
skip_object = ws ( skip_member ws ( ',' ws skip_member ws )* )? '}' @ret;
skip_array  = ws ( value ws ( ',' ws value ws )* )? ']' @ret;

# The top level: a member's key is looked up when it ends, its value's type
# noted when it starts, and the member checked when it ends.
top_value = string >vt_string
          | number >vt_number
          | ( literal | '{' @call_object | '[' @call_array ) >vt_other;
member = ( string @key_end ) ws ':' ws top_value;
object = ws '{' ws ( member %member_end ws ( ',' ws member %member_end ws )* )? '}' ws;

}%%

