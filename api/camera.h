/* A camera's entry in the api's table (cameras.c) and its handshake state
 * (handshake.c). Private to those two files. */
#ifndef CAMERA_H
#define CAMERA_H

#include <time.h>

#include "api.h"

typedef struct poll {
    held_t held; /* first: a poll is a held request */
    camera_t *cam;
    tmr_t timeout;
} poll_t;

typedef struct waiter {
    held_t held;
    camera_t *cam;
    h2o_linklist_t link; /* in cam->fetch.waiters or cam->queued */
    bool joined;         /* in the fetch, not queued */
    record_filter_t filter;
    char since[SINCE_MAX + 1];
    tmr_t deadline;
    uint64_t started;
} waiter_t;

typedef struct fetch {
    bool active, delivered;
    char rid[ID_MAX + 1];
    record_filter_t filter; /* what the camera is asked for */
    char since[SINCE_MAX + 1];
    uint64_t delivered_at;
    h2o_linklist_t waiters;
} fetch_t;

struct camera {
    char id[ID_MAX + 1];
    camera_t *next;      /* hash chain */
    h2o_linklist_t idle; /* linked while forgettable, oldest first */
    uint64_t idle_since;
    session_t s;
    poll_t *poll;
    fetch_t fetch;
    h2o_linklist_t queued;
    tmr_t grace;
    bool connected;
    uint64_t changed; /* when `connected` last changed (wall clock, ms) */
};

/** Marks the camera forgettable when nothing is going on, or not. */
void camera_settle(camera_t *cam);
/** Tracks "connected" (holds a poll) for /cameras and the metrics gauge. */
void camera_set_connected(camera_t *cam, bool on);
/** Answers everything the camera holds 503 (the api shuts down). */
void camera_shutdown(camera_t *cam);
/** A fresh request id. */
void camera_new_rid(char rid[ID_MAX + 1]);

#endif
