/* Followers (api/relay/follow.c, followfetch.c; PROTOCOL.md "GET
 * /logs?follow=1") driven in C on the fake transport of relay_fake.c, with a
 * fake follower transport: a whole fetch fills the cache, then follow
 * fetches (`follow`, `after` the newest); a follow upload's records reach
 * followers as each piece of body ends them; a retried upload's resent
 * numbers are not delivered twice; a /logs meanwhile is answered from the
 * cache; a new epoch is a gap; the keep-alive; a follower that does not
 * read is cut and the others are not; end; a rebalance ends the followers
 * of a camera that moved, not of one that stayed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "relay_fake.h"

#include "check.h"

#define EP "e0001"
#define EP2 "e0002"
#define NREC(d, n)                                                                                 \
    "{\"description\":\"" d "\",\"timestamp\":\"2026-01-01T00:00:0" #n "Z\",\"seq\":" #n "}\n"

/* A follower whose transport keeps what it was sent. */
typedef struct ff {
    follower_t f;
    char out[8192];
    size_t len;
    int closes;
    bool flushed;
} ff_t;

static void ff_send(follower_t *f, buf_t *b)
{
    ff_t *x = (ff_t *)f;
    size_t n = b->len < sizeof(x->out) - 1 - x->len ? b->len : sizeof(x->out) - 1 - x->len;
    memcpy(x->out + x->len, b->data, n);
    x->len += n;
    x->out[x->len] = '\0';
    buf_free(b);
}

static void ff_close(follower_t *f, bool flush)
{
    ff_t *x = (ff_t *)f;
    x->closes++;
    x->flushed = flush;
}

static const follow_ops_t ff_ops = {ff_send, ff_close};

static void follow(camera_t *cam, ff_t *x, const char *qs)
{
    query_t q;
    memset(x, 0, sizeof(*x));
    x->f.ops = &ff_ops;
    query_parse(qs, strlen(qs), &q);
    verdict_t v;
    CHECK(follow_check(cam, &q, NULL, 0, &v) == 0, "%d %s", v.status, v.reason);
    follow_start(cam, &x->f, &q);
}

static int occurs(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* An upload for fetch rid, admitted from its head (query `more`). */
static upload_t *begin(const char *id, const char *rid, const char *more)
{
    char qs[256];
    query_t q;
    verdict_t v;
    snprintf(qs, sizeof(qs), "request_id=%s&%s", rid, more);
    query_parse(qs, strlen(qs), &q);
    upload_t *up = upload_admit(id, &q, false, 0, &v);
    CHECK(up != NULL, "admitted: %d", v.status);
    return up;
}

static void feed(upload_t *up, const char *s)
{
    CHECK(upload_feed(up, s, strlen(s)) == 0, "fed %s", s);
}

static void test_follow_fetches_stream(void)
{
    camera_t *cam = camera("f1");
    static fake_t p1, p2, p3, w;
    static ff_t a;
    cameras_epoch(cam, EP);
    follow(cam, &a, "limit=2");
    CHECK(strncmp(a.out, "retry: 2000\n\n", 13) == 0, "%s", a.out);
    CHECK(strstr(a.out, "event: offline") != NULL, "away at first: %s", a.out);
    poll(cam, &p1); /* the camera comes: a whole fetch fills the cache */
    CHECK(p1.answers == 1 && strstr(p1.body, "\"follow\"") == NULL, "%s", p1.body);
    CHECK(upload_with("f1", rid_of(&p1), "epoch=" EP "&first=1",
                      NREC("a", 1) NREC("b", 2) NREC("c", 3) "EOL 3\n") == 200);
    CHECK(occurs(a.out, "\"description\"") == 2 && strstr(a.out, "id: " EP ":2\n") &&
              strstr(a.out, "id: " EP ":3\n"),
          "the first part, limit 2: %s", a.out);
    CHECK(strstr(a.out, "event: online") != NULL, "%s", a.out);
    poll(cam, &p2); /* the next fetch: a follow fetch after the newest */
    CHECK(p2.answers == 1 && strstr(p2.body, "\"follow\":25") &&
              strstr(p2.body, "\"after\":\"" EP ":3\""),
          "%s", p2.body);
    char rid[80];
    snprintf(rid, sizeof(rid), "%s", rid_of(&p2));
    upload_t *up = begin("f1", rid, "epoch=" EP "&first=1");
    feed(up, NREC("d", 4) "{\"descr");
    CHECK(strstr(a.out, "id: " EP ":4\n") != NULL, "live, before the upload ends: %s", a.out);
    logs(cam, &w, "timeout=60"); /* answered at once from the cache */
    CHECK(w.answers == 1 && count(&w, "description") == 4 && strcmp(w.cursor, EP ":4") == 0,
          "%d %s %s", w.answers, w.body, w.cursor);
    upload_abort(up); /* the connection breaks: the camera retries */
    upload_free(up);
    up = begin("f1", rid, "epoch=" EP "&first=1");
    feed(up, NREC("c", 3) NREC("d", 4) NREC("e", 5) "EOL 3\n");
    upload_finish(up);
    upload_free(up);
    CHECK(occurs(a.out, "id: " EP ":4\n") == 1 && occurs(a.out, "id: " EP ":5\n") == 1,
          "resent numbers not delivered twice: %s", a.out);
    CHECK(strstr(a.out, "id: " EP ":5\n") > strstr(a.out, "id: " EP ":4\n"), "in order");
    CHECK(cache_events() == 5, "the cache holds each once: %zu", cache_events());
    poll(cam, &p3); /* and the next follow fetch, after 5 */
    CHECK(p3.answers == 1 && strstr(p3.body, "\"after\":\"" EP ":5\""), "%s", p3.body);
    follow_end(cam, "rebalance");
    CHECK(a.closes == 1 && a.flushed, "ended");
    CHECK(strstr(a.out, "event: end\ndata: {\"camera\":\"f1\",\"reason\":\"rebalance\"}\n\n"), "%s",
          a.out);
    CHECK(follow_count() == 0);
    CHECK(upload_with("f1", rid_of(&p3), "epoch=" EP "&first=1", "EOL 0\n") == 200);
}

/* A camera restarted without a store: another epoch, a gap, then its
 * events; a cursor from Last-Event-ID that the cache holds resumes. */
static void test_gap_and_resume(void)
{
    camera_t *cam = camera("f2");
    static fake_t p1, p2;
    static ff_t a, b;
    cameras_epoch(cam, EP);
    poll(cam, &p1);
    follow(cam, &a, "");
    CHECK(p1.answers == 1, "a whole fetch for the follower");
    CHECK(upload_with("f2", rid_of(&p1), "epoch=" EP "&first=1",
                      NREC("a", 1) NREC("b", 2) "EOL 2\n") == 200);
    query_t q;
    verdict_t v;
    query_parse("", 0, &q);
    CHECK(follow_check(cam, &q, "bad", 3, &v) == -1 && v.status == 400, "%d", v.status);
    memset(&b, 0, sizeof(b));
    b.f.ops = &ff_ops;
    CHECK(follow_check(cam, &q, EP ":1", strlen(EP ":1"), &v) == 0);
    follow_start(cam, &b.f, &q);
    CHECK(occurs(b.out, "\"description\"") == 1 && strstr(b.out, "id: " EP ":2\n"),
          "resumed after 1: %s", b.out);
    cameras_epoch(cam, EP2); /* restarted: its poll shows another epoch */
    poll(cam, &p2);
    CHECK(p2.answers == 1, "delivered");
    CHECK(upload_with("f2", rid_of(&p2), "epoch=" EP2 "&first=1", NREC("x", 1) "EOL 1\n") == 200);
    const char *g =
        "event: gap\ndata: {\"camera\":\"f2\",\"after\":\"" EP ":2\",\"next\":\"" EP2 ":0\"}\n\n";
    CHECK(strstr(a.out, g) && strstr(b.out, g), "%s", a.out);
    CHECK(strstr(a.out, "id: " EP2 ":1\n") > strstr(a.out, g), "then the new epoch's events");
    cameras_epoch(cam, NULL); /* a 1.1 request: the followers end */
    CHECK(a.closes == 1 && b.closes == 1 && strstr(a.out, "\"reason\":\"unnumbered\""), "%s",
          a.out);
    query_parse("", 0, &q);
    CHECK(follow_check(cam, &q, NULL, 0, &v) == -1 && v.status == 409, "%d", v.status);
}

/* The keep-alive comment; a follower that does not read is cut, the
 * other one is not. */
static void test_keepalive_and_slow(void)
{
    camera_t *cam = camera("f3");
    static ff_t a, b;
    cameras_epoch(cam, EP);
    follow(cam, &a, "");
    follow(cam, &b, "");
    advance(15000);
    CHECK(strstr(a.out, ": keep-alive\n\n") != NULL, "%s", a.out);
    b.f.unsent = 2u << 20; /* 2 MiB waits, nothing taken for 1 s */
    b.f.took_ms = clock_ms();
    advance(999);
    CHECK(b.closes == 0, "not yet");
    advance(1100);
    CHECK(b.closes == 1 && !b.flushed, "cut, at once");
    CHECK(a.closes == 0 && follow_count() == 1);
    a.f.unsent = (64u << 20) + 1; /* over 64 MiB: cut at its next write */
    a.f.took_ms = clock_ms();
    advance(15000);
    CHECK(a.closes == 1 && follow_count() == 0, "%d", a.closes);
}

/* A rebalance marks every connected camera (cameras_may_move, called by
 * rebalance.c): one that polls here again keeps its followers, and going
 * away later is `offline`; one that goes away instead (it polls its owner
 * now) ends its followers with `rebalance`. */
static void test_rebalance_ends_followers_of_moved_cameras(void)
{
    camera_t *stay = camera("f4"), *move = camera("f5");
    static fake_t s1, s2, m1;
    static ff_t a, b;
    cameras_epoch(stay, EP);
    cameras_epoch(move, EP);
    cameras_from(stay, "127.0.0.1:1");
    poll(stay, &s1);
    cameras_from(move, "127.0.0.1:2");
    poll(move, &m1);
    follow(stay, &a, "");
    follow(move, &b, "");
    CHECK(s1.answers == 1 && m1.answers == 1, "whole fetches for the followers");
    CHECK(upload_with("f4", rid_of(&s1), "epoch=" EP "&first=1", NREC("a", 1) "EOL 1\n") == 200);
    CHECK(upload_with("f5", rid_of(&m1), "epoch=" EP "&first=1", NREC("a", 1) "EOL 1\n") == 200);
    cameras_may_move(stay); /* the rebalance */
    cameras_may_move(move);
    cameras_from(stay, "127.0.0.1:1"); /* stay polls here again, move does not */
    poll(stay, &s2);
    advance(api_conf.grace_ms + 1);
    CHECK(b.closes == 1 && b.flushed && occurs(b.out, "event: end") == 1 &&
              strstr(b.out, "\"reason\":\"rebalance\"") && !strstr(b.out, "event: offline"),
          "moved: %s", b.out);
    CHECK(a.closes == 0 && !strstr(a.out, "event: end") && occurs(a.out, "event: offline") == 1,
          "stayed, then went away: offline: %s", a.out);
    follow_end(stay, "shutdown");
    CHECK(follow_count() == 0);
}

int main(void)
{
    fake_setup();
    test_follow_fetches_stream();
    test_gap_and_resume();
    test_keepalive_and_slow();
    test_rebalance_ends_followers_of_moved_cameras();
    return check_report();
}
