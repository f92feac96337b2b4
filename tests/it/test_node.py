"""One api process as a node of a deployment (docs/DEPLOY.md, docs/API.md
"Several processes"): --node in /cameras and in request ids, rebalancing
(POST /rebalance, SIGUSR1, --rebalance-spread) and systemd readiness
(NOTIFY_SOCKET)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Async, http, wait_metric, wait_until  # noqa: E402

TMP = tempfile.mkdtemp(prefix="test_node.")
OP = "node-operator-token-0123456789"


def slack():
    return 3.0 if harness.sanitized() else 1.5


def ops_file():
    path = os.path.join(TMP, "operators")
    with open(path, "w") as f:
        f.write(OP + "\n")
    os.chmod(path, 0o600)
    return path


def poll(api, cam, timeout=30):
    return Async("GET", "%s/control-channel?camera=%s" % (api.url, cam), timeout=timeout)


class Timed(Async):
    def _run(self, *args, **kw):
        super()._run(*args, **kw)
        self.at = time.monotonic()


def test_node_flag_values():
    for bad in ("", "a.b", "x" * 33, "a b", "é"):
        p = subprocess.run([os.path.join(harness.BIN, "api"), "--node", bad],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2 and p.stderr.count("\n") == 1, (bad, p)
        assert "--node" in p.stderr, p.stderr
    for bad in ("-1", "x", "3601"):
        p = subprocess.run([os.path.join(harness.BIN, "api"), "--rebalance-spread", bad],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2 and "--rebalance-spread" in p.stderr, (bad, p)
    with Api("--node", "N-1_x" + "y" * 27) as api:  # 32 characters: the longest
        s, _, _ = http("GET", api.url + "/healthz")
        assert s == 200


def test_node_names_cameras_and_starts_request_ids():
    with Api("--node", "n7") as api:
        p = poll(api, "c1")
        wait_metric(api, "camlogs_polls_held", 1)
        w = Async("GET", api.url + "/logs?camera=c1&timeout=5")
        s, _, b = p.result(10)
        assert s == 200, (s, b)
        rid = json.loads(b)["request_id"]
        assert rid.startswith("n7.") and len(rid) <= 64, rid
        up = http("POST", "%s/send-stats?camera=c1&request_id=%s" % (api.url, rid),
                  body=b"EOL 0\n")
        assert up[0] == 200, up
        assert w.result(10)[0] == 200
        s, _, b = http("GET", api.url + "/cameras")
        assert json.loads(b) == [dict(json.loads(b)[0], camera="c1", node="n7")], b
    with Api() as api:  # without --node: no field, the id as before
        p = poll(api, "c1")
        wait_metric(api, "camlogs_polls_held", 1)
        w = Async("GET", api.url + "/logs?camera=c1&timeout=5")
        rid = json.loads(p.result(10)[2])["request_id"]
        assert rid.count(".") == 1 and len(rid.split(".")[0]) == 8, rid
        http("POST", "%s/send-stats?camera=c1&request_id=%s" % (api.url, rid), body=b"EOL 0\n")
        w.result(10)
        s, _, b = http("GET", api.url + "/cameras")
        assert "node" not in json.loads(b)[0], b


def test_rebalance_ends_held_polls_spread_over_the_spread():
    n = 10
    with Api("--node", "n1", "--rebalance-spread", "1", "--poll-timeout", "30") as api:
        polls = [Timed("GET", "%s/control-channel?camera=c%d" % (api.url, i), timeout=30)
                 for i in range(n)]
        wait_metric(api, "camlogs_polls_held", n)
        t0 = time.monotonic()
        s, h, b = http("POST", api.url + "/rebalance")
        assert s == 200 and h["content-type"] == "application/json", (s, h, b)
        assert json.loads(b) == {"polls": n, "spread": 1.0}, b
        late = poll(api, "late")  # arrives after the signal: left alone
        for p in polls:
            s, _, b = p.result(10)
            assert s == 204 and b == b"", (s, b)
        ends = sorted(p.at - t0 for p in polls)
        assert ends[0] < 0.1 + slack(), ends
        # i/n of the spread: the last at 0.9 s, none before its turn.
        assert 0.9 - 0.05 <= ends[-1] <= 0.9 + slack(), ends
        assert ends[n // 2] >= 0.5 - 0.05, ends
        time.sleep(0.3)  # past the spread: an answer that must not come has no event
        assert not late.done()
        wait_metric(api, "camlogs_polls_held", 1)
        s, _, b = http("POST", api.url + "/rebalance")
        assert json.loads(b)["polls"] == 1, b
        assert late.result(5)[0] == 204


def test_rebalance_needs_an_operator_and_post():
    with Api("--operator-token-file", ops_file()) as api:
        s, _, b = http("POST", api.url + "/rebalance")
        assert s == 401, (s, b)
        s, h, b = http("GET", api.url + "/rebalance", headers={"Authorization": "Bearer " + OP})
        assert s == 405 and h.get("allow") == "POST", (s, h)
        s, _, b = http("POST", api.url + "/rebalance?x=%zz",
                       headers={"Authorization": "Bearer " + OP})
        assert s == 400, (s, b)
        s, _, b = http("POST", api.url + "/rebalance", headers={"Authorization": "Bearer " + OP})
        assert s == 200 and json.loads(b)["polls"] == 0, (s, b)


def test_sigusr1_rebalances_and_the_api_stays_up():
    with Api("--rebalance-spread", "0.2", "--poll-timeout", "30") as api:
        ps = [poll(api, "s%d" % i) for i in range(3)]
        wait_metric(api, "camlogs_polls_held", 3)
        api.send_signal(signal.SIGUSR1)
        for p in ps:
            assert p.result(5)[0] == 204
        assert api.alive()
        wait_until(lambda: "rebalance (SIGUSR1): ending 3 held polls" in api.stderr, 5,
                   "the rebalance log line")
        s, _, _ = http("GET", api.url + "/healthz")
        assert s == 200


def test_rebalance_leaves_a_fetch_in_flight_alone():
    """A camera woken before the rebalance still completes its fetch: the
    rebalance only ends its next, held poll."""
    with Api("--node", "n1", "--rebalance-spread", "0") as api:
        p1 = poll(api, "f1")
        wait_metric(api, "camlogs_polls_held", 1)
        w = Async("GET", api.url + "/logs?camera=f1&timeout=10")
        rid = json.loads(p1.result(10)[2])["request_id"]
        p2 = poll(api, "f1")
        wait_metric(api, "camlogs_polls_held", 1)
        http("POST", api.url + "/rebalance")
        assert p2.result(5)[0] == 204
        body = b'{"description":"d","timestamp":"2026-01-01T00:00:00Z"}\nEOL 1\n'
        s, _, b = http("POST", "%s/send-stats?camera=f1&request_id=%s" % (api.url, rid), body=body)
        assert s == 200, (s, b)
        s, _, b = w.result(10)
        assert s == 200 and json.loads(b)[0]["description"] == "d", (s, b)


def notify_socket(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(name if not name.startswith("@") else "\0" + name[1:])
    s.settimeout(30)
    return s


def test_ready_notification_after_listening():
    for name in (os.path.join(TMP, "notify.sock"), "@camlogs-test-notify-%d" % os.getpid()):
        s = notify_socket(name)
        os.environ["NOTIFY_SOCKET"] = name
        try:
            with Api() as api:
                msg = s.recv(256)
                assert msg == b"READY=1", msg
                socket.create_connection(("127.0.0.1", api.port), timeout=5).close()
        finally:
            del os.environ["NOTIFY_SOCKET"]
            s.close()
    with Api() as api:  # without NOTIFY_SOCKET nothing is sent, nothing breaks
        assert http("GET", api.url + "/healthz")[0] == 200


if __name__ == "__main__":
    harness.run(globals())
