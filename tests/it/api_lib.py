"""The api conformance tests' client side (test_api*.py, test_leap.py): the
test acts as camera and operator itself, so these build upload bodies,
start polls and /logs requests, and check the replies' shapes."""
import json
import socket

from harness import Async, get_json, http, metric, wait_metric, wait_until

TS = "2026-11-28T06:44:%02d.000Z"


def stream(records, count=True):
    body = "".join(json.dumps({"description": d, "timestamp": t}) + "\n" for d, t in records)
    return (body + ("EOL %d\n" % len(records) if count else "EOL\n")).encode()


def connected(api, cam):
    _, cams = get_json(api.url + "/cameras")
    return any(c["camera"] == cam and c["connected"] for c in cams)


def poll(api, cam=None, held=1, timeout=10):
    """Starts a poll and waits until the api holds `held` polls in all (this
    one included), or until this one was answered."""
    q = "?camera=" + cam if cam else ""
    a = Async("GET", api.url + "/control-channel" + q, timeout=timeout)
    wait_until(lambda: a.done() or metric(api, "camlogs_polls_held") == held, 5,
               "%d polls held" % held)
    return a


def raw_poll(api, cam, held=1):
    """A poll on a raw socket (the test closes it); waits until it is held."""
    s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
    s.sendall(b"GET /control-channel?camera=%s HTTP/1.1\r\nHost: x\r\n\r\n" % cam.encode())
    wait_metric(api, "camlogs_polls_held", held)
    return s


def logs(api, query="", timeout=15):
    return Async("GET", api.url + "/logs" + ("?" + query if query else ""), timeout=timeout)


def waiting(api, n):
    """Waits until the api holds n /logs requests."""
    wait_metric(api, "camlogs_logs_waiting", n)


def upload(api, body, query=""):
    return http("POST", api.url + "/send-stats" + ("?" + query if query else ""), body=body,
                headers={"Content-Type": "application/x-ndjson"})


def accepted(resp, n):
    """Asserts an upload was taken: 200 {"accepted": n}."""
    s, _, b = resp
    assert (s, json.loads(b)) == (200, {"accepted": n}), (s, b)


def records(resp):
    """The records of a 200 /logs reply, as (description, timestamp) pairs."""
    s, h, b = resp
    assert s == 200 and h["content-type"] == "application/json", (s, b)
    out = json.loads(b)
    assert all(set(r) == {"description", "timestamp"} for r in out), out
    return [(r["description"], r["timestamp"]) for r in out]


def control(a):
    status, hdrs, body = a.result()
    assert status == 200, (status, body)
    assert hdrs["content-type"] == "application/json"
    return json.loads(body)


def err(resp, status):
    s, h, b = resp
    assert s == status, (s, b)
    assert h["content-type"] == "application/json", h
    return json.loads(b)
