/* bench_fleet --watch LABEL=PID: the RSS and CPU of processes besides the
 * api under test (the front door's nginx worker, more api processes),
 * sampled at the bench's phase points and summed per label, so that a run
 * through nginx splits memory per idle camera and CPU per /logs between
 * nginx and the api. Test-side code only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

#define FW_MAX 16

static struct {
    char label[16];
    pid_t pid;
    long rss[FW_PHASES];
    double cpu[FW_PHASES];
} W[FW_MAX];
static int nw;

int fw_add(const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof(W[0].label) || nw == FW_MAX ||
        atoi(eq + 1) <= 0)
        return -1;
    memcpy(W[nw].label, spec, (size_t)(eq - spec));
    W[nw].label[eq - spec] = '\0';
    W[nw].pid = (pid_t)atoi(eq + 1);
    nw++;
    return 0;
}

void fw_sample(int phase)
{
    for (int i = 0; i < nw; i++) {
        W[i].rss[phase] = fh_proc_kb(W[i].pid, "VmRSS");
        W[i].cpu[phase] = fh_proc_cpu(W[i].pid, NULL);
    }
}

/* Sums of label `l` at each phase. */
static void sums(const char *l, long rss[FW_PHASES], double cpu[FW_PHASES])
{
    memset(rss, 0, sizeof(long) * FW_PHASES);
    memset(cpu, 0, sizeof(double) * FW_PHASES);
    for (int i = 0; i < nw; i++) {
        if (strcmp(W[i].label, l) != 0)
            continue;
        for (int p = 0; p < FW_PHASES; p++) {
            rss[p] += W[i].rss[p];
            cpu[p] += W[i].cpu[p];
        }
    }
}

void fw_report(buf_t *text, buf_t *result, unsigned cameras, double idle_s, size_t nlogs)
{
    for (int i = 0; i < nw; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen = seen || strcmp(W[j].label, W[i].label) == 0;
        if (seen)
            continue;
        const char *l = W[i].label;
        long rss[FW_PHASES];
        double cpu[FW_PHASES];
        sums(l, rss, cpu);
        double per_cam = (double)(rss[FW_IDLE] - rss[FW_BEFORE]) * 1024.0 / cameras;
        double idle_pct = (cpu[FW_IDLE_END] - cpu[FW_IDLE]) / idle_s * 100;
        double per_logs = nlogs ? (cpu[FW_LOADED] - cpu[FW_IDLE_END]) / (double)nlogs * 1e6 : 0;
        buf_printf(text,
                   "  %s: RSS %.1f MiB before, %.1f MiB idle, %.1f MiB after load: %.0f B per "
                   "idle camera; CPU %.2f%% idle, %.1f us per /logs\n",
                   l, rss[FW_BEFORE] / 1024.0, rss[FW_IDLE] / 1024.0, rss[FW_LOADED] / 1024.0,
                   per_cam, idle_pct, per_logs);
        buf_printf(result,
                   " %s_rss0_kb=%ld %s_rss1_kb=%ld %s_rss2_kb=%ld %s_per_cam_b=%.0f "
                   "%s_cpu_idle_pct=%.2f %s_cpu_per_logs_us=%.1f",
                   l, rss[FW_BEFORE], l, rss[FW_IDLE], l, rss[FW_LOADED], l, per_cam, l, idle_pct,
                   l, per_logs);
    }
}
