# A cursor EPOCH:SEQ (PROTOCOL.md "Event numbers and cursors", 1.2): a point
# in a camera's history, just after event SEQ of history EPOCH (EPOCH:0 is
# before the first). Grammar only; the including machine defines the
# actions: cur_epoch at the epoch's last byte, cur_d at each digit of SEQ
# (whose value, at most 2^53-1, only an action can bound).
%%{
machine cursor_common;

cursor_epoch = [A-Za-z0-9._\-]{1,64};
cursor_seq   = ( '0' | [1-9] digit* ) $cur_d;
cursor       = cursor_epoch @cur_epoch ':' cursor_seq;
}%%
