#!/usr/bin/env python3
"""The table of scripts/bench_follow.sh: bench_follow's RESULT lines, Nchan
and ours side by side per scenario, with the goals of issue 22."""
import sys


def results(path):
    runs = {}
    for line in open(path):
        if not line.startswith("RESULT "):
            continue
        v = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
        runs[(v["label"], v["target"])] = v
    return runs


def num(v, k):
    try:
        return float(v[k])
    except (KeyError, ValueError, TypeError):
        return None


def fmt(x, digits=1):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}" if digits else f"{x:,.0f}"


def verdict(ours, peer, ratio=1.0, cap=None):
    if ours is None or peer is None:
        return "-"
    ok = ours <= peer * ratio and (cap is None or ours < cap)
    return "met" if ok else "**missed**"


def row(name, n, o, key, digits=1, scale=1.0, goal=""):
    a = num(n, key) if n else None
    b = num(o, key) if o else None
    a = a * scale if a is not None else None
    b = b * scale if b is not None else None
    print(f"| {name} | {fmt(a, digits)} | {fmt(b, digits)} | {goal} |")


def idle(n, o):
    row("followers open", n, o, "open", 0)
    row("server RSS MiB at the base", n, o, "rss1_kb", 1, 1 / 1024)
    row("server RSS MiB with all followers", n, o, "rss2_kb", 1, 1 / 1024)
    pn = num(n, "per_follower_b") if n else None
    po = num(o, "per_follower_b") if o else None
    row("**B of RSS per idle follower**", n, o, "per_follower_b", 0,
        goal=f"ours <= 0.5 x Nchan: {verdict(po, pn, 0.5)}")
    row("B of anonymous RSS per idle follower", n, o, "anon_per_follower_b", 0)
    row("server CPU % while idle (5 s)", n, o, "idle_cpu_pct", 2)


def load(n, o, latency_goal):
    row("followers open", n, o, "open", 0)
    row("events published", n, o, "published", 0)
    row("deliveries expected", n, o, "expected", 0)
    row("deliveries", n, o, "delivered", 0)
    row("lost", n, o, "lost", 0, goal="0")
    row("repeated or out of order", n, o, "repeated", 0, goal="0")
    row("latency p50 ms", n, o, "p50_ms", 2)
    row("latency p90 ms", n, o, "p90_ms", 2)
    p99n = num(n, "p99_ms") if n else None
    p99o = num(o, "p99_ms") if o else None
    goal = ""
    if latency_goal:
        goal = f"ours <= Nchan and < 20 ms: {verdict(p99o, p99n, 1.0, 20.0)}"
    row("**latency p99 ms**", n, o, "p99_ms", 2, goal=goal)
    row("latency max ms", n, o, "max_ms", 2)
    cn = num(n, "cpu_per_event_us") if n else None
    co = num(o, "cpu_per_event_us") if o else None
    row("**server CPU us per delivered event**", n, o, "cpu_per_event_us", 2,
        goal=f"ours <= Nchan: {verdict(co, cn)}" if latency_goal else "")
    row("server CPU % of one core over the run", n, o, "cpu_pct", 1)
    row("cameras' CPU us per delivered event (ours)", None, o, "cam_cpu_per_event_us", 2)
    row("the client's CPU us per delivered event", n, o, "client_cpu_per_event_us", 2)
    for k in ("gap", "offline", "online", "end", "closed", "refused", "connect_errs",
              "pub_failures", "unparsed"):
        if any(v and num(v, k) for v in (n, o)):
            row(f"{k} (count)", n, o, k, 0)
    row("s after the last publish until all delivered", n, o, "drain_s", 1)
    row("1-min load average at the end", n, o, "load_end", 2)


def main():
    runs = results(sys.argv[1])
    titles = {
        "idle": "idle followers of one camera / channel",
        "fanout": "1 camera / channel x followers",
        "cameras": "cameras / channels x 1 follower each",
        "light": "1 camera / channel x fewer followers",
    }
    for scen in ("idle", "fanout", "cameras", "light"):
        n, o = runs.get((scen, "nchan")), runs.get((scen, "ours"))
        if n is None and o is None:
            continue
        any_v = n or o
        rate = f", {any_v['rate']} events/s each" if scen != "idle" else ""
        print(f"{scen}: {titles[scen]} ({any_v['followers']} followers, "
              f"{any_v['channels']} channels{rate})\n")
        print("| measure | Nchan | ours | goal |")
        print("|---|---:|---:|---|")
        if scen == "idle":
            idle(n, o)
        else:
            load(n, o, scen == "fanout")
        print()


if __name__ == "__main__":
    main()
