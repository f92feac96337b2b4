/* The api's cache (api/relay/cache.c, PROTOCOL.md 1.2) driven in C on the
 * fake transport of relay_fake.c: the wake-up asks after the cache's newest;
 * a camera whose `first` goes back below what the cache holds makes its
 * waiters fetch again, wholly; a camera a fetch in flight relies on is not
 * evicted; the count matches what was allocated (back to 0 when all is
 * dropped) and stays within --cache-bytes; each event costs at most its
 * record line plus 48 bytes; a resent wake-up repeats its `after`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_fake.h"

#include "check.h"

#define EP "e0001"
#define NREC(d, n)                                                                                 \
    "{\"description\":\"" d "\",\"timestamp\":\"2026-01-01T00:00:0" #n "Z\",\"seq\":" #n "}\n"

/* One fetch of `qs` on cam: poll, /logs, upload body with `more`; the
 * waiter's reply is in *w, the delivered message in *p. */
static void fetch(camera_t *cam, fake_t *w, fake_t *p, const char *qs, const char *more,
                  const char *body)
{
    logs(cam, w, qs);
    poll(cam, p);
    CHECK(p->answers == 1 && p->status == 200, "delivered: %d", p->status);
    CHECK(upload_with(cameras_name(cam), rid_of(p), more, body) == 200, "upload taken");
}

static void test_after_and_redo(void)
{
    camera_t *cam = camera("redo");
    static fake_t w, p, w2, p2, p3;
    cameras_epoch(cam, EP);
    fetch(cam, &w, &p, "limit=1", "epoch=" EP "&first=2",
          NREC("b", 2) NREC("c", 3) NREC("d", 4) "EOL 3\n");
    CHECK(strstr(p.body, "\"limit\"") == NULL && strstr(p.body, "\"after\"") == NULL,
          "a whole fetch: %s", p.body);
    CHECK(count(&w, "description") == 1 && strcmp(w.cursor, EP ":4") == 0, "%s %s", w.body,
          w.cursor);
    CHECK(cache_events() == 3, "3 cached: %zu", cache_events());
    /* The camera now shows event 1 again (first went back): the cache cannot
     * make the reply; the waiter is fetched again, wholly. */
    fetch(cam, &w2, &p2, "", "epoch=" EP "&first=1", "EOL 0\n");
    CHECK(strstr(p2.body, "\"after\":\"" EP ":4\"") != NULL, "after the newest: %s", p2.body);
    CHECK(w2.answers == 0, "not answered from a cache that lacks event 1");
    poll(cam, &p3);
    CHECK(p3.status == 200 && strstr(p3.body, "\"after\"") == NULL, "whole again: %s", p3.body);
    CHECK(upload_with("redo", rid_of(&p3), "epoch=" EP "&first=1",
                      NREC("a", 1) NREC("b", 2) NREC("c", 3) NREC("d", 4) "EOL 4\n") == 200,
          "upload");
    CHECK(w2.answers == 1 && count(&w2, "description") == 4, "exact: %s", w2.body);
}

/* Per event, what the cache counts against the line the camera sent. */
static void test_cost_per_event(void)
{
    camera_t *cam = camera("cost");
    static fake_t w, p;
    static char body[65536];
    size_t len = 0, n = 200;
    cameras_epoch(cam, EP);
    size_t before = cache_bytes();
    for (size_t i = 1; i <= n; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len,
                                "{\"description\":\"motion detected\",\"timestamp\":"
                                "\"2026-11-28T06:44:29.120Z\",\"seq\":%zu}\n",
                                i);
    snprintf(body + len, sizeof(body) - len, "EOL %zu\n", n);
    fetch(cam, &w, &p, "limit=1", "epoch=" EP "&first=1", body);
    size_t cost = cache_bytes() - before;
    CHECK(cost <= len + n * 48, "%zu bytes for %zu bytes of lines", cost, len);
    cameras_epoch(cam, "e0002"); /* another epoch: forgotten, every byte */
    CHECK(cache_bytes() == before, "back to %zu: %zu", before, cache_bytes());
}

/* A camera whose fetch relies on its cache is not evicted by another's. */
static void test_pinned_not_evicted(void)
{
    camera_t *a = camera("pinA"), *b = camera("pinB");
    static fake_t wa, pa, wb, pb, wa2, pa2;
    uint64_t bound = api_conf.cache_bytes;
    cameras_epoch(a, EP);
    cameras_epoch(b, EP);
    fetch(a, &wa, &pa, "", "epoch=" EP "&first=1", NREC("a", 1) NREC("a", 2) "EOL 2\n");
    api_conf.cache_bytes = cache_bytes(); /* full: anything new evicts */
    logs(a, &wa2, "");
    poll(a, &pa2); /* delivered after a's newest: a is pinned */
    CHECK(strstr(pa2.body, "\"after\":\"" EP ":2\"") != NULL, "%s", pa2.body);
    fetch(b, &wb, &pb, "", "epoch=" EP "&first=1", NREC("b", 1) "EOL 1\n");
    CHECK(count(&wb, "description") == 1 && cache_bytes() <= api_conf.cache_bytes,
          "b answered, bound kept: %zu", cache_bytes());
    CHECK(upload_with("pinA", rid_of(&pa2), "epoch=" EP "&first=1", NREC("a", 3) "EOL 1\n") == 200,
          "a's upload");
    CHECK(wa2.answers == 1 && count(&wa2, "description") == 3, "a exact: %s", wa2.body);
    CHECK(cache_bytes() <= api_conf.cache_bytes, "bound kept: %zu", cache_bytes());
    api_conf.cache_bytes = bound;
}

/* A lost wake-up is resent with the same after. */
static void test_resend_same_after(void)
{
    camera_t *cam = camera("resend");
    static fake_t w, p, w2, p2, p3;
    cameras_epoch(cam, EP);
    fetch(cam, &w, &p, "", "epoch=" EP "&first=1", NREC("a", 1) "EOL 1\n");
    logs(cam, &w2, "timeout=60");
    poll(cam, &p2);
    advance(api_conf.grace_ms + 10);
    poll(cam, &p3); /* no stats came: resent */
    CHECK(p3.status == 200 && strcmp(rid_of(&p3), rid_of(&p2)) == 0, "resent");
    CHECK(strstr(p3.body, "\"after\":\"" EP ":1\"") != NULL, "same after: %s", p3.body);
    CHECK(upload_with("resend", rid_of(&p3), "epoch=" EP "&first=1", "EOL 0\n") == 200, "up");
    CHECK(w2.answers == 1 && count(&w2, "description") == 1, "%s", w2.body);
}

int main(void)
{
    fake_setup();
    test_after_and_redo();
    test_cost_per_event();
    test_pinned_not_evicted();
    test_resend_same_after();
    return check_report();
}
