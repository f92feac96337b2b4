# RFC 3339 section 5.6 date-time, restricted as PROTOCOL.md says. Grammar
# only: the actions and conditions named here are C, in rfc3339_act.rl.
#
# Calendar rules are conditions tested on the byte that decides them, so the
# machine stops at the first byte after which no valid date-time can follow:
#   feb29_ok  day 29: not February, or a leap year
#   not_feb   day 3x: not February
#   has31     day 31: a 31-day month
#   min59     second 6x: only when the minute is 59 (leap second)
%%{
machine rfc3339_common;

year    = ( digit $year_d ){4};                        # 0000-9999
month   = ( '0' [1-9] | '1' [0-2] ) $mon_d;
mday    = ( '0' [1-9]
          | '1' digit
          | '2' ( [0-8] | ( '9' when feb29_ok ) )
          | ( '3' when not_feb ) ( '0' | ( '1' when has31 ) )
          ) $mday_d;
hour    = ( [01] digit | '2' [0-3] ) $hour_d;
minute  = ( [0-5] digit ) $min_d;
second  = ( [0-5] digit | ( '6' when min59 ) '0' ) $sec_d;
secfrac = '.' @frac_start ( digit $frac_d )+;

off_hour = ( [01] digit | '2' [0-3] ) $offh_d;
off_min  = ( [0-5] digit ) $offm_d;
numoffset = ( '+' | '-' @off_neg ) off_hour ':' off_min;
offset    = [Zz] | numoffset;

full_date = year '-' month '-' mday;
full_time = hour ':' minute ':' second secfrac? offset;
date_time = full_date [Tt] full_time;
}%%
