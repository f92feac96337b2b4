"""Metrics for a fleet (issue 24, item 3): the latency histogram of 200s,
401s by token kind and reason, build info, the limits as gauges, the
process metrics in Prometheus' standard names; and the alert rules and
dashboard in deploy/ name only metrics a live /metrics has. Real api
processes over loopback.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Api, Async, bearer, cam_token, hold_poll, http, metric,  # noqa: E402
                     private_file)

TMP = tempfile.mkdtemp(prefix="test_fleet_metrics.")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SECRET = b"fleet-metrics-secret-0123456789"
OP = "fleet-operator-token-0123456789"
TS = "2026-11-28T06:44:%02d.000Z"


def write(name, data):
    return private_file(TMP, name, data)


def secured(*args):
    """An api with a camera secret, an operator token and a revoked id."""
    return Api("--camera-secret-file", write("secret", SECRET + b"\n"),
               "--operator-token-file", write("tokens", OP + "\n"),
               "--camera-revoked-file", write("revoked", "gone-cam\n"), *args)


def samples(api):
    """{sample name with its labels: value} of a live /metrics (operator token)."""
    s, h, b = http("GET", api.url + "/metrics", headers=bearer(OP))
    assert s == 200 and h["content-type"].startswith("text/plain"), (s, b)
    out = {}
    for line in b.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


# --- counters and gauges ---------------------------------------------------------------

def test_unauthorized_is_split_by_token_and_reason():
    with secured() as api:
        u = api.url
        assert http("GET", u + "/control-channel?camera=c1")[0] == 401  # missing
        assert http("GET", u + "/control-channel?camera=c1", headers=bearer("x" * 64))[0] == 401
        assert http("GET", u + "/control-channel?camera=c1", headers={"Authorization": "Basic x"})[0] == 401
        tok = cam_token(SECRET, "gone-cam")
        assert http("GET", u + "/control-channel?camera=gone-cam", headers=bearer(tok))[0] == 401
        assert http("POST", u + "/send-stats?camera=gone-cam", body=b"EOL\n",
                    headers=bearer(tok))[0] == 401
        assert http("GET", u + "/cameras")[0] == 401
        assert http("GET", u + "/logs?camera=c1", headers=bearer("nope"))[0] == 401
        got = {k: v for k, v in samples(api).items() if k.startswith("camlogs_unauthorized_total")}
    want = {'camlogs_unauthorized_total{token="camera",reason="missing"}': 2,
            'camlogs_unauthorized_total{token="camera",reason="wrong"}': 1,
            'camlogs_unauthorized_total{token="camera",reason="revoked"}': 2,
            'camlogs_unauthorized_total{token="operator",reason="missing"}': 1,
            'camlogs_unauthorized_total{token="operator",reason="wrong"}': 1}
    assert got == want, got


def test_ok_latency_counts_only_200s():
    with Api("--connect-grace", "0.5") as api:
        u = api.url
        p = hold_poll(api, "lat", 1)
        op = Async("GET", u + "/logs?camera=lat", timeout=15)
        assert p.result()[0] == 200
        body = json.dumps({"description": "a", "timestamp": TS % 1}) + "\nEOL 1\n"
        s, _, b = http("POST", u + "/send-stats?camera=lat", body=body.encode())
        assert s == 200, b
        assert op.result()[0] == 200
        # A /logs for a camera with no poll: 503 once the grace passes.
        assert http("GET", u + "/logs?camera=nobody&timeout=0.2")[0] in (503, 504)
        assert metric(api, "camlogs_logs_latency_seconds_count") == 2
        assert metric(api, "camlogs_logs_ok_latency_seconds_count") == 1
        assert metric(api, 'camlogs_logs_ok_latency_seconds_bucket{le="+Inf"}') == 1
        assert 0 < metric(api, "camlogs_logs_ok_latency_seconds_sum") <= \
            metric(api, "camlogs_logs_latency_seconds_sum")


def test_build_info_limits_and_process_metrics():
    t0 = time.time()
    with Api("--max-polls", "123", "--max-waiters", "45", "--max-cameras", "678") as api:
        got = samples(api)
        with open("/proc/%d/limits" % api.p.pid) as f:
            nofile = [l for l in f if l.startswith("Max open files")][0].split()[3]
        fds = len(os.listdir("/proc/%d/fd" % api.p.pid))
    out = harness.subprocess.run([os.path.join(harness.BIN, "api"), "--version"],
                                 capture_output=True, text=True, timeout=10).stdout
    version, protocol = re.fullmatch(r"api (.+) \(protocol (\S+)\)\n", out).groups()
    assert got['camlogs_build_info{version="%s",protocol="%s"}' % (version, protocol)] == 1, got
    assert (got["camlogs_max_polls"], got["camlogs_max_waiters"], got["camlogs_max_cameras"]) \
        == (123, 45, 678), got
    assert got["process_max_fds"] == float(nofile), (got, nofile)
    assert 5 <= got["process_open_fds"] <= fds + 2, (got, fds)
    assert got["process_resident_memory_bytes"] > 1 << 20, got
    assert got["process_virtual_memory_bytes"] >= got["process_resident_memory_bytes"], got
    assert t0 - 2 <= got["process_start_time_seconds"] <= time.time() + 1, (t0, got)
    assert got["process_cpu_seconds_total"] >= 0, got


# --- deploy/: the rules and the dashboard --------------------------------------------------

NAME = re.compile(r"\b((?:camlogs|process)_[a-z_]+)(\{[^}]*\})?")


def names_in(expr):
    """The metric names (ours and the process') a PromQL expression uses, with
    the label names each selector matches on."""
    out = []
    for name, sel in NAME.findall(expr):
        labels = re.findall(r"([a-z_]+)\s*(?:=~|!=|!~|=)", sel) if sel else []
        out.append((name, [l for l in labels if l != "instance"]))  # Prometheus' own label
    return out


def alert_exprs():
    with open(os.path.join(ROOT, "deploy", "prometheus", "camlogs-alerts.yml")) as f:
        text = f.read()
    rules = re.split(r"\n\s+- alert: ", text)[1:]
    assert len(rules) >= 10, "expected at least 10 alerts, found %d" % len(rules)
    out = []
    for r in rules:
        name = r.split("\n", 1)[0]
        assert re.match(r"Camlogs[A-Za-z]+$", name), name
        expr = re.search(r"\n\s+expr: (.+)\n", r)
        assert expr, "alert %s has no one-line expr" % name
        assert re.search(r"\n\s+severity: (critical|warning|info)\n", r), name
        assert re.search(r"\n\s+summary: \".+\"", r), name
        out.append((name, expr.group(1)))
    return out


def dashboard_exprs():
    with open(os.path.join(ROOT, "deploy", "grafana", "camlogs-dashboard.json")) as f:
        d = json.load(f)
    assert d["uid"] == "camlogs-api" and d["panels"], d.get("uid")
    out = [(p["title"], t["expr"]) for p in d["panels"] for t in p["targets"]]
    out += [("variable " + v["name"], v["query"]) for v in d["templating"]["list"]
            if v["type"] == "query"]
    return out


def test_alerts_and_dashboard_name_live_metrics():
    with secured("--connect-grace", "0.5") as api:
        live = samples(api)
    series = {}
    for k in live:
        name, _, labels = k.partition("{")
        series.setdefault(name, set()).update(re.findall(r"([a-z_]+)=\"", labels))
    used = set()
    for where, expr in alert_exprs() + dashboard_exprs():
        found = names_in(expr)
        assert found, "%s names no metric: %s" % (where, expr)
        for name, labels in found:
            assert name in series, "%s: %s is not in /metrics" % (where, name)
            for l in labels:
                assert l in series[name], "%s: %s has no label %s" % (where, name, l)
            used.add(name)
    for must in ("camlogs_cameras_connected", "camlogs_logs_ok_latency_seconds_bucket",
                 "camlogs_unauthorized_total", "camlogs_build_info", "camlogs_max_polls",
                 "process_open_fds", "process_max_fds", "process_resident_memory_bytes",
                 "process_start_time_seconds"):
        assert must in used, "deploy/ does not use %s" % must


def test_a_misspelt_metric_would_be_caught():
    """The check above can fail: a name not in /metrics is reported."""
    with Api() as api:
        live = samples_open(api)
    assert "camlogs_polls_held" in live and "camlogs_polls_hold" not in live
    assert names_in('rate(camlogs_polls_hold{code="1"}[5m])') == [("camlogs_polls_hold", ["code"])]


def samples_open(api):
    s, _, b = http("GET", api.url + "/metrics")
    assert s == 200
    return {l.split("{")[0].split(" ")[0] for l in b.decode().splitlines() if l[:1] != "#"}


if __name__ == "__main__":
    try:
        harness.run(dict(globals()))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
