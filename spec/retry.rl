# The camera's upload of one wake-up (PROTOCOL.md, POST /send-stats, camera
# side) over the events of runtime/retry.h: send; a network error or a 5xx
# backs off and sends again with the same request_id; an answer or a
# refusal ends it. A wake-up with the same request_id is ignored. Expiry (a
# newer wake-up, or the deadline) ends a waiting upload at once and lets an
# attempt in flight finish as the last one.
%%{
machine retry;
alphtype int;
import "retry.h";

main := (
  start: (
      RTE_START                 @send     @in_sending -> sending
  ),
  sending: (
      RTE_ANSWERED              @done     @in_over    -> over
    | RTE_REFUSED               @drop     @in_over    -> over
    | RTE_FAILED                @back_off @in_waiting -> waiting
    | RTE_AGAIN                 @ignore               -> sending
    | RTE_EXPIRED               @last     @in_last    -> last
  ),
  waiting: (
      RTE_DUE                   @send     @in_sending -> sending
    | RTE_AGAIN                 @ignore               -> waiting
    | RTE_EXPIRED               @give_up  @in_over    -> over
  ),
  last: (
      RTE_ANSWERED              @done     @in_over    -> over
    | RTE_REFUSED               @drop     @in_over    -> over
    | RTE_FAILED                @give_up  @in_over    -> over
    | (RTE_AGAIN | RTE_EXPIRED) @ignore               -> last
  ),
  over: (
      zlen
  )
) $!reject;
}%%
