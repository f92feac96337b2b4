"""`since` and the join rule order instants as UTC does, leap seconds
included (contract v1.1; docs/TIMESTAMPS.md "Order"), over real HTTP on
loopback. Like test_api.py, the test is the camera (it polls and uploads by
hand), so the api's own filter and join rule are what is checked.
"""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Api, Async, run  # noqa: E402
from api_lib import accepted, control, logs, poll, records, stream, upload, waiting  # noqa: E402

# Records around the leap second at the end of 2016, in UTC order.
LEAP = ["2016-12-31T23:59:59.9Z", "2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z",
        "2017-01-01T00:59:60.7+01:00", "2017-01-01T00:00:00Z", "2017-01-01T00:00:00.2Z"]


def since_q(t):
    return "since=" + urllib.parse.quote(t, safe="")


def test_since_orders_leap_seconds_as_utc():
    """v1.1: `since` orders instants as UTC, leap seconds included (second 60
    after :59.x, before the next :00, fractions of it as usual, offsets
    applied). The test is the camera and sends every record, so the reply is
    the api's own filter."""
    cases = [("2016-12-31T23:59:60Z", LEAP[2:]),
             ("2017-01-01T00:59:60+01:00", LEAP[2:]),
             ("2016-12-31T23:59:59.999999999Z", LEAP[1:]),
             ("2016-12-31T23:59:60.5Z", LEAP[3:]),
             ("2016-12-31T23:59:60.7Z", LEAP[4:]),
             ("2016-12-31T23:59:60.999999999Z", LEAP[4:]),
             ("2017-01-01T00:00:00Z", LEAP[5:]),
             ("2017-01-01T00:00:00.3Z", [])]
    recs = [("e%d" % i, t) for i, t in enumerate(LEAP)]
    with Api() as api:
        for since, want in cases:
            p = poll(api, "leap")
            op = logs(api, "camera=leap&" + since_q(since))
            msg = control(p)
            assert msg["since"] == since, msg
            accepted(upload(api, stream(recs), "camera=leap&request_id=" + msg["request_id"]),
                     len(recs))
            got = [t for _, t in records(op.result())]
            assert got == want, (since, got, want)


def test_join_rule_orders_leap_seconds_as_utc():
    """The join rule compares sinces in UTC order too. Delivered: a fetch
    since 00:00:00.2 does not hold what a joiner since 23:59:60.5 needs, so the
    joiner waits for its own fetch (the camera here honours `since`, as ours
    does). Undelivered: the earlier since wins the widening."""
    with Api() as api:
        p = poll(api, "lj")
        a = logs(api, "camera=lj&" + since_q(LEAP[5]))
        m1 = control(p)
        assert m1["since"] == LEAP[5], m1
        p2 = poll(api, "lj")
        b = logs(api, "camera=lj&" + since_q(LEAP[2]))
        waiting(api, 2)
        accepted(upload(api, stream([]), "camera=lj&request_id=" + m1["request_id"]), 0)
        assert records(a.result()) == []
        m2 = control(p2)  # b's own fetch: it did not join m1
        assert m2["since"] == LEAP[2] and m2["request_id"] != m1["request_id"], m2
        recs = [("e%d" % i, t) for i, t in enumerate(LEAP) if i > 2]
        accepted(upload(api, stream(recs), "camera=lj&request_id=" + m2["request_id"]), 3)
        assert records(b.result()) == recs
    with Api("--connect-grace", "5") as api:
        a = logs(api, "camera=lw&" + since_q(LEAP[5]))
        b = logs(api, "camera=lw&" + since_q("2017-01-01T00:59:60.5+01:00"))
        waiting(api, 2)  # b joined the undelivered fetch and widened its since
        msg = control(Async("GET", api.url + "/control-channel?camera=lw"))
        assert msg["since"] == "2017-01-01T00:59:60.5+01:00", msg
        recs = [("e%d" % i, t) for i, t in enumerate(LEAP) if i > 2]
        accepted(upload(api, stream(recs), "camera=lw&request_id=" + msg["request_id"]), 3)
        assert records(a.result()) == []
        assert records(b.result()) == recs


if __name__ == "__main__":
    run(globals())
