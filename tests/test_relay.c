/* The relay core (api/relay/) driven in C, without h2o or sockets, on the
 * fake transport, clock and timers of relay_fake.c. Uploads go through the
 * real upload path with real EOL bodies. The paths: join and widen, the
 * resend of a lost wake-up, a camera that vanishes (and comes back) within
 * the connect grace, an abandoned fetch, revocation, and the order of `since`
 * around a leap second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay_fake.h"

#include "check.h"

#define REC(d, ts) "{\"description\":\"" d "\",\"timestamp\":\"" ts "\"}\n"
static const char six[] = REC("e1", "2026-01-01T00:00:01Z") REC("e2", "2026-01-01T00:00:02Z")
    REC("e3", "2026-01-01T00:00:03Z") REC("e4", "2026-01-01T00:00:04Z")
        REC("e5", "2026-01-01T00:00:05Z") REC("e6", "2026-01-01T00:00:06Z") "EOL 6\n";

/* The paths ---------------------------------------------------------------------- */

/* Waiters before the poll join one fetch and widen it; one after the
 * delivery joins when the fetch covers it, else waits for the next fetch. */
static void test_join_widen(void)
{
    camera_t *cam = camera("join");
    static fake_t a, b, d, e, p, p2;
    logs(cam, &a, "limit=2&timeout=60");
    logs(cam, &b, "limit=5&timeout=60");
    poll(cam, &p);
    CHECK(p.answers == 1 && p.status == 200, "%d %d", p.answers, p.status);
    CHECK(strstr(p.body, "\"limit\":5") != NULL, "widened to 5: %s", p.body);
    logs(cam, &d, "limit=3&timeout=60"); /* covered: joins */
    logs(cam, &e, "limit=9&timeout=60"); /* not covered: queued */
    CHECK(upload("join", rid_of(&p), six) == 200);
    CHECK(a.answers == 1 && a.status == 200 && count(&a, "description") == 2, "%s", a.body);
    CHECK(b.answers == 1 && b.status == 200 && count(&b, "description") == 5, "%s", b.body);
    CHECK(d.answers == 1 && d.status == 200 && count(&d, "description") == 3, "%s", d.body);
    CHECK(strstr(a.body, "\"e6\"") != NULL, "the last records: %s", a.body);
    CHECK(e.answers == 0, "the queued waiter waits for its own fetch");
    poll(cam, &p2);
    CHECK(p2.answers == 1 && strstr(p2.body, "\"limit\":9") != NULL, "%s", p2.body);
    char rid[80];
    snprintf(rid, sizeof(rid), "%s", rid_of(&p));
    CHECK(strcmp(rid_of(&p2), rid) != 0, "a new fetch");
    CHECK(upload("join", rid_of(&p2), six) == 200);
    CHECK(e.answers == 1 && count(&e, "description") == 6, "%s", e.body);
}

/* A delivered message with no stats after the resend time is lost: the
 * held poll gets it again when the grace passes, and so does a poll that
 * arrives after that time; a poll before it is held. */
static void test_lost_resend(void)
{
    camera_t *cam = camera("lost");
    static fake_t w, p1, p2, p3;
    poll(cam, &p1);
    logs(cam, &w, "timeout=60");
    CHECK(p1.answers == 1 && p1.status == 200, "delivered to the held poll");
    char rid[80];
    snprintf(rid, sizeof(rid), "%s", rid_of(&p1));
    advance(500);
    poll(cam, &p2);
    CHECK(p2.answers == 0, "within the resend time a poll is held");
    advance(api_conf.grace_ms + 1);
    CHECK(p2.answers == 1 && strcmp(rid_of(&p2), rid) == 0, "resent to the held poll: %s", p2.body);
    advance(api_conf.grace_ms + 10);
    poll(cam, &p3);
    CHECK(p3.answers == 1 && strcmp(rid_of(&p3), rid) == 0, "resent at once: %s", p3.body);
    CHECK(w.answers == 0);
    CHECK(upload("lost", rid, six) == 200);
    CHECK(w.answers == 1 && w.status == 200 && count(&w, "description") == 6);
}

/* A camera that vanishes after a delivery (its poll or upload gone) has the
 * connect grace to come back; then the fetch fails 502. */
static void test_vanish_grace(void)
{
    camera_t *cam = camera("vanish");
    static fake_t w, p1, p2, p3;
    logs(cam, &w, "timeout=60");
    poll(cam, &p1);
    CHECK(p1.answers == 1 && p1.status == 200);
    char rid[80];
    snprintf(rid, sizeof(rid), "%s", rid_of(&p1));
    poll(cam, &p2);
    advance(2000); /* the grace below is counted from the poll's end, not before */
    handshake_poll_gone(&p2.u.poll);
    advance(api_conf.grace_ms - 1000);
    CHECK(w.answers == 0, "within the grace the fetch waits");
    poll(cam, &p3);
    CHECK(p3.answers == 1 && strcmp(rid_of(&p3), rid) == 0, "back: resent %s", p3.body);

    query_t q;
    verdict_t v;
    char qs[100];
    snprintf(qs, sizeof(qs), "request_id=%s", rid);
    query_parse(qs, strlen(qs), &q);
    upload_t *up = upload_admit("vanish", &q, false, 0, &v);
    CHECK(up != NULL);
    if (up == NULL)
        return;
    advance(2000);            /* likewise from the upload's end */
    upload_feed(up, six, 40); /* part of the body, then the connection breaks */
    upload_abort(up);
    upload_free(up);
    advance(api_conf.grace_ms - 1);
    CHECK(w.answers == 0, "the upload broke off: the grace again");
    advance(2);
    CHECK(w.answers == 1 && w.status == 502, "%d", w.status);
    CHECK(strstr(w.body, "went away") != NULL, "%s", w.body);
}

/* A fetch whose waiters all leave is abandoned: no delivery to the next
 * poll, and its upload is refused 409. */
static void test_abandon(void)
{
    camera_t *cam = camera("abandon");
    static fake_t w1, w2, p1, p2;
    logs(cam, &w1, "timeout=1");
    advance(1001);
    CHECK(w1.answers == 1 && w1.status == 503, "%d %s", w1.status, w1.body);
    CHECK(strstr(w1.body, "no poll within 1 s") != NULL, "%s", w1.body);
    poll(cam, &p1);
    CHECK(p1.answers == 0, "nothing to deliver: held");

    logs(cam, &w2, "timeout=60");
    CHECK(p1.answers == 1 && p1.status == 200);
    char rid[80];
    snprintf(rid, sizeof(rid), "%s", rid_of(&p1));
    handshake_waiter_gone(&w2.u.waiter);
    CHECK(w2.answers == 0, "a waiter that left is not answered");
    CHECK(upload("abandon", rid, six) == 409);
    poll(cam, &p2);
    CHECK(p2.answers == 0, "held, not given the abandoned fetch");
    advance(api_conf.grace_ms * 3);
    CHECK(p2.answers == 0);
    handshake_poll_gone(&p2.u.poll);
}

/* Revoked: a held poll is answered 401 (invalid_token) at once; a fetch
 * delivered to the camera fails 502 after the grace. */
static void test_revoke(void)
{
    char path[] = "/tmp/test_relay_XXXXXX", err[256];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, "revoked1\nrevoked2\n", 18) == 18);
    close(fd);
    idset_t set = {0};
    CHECK(idset_load(path, &set, err, sizeof(err)) == 0, "%s", err);
    unlink(path);

    static fake_t p1, p2, w;
    poll(camera("revoked1"), &p1);
    camera_t *cam2 = camera("revoked2");
    logs(cam2, &w, "timeout=60");
    poll(cam2, &p2);
    CHECK(p2.answers == 1 && p2.status == 200);
    CHECK(cameras_revoke(&set) == 1, "one held poll ended");
    CHECK(p1.answers == 1 && p1.status == 401 && p1.bad_token, "%d", p1.status);
    CHECK(w.answers == 0, "the delivered fetch waits the grace");
    advance(api_conf.grace_ms + 1);
    CHECK(w.answers == 1 && w.status == 502 && strstr(w.body, "revoked") != NULL, "%s", w.body);
    idset_free(&set);
}

/* `since` orders 23:59:59 < 23:59:60 (a leap second) < the next day's
 * 00:00:00: the fetch asks from the earliest, a later one is covered, an
 * earlier one waits for the next fetch; each waiter gets its own records
 * (those after its `since`). */
static void test_leap_since(void)
{
    camera_t *cam = camera("leap");
    static fake_t a, b, c, d, e, p;
    logs(cam, &a, "since=2016-12-31T23:59:60Z&timeout=60");
    logs(cam, &b, "since=2017-01-01T00:00:00Z&timeout=60");
    logs(cam, &c, "since=2016-12-31T23:59:59Z&timeout=60");
    poll(cam, &p);
    CHECK(strstr(p.body, "\"since\":\"2016-12-31T23:59:59Z\"") != NULL, "%s", p.body);
    CHECK(strstr(p.body, "limit") == NULL, "%s", p.body);
    logs(cam, &d, "since=2016-12-31T23:59:60.5Z&timeout=60"); /* covered */
    logs(cam, &e, "since=2016-12-31T23:59:58Z&timeout=60");   /* earlier: queued */
    static const char body[] = REC("s59", "2016-12-31T23:59:59Z") REC("s60", "2016-12-31T23:59:60Z")
        REC("s605", "2016-12-31T23:59:60.7Z") REC("n00", "2017-01-01T00:00:00Z")
            REC("n01", "2017-01-01T00:00:01Z") "EOL 5\n";
    CHECK(upload("leap", rid_of(&p), body) == 200);
    CHECK(a.answers == 1 && count(&a, "description") == 3, "%s", a.body);
    CHECK(b.answers == 1 && count(&b, "description") == 1, "%s", b.body);
    CHECK(c.answers == 1 && count(&c, "description") == 4, "%s", c.body);
    CHECK(d.answers == 1 && count(&d, "description") == 3, "%s", d.body);
    CHECK(e.answers == 0, "queued for the next fetch");
    cameras_shutdown();
    CHECK(e.answers == 1 && e.status == 503, "shutdown answers it: %d", e.status);
}

int main(void)
{
    fake_setup();
    test_join_widen();
    test_lost_resend();
    test_vanish_grace();
    test_abandon();
    test_revoke();
    test_leap_since();
    return check_report();
}
