"""Property: a reply with the cache equals the reply without one. Two real
apis (the default cache; --cache-bytes 0) and two real cameras fed the same
random history (--input json: random, often equal or falling timestamps;
--retain small, so events are dropped; restarts, so epochs change), then
random /logs (after: each api's own cursors, numbers near the ends, another
epoch; since; limit) on both: bodies and Camlogs-Gap must be equal, and
equal to the contract's full-fetch reply computed here. A third api whose
--cache-bytes is smaller than the camera's history (so it drops it and
fetches as in 1.1) must agree too. Seeded (CAMLOGS_SEED, default 21) and
repeatable: ROUNDS rounds, each with a deadline (about 30 s in all).
Then three scripted cameras (numcam.py) against an api whose cache holds
about one of them: every fetch may evict, every reply is the model's.
"""
import json
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Camera, http, wait_until  # noqa: E402
import numcam  # noqa: E402
from numcam import NumCam, select  # noqa: E402

RETAIN = 40
ROUNDS = 20


class Side:
    """One api and its camera (id p1), fed the same lines as the others."""

    def __init__(self, *api_args):
        self.api = Api(*api_args)
        self.cam = None
        self.epoch = None

    def start(self):
        self.cam = Camera(self.api.url, "--id", "p1", "--source", "stdin", "--input", "json",
                          "--retain", str(RETAIN), "--interval", "3600", stdin=True)
        self.epoch = None

    def feed(self, lines):
        self.cam.p.stdin.write("".join(s + "\n" for s in lines).encode())
        self.cam.p.stdin.flush()

    def get(self, params):
        q = urllib.parse.urlencode(dict(camera="p1", timeout=10, **params), safe=":")
        s, h, b = http("GET", self.api.url + "/logs?" + q, timeout=15)
        assert s == 200, (s, b)
        return json.loads(b), h

    def caught_up(self, n):
        """True once a /logs shows the camera's newest event is number n."""
        _, h = self.get({"limit": 1})
        epoch, seq = h["camlogs-cursor"].rsplit(":", 1)
        self.epoch = epoch
        return int(seq) == n

    def close(self):
        if self.cam:
            self.cam.stop()
        self.api.stop()


def stamp(rng):
    return "2026-11-28T06:%02d:%02d.%dZ" % (rng.randrange(2), rng.randrange(3), rng.randrange(3))


def one_query(rng, sides, history, n):
    params = {}
    if rng.random() < 0.5:
        params["since"] = stamp(rng)
    if rng.random() < 0.5:
        params["limit"] = rng.randint(1, 15)
    kind = rng.random()
    seq = max(0, min(n + 2, rng.choice([0, 1, n - RETAIN, n - RETAIN + 1, n, n - 1,
                                        rng.randint(0, n + 2)])))
    held = history[-RETAIN:]
    first = held[0][0] if held else n + 1
    want_gap = False
    if kind < 0.6:
        params["after"] = "EPOCH:%d" % seq
        want_gap = seq + 1 < first
        held = [e for e in held if e[0] > seq] if not want_gap else held
    elif kind < 0.7:
        params["after"] = "0000000000000000:%d" % seq
        want_gap = True
    want = [{"description": d, "timestamp": t}
            for _, d, t in select(held, params.get("since"), params.get("limit"))]
    for side in sides:
        p = dict(params)
        if p.get("after", "").startswith("EPOCH:"):
            p["after"] = p["after"].replace("EPOCH", side.epoch)
        body, h = side.get(p)
        assert body == want, (p, body, want)
        assert h.get("camlogs-gap") == ("1" if want_gap else None), (p, h)
        assert h["camlogs-cursor"].startswith(side.epoch + ":"), h
        if "since" not in p:  # the newest is known exactly
            assert h["camlogs-cursor"] == "%s:%d" % (side.epoch, n), (p, h)


def test_cache_equals_no_cache():
    seed = int(os.environ.get("CAMLOGS_SEED", "21"))
    rng = random.Random(seed)
    sides = [Side(), Side("--cache-bytes", "0"), Side("--cache-bytes", "3000")]
    queries = 0
    try:
        history, n = [], 0
        for s in sides:
            s.start()
        restarts = 0
        for rnd in range(1, ROUNDS + 1):
            if rng.random() < 0.08:  # a restart without a store: a new epoch
                for s in sides:
                    s.cam.stop()
                    s.start()
                history, n = [], 0
                restarts += 1
            k = rng.choice([0, 0, 1, 2, 5, 30])
            lines = []
            for _ in range(k):
                n += 1
                t = stamp(rng)
                d = "r%d e%d" % (rnd, n)
                history.append((n, d, t))
                lines.append(json.dumps({"description": d, "timestamp": t}))
            for s in sides:
                s.feed(lines)
                wait_until(lambda: s.caught_up(n), 10, "the camera's event %d" % n)
            for _ in range(6):
                one_query(rng, sides, history, n)
                queries += 1
        print("seed %d: %d rounds, %d restarts, %d queries on %d apis"
              % (seed, ROUNDS, restarts, queries, len(sides)))
        assert harness.metric(sides[0].api, "camlogs_cache_events") > 0
    finally:
        for s in sides:
            s.close()


def test_scripted_cameras_under_eviction():
    """Three scripted numbering cameras (numcam.py) with random histories:
    drops below `first`, restarts with a new epoch, random timestamps; an
    api whose --cache-bytes holds about one of them (so every fetch may
    evict) and one without a cache answer every random /logs exactly as the
    contract's model says."""
    rng = random.Random(int(os.environ.get("CAMLOGS_SEED", "21")) + 1)
    with Api("--cache-bytes", "9000") as small, Api("--cache-bytes", "0") as none:
        pairs = [[NumCam(a, "q%d" % i, "e%d" % i) for a in (small, none)] for i in range(3)]
        for _ in range(120):
            pair = rng.choice(pairs)
            op = rng.random()
            if op < 0.05:
                epoch = "e%x" % rng.getrandbits(64)
                for c in pair:
                    c.restart(epoch)
            elif op < 0.15 and pair[0].events:
                cut = rng.choice(pair[0].events)[0]
                for c in pair:
                    c.drop_below(cut)
            stamps = [stamp(rng) for _ in range(rng.choice([0, 1, 3, 40]))]
            for c in pair:
                for t in stamps:
                    c.add(1, ts=t)
            params = {}
            if rng.random() < 0.4:
                params["since"] = stamp(rng)
            if rng.random() < 0.4:
                params["limit"] = rng.randint(1, 10)
            if rng.random() < 0.5:
                params["after"] = "%s:%d" % (rng.choice([pair[0].epoch, "e0"]),
                                             rng.randint(0, pair[0].next))
            for c in pair:
                s, h, body, _ = numcam.logs(c.api, c, numcam.qs(params))
                want, gap = numcam.model_reply(c, params)
                assert s == 200 and body == want, (params, body, want)
                assert h.get("camlogs-gap") == ("1" if gap else None), (params, h)
            assert harness.metric(small, "camlogs_cache_bytes") <= 9000
        # The cache was used (wake-ups with after) and could not hold everyone.
        afters = sum(1 for p in pairs for m, _, _ in p[0].uploads if "after" in m)
        wholes = sum(1 for p in pairs for m, _, _ in p[0].uploads if "after" not in m)
        print("scripted: %d fetches after the cache, %d whole or as 1.1" % (afters, wholes))
        assert afters > 10 and wholes > 10, (afters, wholes)


if __name__ == "__main__":
    harness.run(globals())
