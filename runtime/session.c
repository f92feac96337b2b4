/* Names for the handshake's states and events (logs, tests); the machine
 * itself is generated from spec/session.rl into gen/session.c. */
#include "session.h"

const char *session_state_name(enum session_state st)
{
    static const char *names[SESSION__COUNT] = {
        "idle", "polling", "pending", "delivered", "delivered_polling", "gone",
    };
    return (unsigned)st < SESSION__COUNT ? names[st] : "?";
}

const char *session_event_name(int ev)
{
    static const char *names[EV__COUNT] = {
        "?",     "poll",      "poll_resend", "poll_timeout", "poll_gone", "logs",
        "stats", "stats_bad", "grace",       "abandon",      "revoke",    "upload_gone",
    };
    return ev > 0 && ev < EV__COUNT ? names[ev] : "?";
}
