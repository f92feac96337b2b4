"""The camera's follow upload (PROTOCOL.md 1.2, the wake-up's "follow":S;
docs/CAMERA.md "Follow uploads"): a chunked /send-stats of the selected
events, then each new event as it is made, then `EOL <count>` after S
seconds, or at once on SIGTERM; retried as a fresh stream; ended by a newer
wake-up; with --store nothing reaches the wire before the store has it.

(tests/it/test_follow.py is about the file source, --source file:PATH.)

The api does not ask for follow uploads yet, so the camera runs against
streamfake.py, a fake api on a raw socket that notes when each line of an
upload arrives. Latencies are printed, never asserted: the assertions are on
what arrives and in which order, each wait with a deadline.
"""
import glob
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Camera, wait_until  # noqa: E402
from streamfake import StreamFake  # noqa: E402
from camfake import exit_fast, feed  # noqa: E402
from store_lib import refused, shimmed  # noqa: E402
from test_numbers import parse_numbered  # noqa: E402


def camera(fake, *args, cam_id="f1"):
    """A camera reading stdin, once its first poll is held."""
    with fake.cv:
        polls = len(fake.polls)
    c = Camera(fake.url, "--id", cam_id, "--source", "stdin", *args, stdin=True)
    fake.wait_poll(polls + 1)
    return c


def descs(recs):
    return [r["description"] for r in recs]


def has(desc):
    return lambda r: r["description"] == desc


def live(fake, c, up, desc, timeout=10):
    """Writes one line to the camera's stdin and waits for it on the
    upload's wire; returns the latency (printed by the caller)."""
    t0 = time.monotonic()
    feed(c, [desc])
    fake.wait(lambda: up.line_time(has(desc)) is not None, timeout, "%s on the wire" % desc)
    return up.line_time(has(desc)) - t0


def test_follow_upload_is_chunked_live_and_ends_after_s():
    """The selection first, then each new event within the deadline of its
    line on stdin, then EOL with the count, no earlier than S seconds after
    the wake-up; the api's 200 ends it and the camera goes on polling."""
    with StreamFake() as fake, camera(fake) as c:
        feed(c, ["old1", "old2"])
        fake.wait_poll()
        held = len(fake.polls)  # the poll r0 wakes
        fake.wake(dict(request_id="r0", camera="f1"))
        up0 = fake.upload(0)
        fake.wait_end(up0, 10)
        assert descs(up0.records()) == ["old1", "old2"], up0.raw
        assert up0.headers.get("content-length"), up0.headers  # an ordinary upload
        fake.wait_poll(held + 1)  # the next (it may come before the upload ends)
        t_wake = fake.wake(dict(request_id="r1", camera="f1", after="%s:1" % up0.query["epoch"],
                                follow=3))
        up = fake.upload(1)
        assert up.headers.get("transfer-encoding", "").lower() == "chunked", up.headers
        assert "content-length" not in up.headers, up.headers
        assert up.query["request_id"] == "r1" and up.query["epoch"] == up0.query["epoch"]
        fake.wait_lines(up, 1)
        assert descs(up.records()) == ["old2"]  # after :1
        lat = [live(fake, c, up, "live%d" % i) for i in range(1, 4)]
        print("  event -> wire: %s ms" % ", ".join("%.1f" % (x * 1000) for x in lat))
        fake.wait_end(up, 3 + 10)
        assert up.done and not up.broken
        recs, eol = parse_numbered(up.raw)
        assert descs(recs) == ["old2", "live1", "live2", "live3"] and eol == b"EOL 4", up.raw
        assert [r["seq"] for r in recs] == [2, 3, 4, 5], recs
        assert up.t_end - t_wake >= 3.0, up.t_end - t_wake  # never before S seconds
        print("  EOL %.2f s after the wake-up (follow=3)" % (up.t_end - t_wake))
        wait_until(lambda: "upload request_id=r1: 200, 4 records" in c.stderr, 10, "the 200 line")
        assert "follow upload request_id=r1: 1 records, then live for 3 s" in c.stderr
        assert any(up.t0 < t < up.t_end for t, _ in fake.polls)  # polling went on
        exit_fast(c)


def test_sigterm_ends_the_stream_with_eol_at_once():
    """follow=60: SIGTERM sends the EOL line at once, the upload is answered
    and the camera exits 0 within the signal limit."""
    with StreamFake() as fake, camera(fake) as c:
        fake.wake(dict(request_id="s1", camera="f1", follow=60))
        up = fake.upload(0)
        live(fake, c, up, "only")
        t0 = time.monotonic()
        c.send_signal(signal.SIGTERM)
        fake.wait_end(up, harness.signal_limit())
        assert up.done and not up.broken, up.raw
        recs, eol = parse_numbered(up.raw)
        assert descs(recs) == ["only"] and eol == b"EOL 1", up.raw
        print("  EOL %.1f ms after SIGTERM" % ((up.t_end - t0) * 1000))
        assert c.wait(harness.signal_limit() + 1) == 0, c.stderr
        c.join_stderr()
        assert "upload request_id=s1: 200, 1 records" in c.stderr, c.stderr


def test_sigterm_waits_no_longer_for_an_answer_that_does_not_come():
    """The api takes the EOL line but does not answer: the camera still exits
    0 within the signal limit (it waits at most 0.5 s for the answer)."""
    with StreamFake() as fake, camera(fake) as c:
        fake.answer_gate.clear()
        fake.wake(dict(request_id="q", camera="f1", follow=60))
        up = fake.upload(0)
        live(fake, c, up, "e")
        t0 = time.monotonic()
        c.send_signal(signal.SIGTERM)
        fake.wait_end(up, harness.signal_limit())
        assert up.done and up.raw.endswith(b"EOL 1\n"), up.raw
        assert c.wait(harness.signal_limit()) == 0, c.stderr
        print("  exited %.2f s after SIGTERM, unanswered" % (time.monotonic() - t0))


def test_follow_upload_over_tls():
    """https (TLS 1.3: the server's session tickets arrive on the paused
    connection, unread by curl): the stream stays live for its window."""
    import security_lib
    security_lib.make_certs()
    tls = tuple(os.path.join(security_lib.TMP, "srv." + x) for x in ("pem", "key"))
    with StreamFake(tls=tls) as fake, camera(
            fake, "--cacert", os.path.join(security_lib.TMP, "ca.pem")) as c:
        t_wake = fake.wake(dict(request_id="tls", camera="f1", follow=2))
        up = fake.upload(0)
        # The fake's handshake wrote the tickets before it read the head, so
        # they are in the camera's receive queue now; the camera, paused,
        # must let curl take them in (docs/CAMERA.md): the queue empties.
        wait_until(lambda: harness.tcp_socket(up.peer)["rx"] == 0, 10,
                   "the session tickets read by the camera")
        live(fake, c, up, "secret")
        fake.wait_end(up, 2 + 10)
        recs, eol = parse_numbered(up.raw)
        assert descs(recs) == ["secret"] and eol == b"EOL 1", up.raw
        assert up.t_end - t_wake >= 2.0, up.t_end - t_wake
        exit_fast(c)


def test_a_failed_stream_is_retried_as_a_fresh_one():
    """The connection breaks after a live event: the retry (same request_id)
    sends the selection and every event since the wake-up again, then goes
    on live until the window's end."""
    with StreamFake() as fake, camera(fake) as c:
        feed(c, ["old"])
        fake.wait_poll()
        held = len(fake.polls)  # the poll x0 wakes
        fake.wake(dict(request_id="x0", camera="f1"))
        fake.wait_end(fake.upload(0), 10)
        # the poll after it (counted from before the wake-up: it may come
        # at once, before the upload ends: the camera's early slot)
        fake.wait_poll(held + 1)
        fake.cut_after[1] = 2  # old, live1: then the fake hangs up
        fake.wake(dict(request_id="x1", camera="f1", follow=4))
        up = fake.upload(1)
        live(fake, c, up, "live1")
        fake.wait_end(up, 10)
        assert up.broken
        again = fake.upload(2)
        assert again.query["request_id"] == "x1" and again.query["first"] == up.query["first"]
        fake.wait_lines(again, 2)
        assert descs(again.records()) == ["old", "live1"], again.raw
        live(fake, c, again, "live2")
        fake.wait_end(again, 4 + 10)
        recs, eol = parse_numbered(again.raw)
        assert descs(recs) == ["old", "live1", "live2"] and eol == b"EOL 3", again.raw
        wait_until(lambda: "upload request_id=x1: 200, 3 records (attempt 2)" in c.stderr, 10,
                   "the 200 line")
        exit_fast(c)


def test_a_newer_wakeup_ends_the_stream_the_same_one_is_ignored():
    """A wake-up with the request_id being streamed changes nothing; one
    with another request_id ends the stream with its EOL line (the api has
    moved on) and gets its own upload."""
    with StreamFake() as fake, camera(fake) as c:
        fake.wake(dict(request_id="a", camera="f1", follow=30))
        up = fake.upload(0)
        fake.wait_poll(2)
        fake.wake(dict(request_id="a", camera="f1", follow=30))
        fake.wait_poll(3)  # the camera took it (and polls again)
        live(fake, c, up, "e1")
        assert len(fake.uploads) == 1 and not up.done
        fake.wake(dict(request_id="b", camera="f1"))
        fake.wait_end(up, 10)
        recs, eol = parse_numbered(up.raw)
        assert descs(recs) == ["e1"] and eol == b"EOL 1", up.raw
        b = fake.upload(1)
        fake.wait_end(b, 10)
        assert b.query["request_id"] == "b" and descs(b.records()) == ["e1"], b.raw
        exit_fast(c)


def test_an_early_answer_ends_the_stream():
    """The api refuses the upload at its head (409, then would read and drop
    the body): the camera sees the answer on the paused connection and the
    upload is over at once, not after S (curl stops sending a body once a
    refusal came and closes the connection), dropped as any 409."""
    with StreamFake() as fake, camera(fake) as c:
        fake.early[0] = 409
        fake.wake(dict(request_id="gone", camera="f1", follow=30))
        up = fake.upload(0)
        fake.wait_end(up, 10)
        assert up.raw in (b"", b"EOL 0\n"), up.raw
        wait_until(lambda: "upload request_id=gone: status 409" in c.stderr, 10, "the 409 line")
        exit_fast(c)


def test_synthetic_events_stream_too():
    """--source synthetic (--interval 0.2): the events the timer makes go out
    on the stream (the loop resumes it after its tick), numbered without a
    gap from the selection's end to the EOL line."""
    with StreamFake() as fake:
        c = Camera(fake.url, "--id", "f1", "--interval", "0.2")
        with c:
            fake.wait_poll(1)
            fake.wake(dict(request_id="t", camera="f1", follow=2))
            up = fake.upload(0)
            fake.wait_lines(up, 1)  # a live event while the window is open
            assert not up.done
            fake.wait_end(up, 2 + 10)
            recs, eol = parse_numbered(up.raw)
            seqs = [r["seq"] for r in recs]
            assert len(recs) >= 2 and seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
            exit_fast(c)


def test_max_body_ends_the_stream_early():
    """The next line would take the upload past --max-body: EOL at once;
    that event waits for the next fetch."""
    with StreamFake() as fake, camera(fake, "--max-body", "4096") as c:
        fake.wake(dict(request_id="m", camera="f1", follow=60))
        up = fake.upload(0)
        for i in range(3):  # 1,080 bytes a line with its stamp and seq
            live(fake, c, up, "%d %s" % (i, "x" * 1000))
        feed(c, ["3 " + "x" * 1000])
        fake.wait_end(up, 10)
        recs, eol = parse_numbered(up.raw)
        assert len(up.raw) <= 4096 and eol == b"EOL 3", up.raw
        fake.wait_poll(len(fake.polls))
        fake.wake(dict(request_id="n", camera="f1"))
        nxt = fake.upload(1)
        fake.wait_end(nxt, 10)
        assert descs(nxt.records())[-1].startswith("3 "), nxt.raw
        exit_fast(c)


def _stored(store):
    data = b""
    for p in sorted(glob.glob(os.path.join(store, "*.eol"))):
        with open(p, "rb") as f:
            data += f.read()
    return data


def test_store_durability_nothing_on_the_wire_before_the_store_has_it():
    """--store with --fsync always: each live line is in the store's
    segments when it arrives (checked by the fake as it arrives); while
    writes fail, a new event stays off the wire; once the store writes
    again it goes out on the same stream."""
    d = tempfile.mkdtemp()
    store, fail = os.path.join(d, "store"), os.path.join(d, "write")
    unstored = []

    def check(up, line):  # runs in the fake's reader as the line arrives
        if line.startswith(b"EOL"):
            return
        plain = line[:line.rindex(b',"seq":')] + b"}\n"
        if plain not in _stored(store):
            unstored.append(line)

    try:
        with StreamFake() as fake:
            fake.on_line = check
            with shimmed(d, "--fsync", "always", server=fake.url) as c:
                fake.wait_poll(1)
                fake.wake(dict(request_id="d", camera="s1", follow=60))
                up = fake.upload(0)
                live(fake, c, up, "ok1")
                open(fail, "w").close()
                feed(c, ["late"])
                wait_until(lambda: "events kept in memory, retrying" in c.stderr, 10,
                           "the store's failure line")
                # A wrong camera sends it in the turn that failed to store it;
                # the store's next attempt (a second later) is turns after that.
                n = refused(d)
                wait_until(lambda: refused(d) > n, 10, "the store's next attempt")
                assert up.line_time(has("late")) is None, up.raw
                t_ok = time.monotonic()
                os.unlink(fail)
                fake.wait(lambda: up.line_time(has("late")) is not None, 40, "late")
                assert up.line_time(has("late")) >= t_ok
                wait_until(lambda: "writing again" in c.stderr, 10, "the store's line")
                exit_fast(c)
                fake.wait_end(up, 5)
                recs, eol = parse_numbered(up.raw)
                assert descs(recs) == ["ok1", "late"] and eol == b"EOL 2", up.raw
        assert not unstored, unstored
    finally:
        if os.path.exists(fail):
            os.unlink(fail)
        shutil.rmtree(d)


if __name__ == "__main__":
    harness.run(globals())
