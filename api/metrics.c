/* Counters for /metrics and their text (Prometheus text exposition format
 * 0.0.4). A leaf: the gauges other rooms keep are handed in (status.c). */
#include <string.h>

#include "metrics.h"

static const int codes[] = {200, 204, 400, 401, 404, 405, 409, 413, 499, 502, 503, 504};
#define NCODES (sizeof(codes) / sizeof(codes[0]))
static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                 1,     2.5,   5,    10,    30,   60,  300};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static struct {
    uint64_t replies[M_OTHER][NCODES];
    uint64_t records;
    uint64_t stats_bytes; /* 1.2: /send-stats body bytes received */
    int64_t waiting;
    uint64_t latency[NBUCKETS + 1]; /* per bucket, not cumulative; last = +Inf */
    double latency_sum;
    uint64_t latency_count;
} M;

void metrics_reply(enum metric_endpoint ep, int status)
{
    if (ep == M_OTHER)
        return;
    for (size_t i = 0; i < NCODES; i++)
        if (codes[i] == status)
            M.replies[ep][i]++;
}

void metrics_logs_latency(double s)
{
    size_t i = 0;
    while (i < NBUCKETS && s > buckets[i])
        i++;
    M.latency[i]++;
    M.latency_sum += s;
    M.latency_count++;
}

void metrics_waiting(int delta)
{
    M.waiting += delta;
}

size_t metrics_waiting_now(void)
{
    return M.waiting > 0 ? (size_t)M.waiting : 0;
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
    const char *h = "camlogs_logs_latency_seconds";
    buf_printf(b, "# HELP %s Time from /logs arrival to its reply.\n# TYPE %s histogram\n", h, h);
    uint64_t cum = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += M.latency[i];
        buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", h, buckets[i], (unsigned long long)cum);
    }
    cum += M.latency[NBUCKETS];
    buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", h,
               (unsigned long long)cum, h, M.latency_sum, h, (unsigned long long)M.latency_count);
}
