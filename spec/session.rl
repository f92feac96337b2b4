# The api's per-camera handshake (PROTOCOL.md: /control-channel, /logs,
# /send-stats) over the event alphabet of runtime/session.h. Each transition
# names the action the api performs; an event with no transition from the
# current state is illegal there and is refused ($!reject in session_act.rl).
#
#   idle              no poll held, no fetch
#   polling           a poll held, no fetch
#   pending           a fetch waits for the camera (connect grace armed)
#   delivered         the fetch's control message went out; no poll held
#                     (grace armed from the delivery)
#   delivered_polling delivered, and the camera polls again (grace still armed)
#   gone              delivered, then the camera vanished: its poll or its upload
#                     closed, or its id was revoked (grace armed)
#
# The connect grace (EV_GRACE) means "no camera" in pending and gone, and
# "the wake-up was lost" in delivered_polling: the delivery is that old, no
# stats came, so the held poll gets the same message again. In delivered
# (no poll) there is nothing to send it on; the next poll is told apart by
# its arrival time instead (EV_POLL_RESEND), so the api does not feed it.
#
# An upload that breaks off (EV_UPLOAD_GONE) counts as the camera vanishing
# (PROTOCOL.md, GET /logs 502) unless it still holds a poll: the fetch waits
# the grace for a retried upload (same request_id) or a new poll. A revoked
# camera (EV_REVOKE) vanishes the same way: its poll is refused, the grace
# runs, then 502.
%%{
machine session;
alphtype int;
import "session.h";

main := (
  start: (
      EV_POLL         @hold @in_polling -> polling
    | EV_LOGS         @wait_camera @in_pending -> pending
  ),
  polling: (
      EV_POLL         @supersede @in_polling -> polling
    | EV_POLL_TIMEOUT @release @in_idle -> start
    | EV_POLL_GONE    @forget @in_idle -> start
    | EV_REVOKE       @refuse @in_idle -> start
    | EV_LOGS         @deliver_held @in_delivered -> delivered
  ),
  pending: (
      EV_POLL         @deliver_new @in_delivered -> delivered
    | EV_STATS        @complete @in_idle -> start
    | EV_STATS_BAD    @fail @in_idle -> start
    | EV_GRACE        @unavailable @in_idle -> start
    | EV_ABANDON      @drop @in_idle -> start
    | EV_UPLOAD_GONE  @await @in_pending -> pending
  ),
  delivered: (
      EV_POLL         @hold @in_delivered_polling -> delivered_polling
    | EV_POLL_RESEND  @resend @in_delivered -> delivered
    | EV_STATS        @complete @in_idle -> start
    | EV_STATS_BAD    @fail @in_idle -> start
    | EV_ABANDON      @drop @in_idle -> start
    | (EV_UPLOAD_GONE | EV_REVOKE) @await @in_gone -> gone
  ),
  delivered_polling: (
      EV_POLL         @supersede @in_delivered_polling -> delivered_polling
    | EV_POLL_RESEND  @resend @in_delivered -> delivered
    | EV_POLL_TIMEOUT @release @in_delivered -> delivered
    | EV_REVOKE       @refuse_wait @in_gone -> gone
    | EV_UPLOAD_GONE  @rearm @in_delivered_polling -> delivered_polling
    | EV_GRACE        @resend_held @in_delivered -> delivered
    | EV_POLL_GONE    @forget_wait @in_gone -> gone
    | EV_STATS        @complete @in_polling -> polling
    | EV_STATS_BAD    @fail @in_polling -> polling
    | EV_ABANDON      @drop @in_polling -> polling
  ),
  gone: (
      (EV_POLL | EV_POLL_RESEND) @resend @in_delivered -> delivered
    | EV_STATS        @complete @in_idle -> start
    | EV_STATS_BAD    @fail @in_idle -> start
    | EV_GRACE        @fail @in_idle -> start
    | EV_ABANDON      @drop @in_idle -> start
    | (EV_UPLOAD_GONE | EV_REVOKE) @await @in_gone -> gone
  )
) $!reject;
}%%
