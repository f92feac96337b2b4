# The camera's connect role (PROTOCOL.md, GET /control-channel, camera side)
# over the events of runtime/uplink.h: poll; after a wake-up, an empty answer
# or our own client timeout poll again at once; after a refusal or a failure
# back off, then poll.
%%{
machine uplink;
alphtype int;
import "uplink.h";

main := (
  start: (
      UE_DUE                    @poll     @in_polling -> polling
  ),
  polling: (
      UE_WOKEN                  @upload   @in_ready   -> start
    | (UE_EMPTY | UE_TIMEOUT)   @repoll   @in_ready   -> start
    | (UE_REFUSED | UE_FAILED)  @back_off @in_waiting -> waiting
  ),
  waiting: (
      UE_DUE                    @poll     @in_polling -> polling
  )
) $!reject;
}%%
