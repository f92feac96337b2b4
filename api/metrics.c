/* Counters for /metrics and their text (Prometheus text exposition format
 * 0.0.4). A leaf: the gauges other rooms keep are handed in (status.c);
 * the limits are api_conf's, the process metrics procstat.c's. The names
 * are listed in docs/API.md ("Metrics"); deploy/prometheus and deploy/grafana
 * use them (tests/it/test_fleet_metrics.py checks every name they use). */
#include <string.h>

#include "api.h"
#include "camlogs_version.h"
#include "metrics.h"

static const int codes[] = {200, 204, 400, 401, 404, 405, 409, 413, 499, 502, 503, 504};
#define NCODES (sizeof(codes) / sizeof(codes[0]))
static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                 1,     2.5,   5,    10,    30,   60,  300};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

typedef struct hist {
    uint64_t n[NBUCKETS + 1]; /* per bucket, not cumulative; last = +Inf */
    double sum;
    uint64_t count;
} hist_t;

static const char *const auth_reasons[] = {"missing", "wrong", "revoked"};

static struct {
    uint64_t replies[M_OTHER][NCODES];
    uint64_t records;
    uint64_t stats_bytes; /* 1.2: /send-stats body bytes received */
    int64_t waiting;
    int64_t followers;                   /* 1.2: live /logs?follow=1 streams */
    uint64_t follow_events;              /* 1.2: events written to followers */
    hist_t latency, ok_latency;          /* every /logs reply; its 200s */
    uint64_t unauthorized[2][MA__COUNT]; /* [operator?][reason] */
} M;

void metrics_reply(enum metric_endpoint ep, int status)
{
    if (ep == M_OTHER)
        return;
    for (size_t i = 0; i < NCODES; i++)
        if (codes[i] == status)
            M.replies[ep][i]++;
}

static void observe(hist_t *h, double s)
{
    size_t i = 0;
    while (i < NBUCKETS && s > buckets[i])
        i++;
    h->n[i]++;
    h->sum += s;
    h->count++;
}

void metrics_logs_latency(double s, int status)
{
    observe(&M.latency, s);
    if (status == 200)
        observe(&M.ok_latency, s);
}

void metrics_unauthorized(bool operator, enum metric_auth why)
{
    M.unauthorized[operator][why]++;
}

void metrics_waiting(int delta)
{
    M.waiting += delta;
}

size_t metrics_waiting_now(void)
{
    return M.waiting > 0 ? (size_t)M.waiting : 0;
}

void metrics_followers(int delta)
{
    M.followers += delta;
}

void metrics_follow_events(uint64_t n)
{
    M.follow_events += n;
}

void metrics_stats_bytes(uint64_t n)
{
    M.stats_bytes += n;
}

void metrics_records(uint64_t n)
{
    M.records += n;
}

static void counter(buf_t *b, const char *name, const char *help, enum metric_endpoint ep)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i < NCODES; i++)
        buf_printf(b, "%s{code=\"%d\"} %llu\n", name, codes[i],
                   (unsigned long long)M.replies[ep][i]);
}

static void histogram(buf_t *b, const char *h, const char *help, const hist_t *m)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", h, help, h);
    uint64_t cum = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += m->n[i];
        buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", h, buckets[i], (unsigned long long)cum);
    }
    cum += m->n[NBUCKETS];
    buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", h,
               (unsigned long long)cum, h, m->sum, h, (unsigned long long)m->count);
}

static void unauthorized(buf_t *b)
{
    const char *n = "camlogs_unauthorized_total";
    buf_printf(b,
               "# HELP %s 401 replies by token kind and reason: missing (no token), wrong, "
               "revoked (camera id in --camera-revoked-file).\n# TYPE %s counter\n",
               n, n);
    for (int op = 0; op < 2; op++)
        for (int r = 0; r < MA__COUNT; r++)
            if (!op || r != MA_REVOKED)
                buf_printf(b, "%s{token=\"%s\",reason=\"%s\"} %llu\n", n,
                           op ? "operator" : "camera", auth_reasons[r],
                           (unsigned long long)M.unauthorized[op][r]);
}

static void limit(buf_t *b, const char *name, const char *flag, size_t v)
{
    buf_printf(b, "# HELP %s The api's %s.\n# TYPE %s gauge\n%s %zu\n", name, flag, name, name, v);
}

/* What does not change while the api runs: its build and its limits. */
static void fixed(buf_t *b)
{
    buf_printf(b,
               "# HELP camlogs_build_info The api's version and the wire contract's.\n"
               "# TYPE camlogs_build_info gauge\n"
               "camlogs_build_info{version=\"%s\",protocol=\"%s\"} 1\n",
               CAMLOGS_VERSION, CAMLOGS_PROTOCOL);
    limit(b, "camlogs_max_polls", "--max-polls", api_conf.max_polls);
    limit(b, "camlogs_max_waiters", "--max-waiters", api_conf.max_waiters);
    limit(b, "camlogs_max_cameras", "--max-cameras", api_conf.max_cameras);
}

void metrics_text(buf_t *b, const metrics_gauges_t *g)
{
    buf_printf(b,
               "# HELP camlogs_cameras_connected Cameras holding a poll, uploading, or answered "
               "less than --connect-grace ago.\n"
               "# TYPE camlogs_cameras_connected gauge\ncamlogs_cameras_connected %zu\n",
               g->connected);
    buf_printf(b,
               "# HELP camlogs_cameras_known Camera ids in the api's table (--max-cameras).\n"
               "# TYPE camlogs_cameras_known gauge\ncamlogs_cameras_known %zu\n",
               g->known);
    buf_printf(b,
               "# HELP camlogs_polls_held /control-channel requests held now.\n"
               "# TYPE camlogs_polls_held gauge\ncamlogs_polls_held %zu\n",
               g->polls);
    buf_printf(b,
               "# HELP camlogs_logs_waiting /logs requests waiting now.\n"
               "# TYPE camlogs_logs_waiting gauge\ncamlogs_logs_waiting %lld\n",
               (long long)M.waiting);
    counter(b, "camlogs_logs_replies_total", "/logs replies by status code.", M_LOGS);
    counter(b, "camlogs_send_stats_replies_total", "/send-stats replies by status code.", M_STATS);
    counter(b, "camlogs_control_replies_total", "/control-channel replies by status code.",
            M_CONTROL);
    buf_printf(b,
               "# HELP camlogs_records_relayed_total Records accepted from cameras.\n"
               "# TYPE camlogs_records_relayed_total counter\ncamlogs_records_relayed_total %llu\n",
               (unsigned long long)M.records);
    buf_printf(b,
               "# HELP camlogs_send_stats_body_bytes_total /send-stats body bytes received "
               "(framing removed).\n# TYPE camlogs_send_stats_body_bytes_total counter\n"
               "camlogs_send_stats_body_bytes_total %llu\n",
               (unsigned long long)M.stats_bytes);
    buf_printf(b,
               "# HELP camlogs_cache_bytes Bytes the cache of numbered events holds (all "
               "cameras).\n# TYPE camlogs_cache_bytes gauge\ncamlogs_cache_bytes %zu\n"
               "# HELP camlogs_cache_events Events the cache holds (all cameras).\n"
               "# TYPE camlogs_cache_events gauge\ncamlogs_cache_events %zu\n",
               g->cache_bytes, g->cache_events);
    buf_printf(b,
               "# HELP camlogs_followers /logs?follow=1 streams open now.\n"
               "# TYPE camlogs_followers gauge\ncamlogs_followers %lld\n"
               "# HELP camlogs_follow_events_total Events written to followers.\n"
               "# TYPE camlogs_follow_events_total counter\ncamlogs_follow_events_total %llu\n",
               (long long)M.followers, (unsigned long long)M.follow_events);
    histogram(b, "camlogs_logs_latency_seconds", "Time from /logs arrival to its reply.",
              &M.latency);
    histogram(b, "camlogs_logs_ok_latency_seconds",
              "Time from /logs arrival to its reply, 200 replies only.", &M.ok_latency);
    unauthorized(b);
    fixed(b);
    procstat_text(b);
}
