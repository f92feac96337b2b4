"""Operating a fleet (issue 24, items 2 and 6): connection history in the
api's log (one line per arrival and departure, with the address) and in the
camera's (one line per change of its connection), /cameras' filters, and
the messages that point an operator the right way. Real api and camera
processes over loopback.
"""
import json
import os
import re
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, get_json, hold_poll, http, wait_until  # noqa: E402


def lines(proc, pattern):
    return [l for l in proc.err_lines if re.search(pattern, l)]


def wait_line(proc, pattern, n=1, timeout=10):
    wait_until(lambda: len(lines(proc, pattern)) >= n, timeout,
               "%d line(s) /%s/ in %s's log" % (n, pattern, os.path.basename(proc.argv[0])))
    return lines(proc, pattern)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- connection history --------------------------------------------------------------------

def test_api_logs_arrival_and_departure_once_each():
    with Api("--poll-timeout", "1", "--connect-grace", "1") as api:
        with Camera(api.url, "--id", "hist1", "--source", "stdin", stdin=True) as cam:
            wait_line(cam, r"info camera: connected to the api server=" + re.escape(api.url))
            # Three answered polls (204 at --poll-timeout) later: still one arrival.
            wait_until(lambda: harness.metric(api, 'camlogs_control_replies_total{code="204"}')
                       >= 3, 15, "three polls answered")
            arrived = lines(api, r"info api: camera hist1 connected addr=127\.0\.0\.1:\d+$")
            assert len(arrived) == 1, api.stderr
            assert len(lines(cam, r"connected to the api")) == 1, cam.stderr
            cam.kill()  # its poll hangs up: gone at once, or a grace after its last reply
        gone = wait_line(api, r"camera hist1 gone")
        assert re.search(r"info api: camera hist1 gone(: its poll closed before a reply| after 1 s "
                         r"without a poll) addr=127\.0\.0\.1:\d+$", gone[0]), gone
        # A camera that stops polling after a reply: gone when the grace has passed.
        assert http("GET", api.url + "/control-channel?camera=hist2")[0] == 204
        wait_line(api, r"camera hist2 connected")
        gone = wait_line(api, r"camera hist2 gone")
        assert re.search(r"info api: camera hist2 gone after 1 s without a poll "
                         r"addr=127\.0\.0\.1:\d+$", gone[0]), gone
        assert len(lines(api, r"camera hist1 (connected|gone)")) == 2, api.stderr
        assert not get_json(api.url + "/cameras?connected=1")[1]


def test_connection_history_in_json():
    with Api("--poll-timeout", "1", "--connect-grace", "0.5", "--log-format", "json") as api:
        assert http("GET", api.url + "/control-channel?camera=j1")[0] == 204
        wait_line(api, r'"msg":"camera j1 gone after 0.5 s without a poll"')
    objs = [json.loads(l) for l in api.err_lines if "camera j1" in l]
    assert [o["msg"] for o in objs] == ["camera j1 connected",
                                        "camera j1 gone after 0.5 s without a poll"], objs
    assert all(o["level"] == "info" and re.fullmatch(r"127\.0\.0\.1:\d+", o["addr"])
               for o in objs), objs


def test_camera_logs_lost_and_connected_again_once_each():
    port = free_port()
    api = Api("--poll-timeout", "30", port=port)
    with Camera(api.url, "--id", "ch", "--source", "stdin", stdin=True) as cam:
        try:
            wait_line(cam, r"info camera: connected to the api")
            wait_until(lambda: harness.metric(api, "camlogs_polls_held") == 1, 10, "poll held")
            api.stop()  # the held poll gets 503 at shutdown; then connections are refused
            lost = wait_line(cam, r"connection lost")
            assert re.search(r"warn camera: connection lost: status 503; retry in", lost[0]), lost
            wait_line(cam, r"warn camera: poll: .*Couldn't connect", timeout=15)
            api = Api("--poll-timeout", "30", port=port)
            again = wait_line(cam, r"info camera: connected again after", timeout=40)
            assert re.search(r"connected again after [\d.]+ s \(\d+ failed polls\)", again[0])
            wait_until(lambda: harness.metric(api, "camlogs_polls_held") == 1, 10, "poll held")
            assert len(lines(cam, r"connection lost")) == 1, cam.stderr
            assert len(lines(cam, r"connected to the api")) == 1, cam.stderr
            assert len(again) == 1, cam.stderr
        finally:
            api.kill()
        cam.send_signal(signal.SIGTERM)
        cam.wait(10)


# --- /cameras filters ---------------------------------------------------------------------

def test_cameras_filters():
    with Api("--poll-timeout", "30", "--connect-grace", "0") as api:
        for i, c in enumerate(("door-1", "door-2", "yard-1")):
            hold_poll(api, c, i + 1)
        # door-3 held a poll and hung up: known, not connected.
        s = socket.create_connection(("127.0.0.1", api.port), timeout=5)
        s.sendall(b"GET /control-channel?camera=door-3 HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: harness.metric(api, "camlogs_polls_held") == 4, 10, "4 polls held")
        s.close()
        gone = wait_line(api, r"camera door-3 gone")
        assert re.search(r"info api: camera door-3 gone: its poll closed before a reply "
                         r"addr=127\.0\.0\.1:\d+$", gone[0]), gone
        ids = lambda q: [c["camera"] for c in get_json(api.url + "/cameras" + q)[1]]
        assert ids("") == ["door-1", "door-2", "door-3", "yard-1"]
        assert ids("?prefix=door-") == ["door-1", "door-2", "door-3"]
        assert ids("?prefix=") == ids("")
        assert ids("?connected=1&prefix=yard") == ["yard-1"]
        assert ids("?connected=1") == ["door-1", "door-2", "yard-1"]
        assert ids("?connected=0") == ["door-3"]
        assert ids("?connected=0&prefix=yard") == []
        for q, why in (("?connected=yes", "bad connected: expected 0 or 1"),
                       ("?connected=", "bad connected: expected 0 or 1"),
                       ("?prefix=a/b", "bad prefix: expected up to 64 of A-Z a-z 0-9 . _ -"),
                       ("?prefix=a&prefix=b", "repeated parameter prefix")):
            s, h, b = http("GET", api.url + "/cameras" + q)
            assert (s, h["content-type"], json.loads(b)) == \
                (400, "application/json", {"error": why}), (q, s, b)
        # /metrics and /healthz do not take them: ignored, as any unknown parameter.
        assert http("GET", api.url + "/metrics?connected=yes")[0] == 200


if __name__ == "__main__":
    harness.run(globals())
