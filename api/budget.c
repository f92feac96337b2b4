/* The descriptor budget (docs/API.md, "Descriptor budget"). Every held
 * request keeps its connection's descriptor: polls (--max-polls) and /logs
 * waiters (--max-waiters) share the open-file limit less a reserve, so
 * that /healthz, uploads, refusals and the api's own files always find one.
 * Connections that have not sent a request head yet have a cap of their own
 * (--max-pending, campath/pending.c), also outside what held requests get.
 * Over its cap a request is refused 503 at once and its connection closed. */
#include <sys/resource.h>

#include "api.h"
#include "process.h"
#include "log.h"

/* Descriptors never handed to held requests: the listener, the timerfd,
 * the hang-up epoll, the signalfd, stdio, a file being reloaded, and room
 * for the short requests (/healthz, /metrics, uploads, replies being
 * refused) that come and go meanwhile. */
#define BUDGET_RESERVE 64

static uint64_t limit_now; /* the open-file limit after raising it */

/* The open-file limit, raised to the hard limit. */
static uint64_t raise_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (uint64_t)rl.rlim_cur;
}

/* Connections before their request head (--max-pending): 1/16 of the
 * limit, 32 to 4096. They have descriptors of their own, outside the reserve. */
static uint64_t pending_default(uint64_t limit)
{
    uint64_t n = limit / 16;
    return n < 32 ? 32 : n > 4096 ? 4096 : n;
}

/* What held requests may use: the limit less the reserve and the pending
 * connections; under a very low limit, half of what is left. */
static uint64_t shared(uint64_t limit)
{
    uint64_t rest = limit > api_conf.max_pending ? limit - api_conf.max_pending : 0;
    return rest > 2 * BUDGET_RESERVE ? rest - BUDGET_RESERVE : rest / 2;
}

void budget_setup(void)
{
    limit_now = raise_limit();
    if (api_conf.max_pending == 0)
        api_conf.max_pending = pending_default(limit_now);
    uint64_t avail = shared(limit_now);
    /* Cameras outnumber operators: polls get three quarters. */
    if (api_conf.max_polls == 0)
        api_conf.max_polls = avail * 3 / 4 ? avail * 3 / 4 : 1;
    if (api_conf.max_waiters == 0)
        api_conf.max_waiters = avail - avail * 3 / 4 ? avail - avail * 3 / 4 : 1;
    if (api_conf.max_polls + api_conf.max_waiters > avail)
        log_msg(LOGL_WARN,
                "--max-polls %llu + --max-waiters %llu exceed the descriptor budget (%llu: the "
                "open-file limit %llu less %d): held requests can take every descriptor, and "
                "/healthz may then go unanswered",
                (unsigned long long)api_conf.max_polls, (unsigned long long)api_conf.max_waiters,
                (unsigned long long)avail, (unsigned long long)limit_now, BUDGET_RESERVE);
}

uint64_t budget_fd_limit(void)
{
    return limit_now;
}
