# The EOL stream (PROTOCOL.md, "The EOL stream format"): grammar only.
# Actions and host code live in eol_act.rl, which includes this file.
#
# One machine reads the whole body byte by byte: record lines, the JSON of
# each record (UTF-8 checked), the final EOL line and the end of the stream.
# What a regular grammar cannot say is left to actions: which member a key
# names (keys are decoded first), the nesting depth of other members (fcall
# with a fixed stack), the count of the EOL line, the timestamp (fed to the
# RFC 3339 machine), the bounds of a seq (below) and the 65536-byte line
# limit (eol_feed cuts the input).
# Error actions run innermost first and the first reason set wins, so the
# most specific machine names the error.
%%{
machine eol_fsm;

ws    = [ \t];
hex   = [0-9a-fA-F];
cont  = 0x80..0xbf;

# RFC 3629 without overlongs (C0 C1 E0-80..9F F0-80..8F), surrogates
# (ED A0..BF) or code points above U+10FFFF (F4 90.., F5..FF).
utf8_multi = ( 0xc2..0xdf cont
             | 0xe0 0xa0..0xbf cont
             | ( 0xe1..0xec | 0xee..0xef ) cont cont
             | 0xed 0x80..0x9f cont
             | 0xf0 0x90..0xbf cont cont
             | 0xf1..0xf3 cont cont cont
             | 0xf4 0x80..0x8f cont cont ) <>!e_utf8;

# Printable ASCII except the quote and the backslash: the bulk of a string.
plain = 0x20..0x7f - ["\\];

# \uXXXX: never \u0000, a surrogate only as a high one followed by a low one.
u_sur = [dD] [89a-fA-F] hex hex;
u_hi  = [dD] [89abAB] hex hex;
u_lo  = [dD] [c-fC-F] hex hex;
u_bmp = hex{4} - u_sur - '0000';
u_seq = u_bmp | u_hi '\\u' u_lo;

# Strings whose bytes are decoded (members of the record object). After a
# plain byte or a UTF-8 sequence an action copies the run that follows at
# once (eol_scan); the string loop would have read it the same way.
uesc_dec = ( 'u' @u_begin ( u_seq $u_step ) ) <>!e_uesc;
esc_dec  = ( '\\' ( ["\\/bfnrt] @put_esc | uesc_dec ) ) <>!e_esc;
chars    = ( plain @fast | ( utf8_multi $put_byte ) @more | esc_dec )*;
key      = ( '"' @key_open chars '"' @key_close ) <>!e_str;
sval     = ( '"' @val_open chars '"' @val_close ) <>!e_str;

# Strings that are only validated (inside nested arrays and objects).
uesc_skip = ( 'u' u_seq ) <>!e_uesc;
esc_skip  = ( '\\' ( ["\\/bfnrt] | uesc_skip ) ) <>!e_esc;
sskip     = ( '"' ( ( plain | utf8_multi ) @skip | esc_skip )* '"' ) <>!e_str;

number  = '-'? ( '0' | [1-9] digit* ) ( '.' digit+ )? ( [eE] [+\-]? digit+ )?;
literal = 'true' | 'false' | 'null';

# Nested values: each opening bracket calls a machine that returns at its
# closing bracket.
n_value  = sskip | number | literal | '[' @call_arr | '{' @call_obj;
n_member = sskip ws* ':' ws* n_value;
n_array  := ( ws* ( n_value ( ws* ',' ws* n_value )* ws* )? ']' @ret ) $!e_main;
n_object := ( ws* ( n_member ( ws* ',' ws* n_member )* ws* )? '}' @ret ) $!e_main;

# The record object: any members, description and timestamp checked by the
# actions (a required member's value must open a string).
other  = ( number | literal ) >not_str | '[' @top_arr | '{' @top_obj;

# 1.2: in a numbered upload (eol_decoder_number) the member "seq" has a rule
# of its own instead of any value: %x31-39 *DIGIT. key_close names the
# member, so its colon (a condition tested there only) chooses the rule.
# The actions check, digit by digit, that the number can still end up
# within its bounds (at most 2^53-1, at least `first`, above the previous
# record's seq): a digit that makes that impossible is the bad byte, else
# the byte after the last digit is.
seq_val = [1-9] @seq_digit ( digit @seq_digit )* %seq_end;
value   = ( ':' when not_seq ) ws* ( sval | other )
        | ( ':' when is_seq ) ( ws* seq_val ) $!e_seq;
member  = key ws* value;
object = '{' @obj_open ws* ( member ( ws* ',' ws* member )* ws* )? '}' @obj_close;
record = ws* object ws* '\r'? '\n' @rec_done;

count    = digit+ >cnt_begin $cnt_digit %cnt_end;
eol_line = 'E' @eol_open 'OL' ( ' ' count )? ( '\r'? '\n' @eol_done )?;

main := ( record* eol_line ) $!e_main;
}%%
