/* The fake transport, clock and timers the relay core's C tests run on
 * (relay_fake.c). */
#ifndef TESTS_RELAY_FAKE_H
#define TESTS_RELAY_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "relay/relay.h"

typedef struct fake {
    union {
        poll_t poll; /* first: the ops recover the fake */
        waiter_t waiter;
    } u;
    int answers; /* how many replies it was sent (one is right) */
    int status;
    bool bad_token;
    char body[4096];
    char cursor[96]; /* 1.2 headers: Camlogs-Cursor, -Gap, -Cached */
    bool gap, cached;
} fake_t;

/** The api's settings for the fakes (grace 3 s, polls held until answered,
 * small limits, a 1 MiB cache, --follow-hold 25, quiet), then the table. */
void fake_setup(void);
/** Moves the clock `ms` on, firing every timer due on the way, earliest first. */
void advance(uint64_t ms);
/** The camera `id` (created). */
camera_t *camera(const char *id);
/** A new poll of cam, held by f (or answered at once). */
void poll(camera_t *cam, fake_t *f);
/** A /logs waiter with the query string `qs`. */
void logs(camera_t *cam, fake_t *f, const char *qs);
/** How many times `needle` occurs in f's reply (records: "description"). */
int count(const fake_t *f, const char *needle);
/** The request id a delivered control message names (a static buffer). */
const char *rid_of(const fake_t *f);
/** Uploads body for camera id's fetch rid; returns the reply's status. */
int upload(const char *id, const char *rid, const char *body);
/** The same with `more` added to the query (1.2: "epoch=E&first=F"). */
int upload_with(const char *id, const char *rid, const char *more, const char *body);

#endif
