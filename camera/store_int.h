/* Inside the store: shared by store.c (directory, lock, segments),
 * store_recover.c (reading back), store_write.c (appending, syncing,
 * failures) and store_pos.c (the file source's position). */
#ifndef STORE_INT_H
#define STORE_INT_H

#include "buf.h"
#include "query.h"
#include "store.h"

#define STORE_SEG_SUFFIX ".eol"
#define STORE_SEG_NAME_LEN 24 /* 20 digits + ".eol" */
#define STORE_LOCK_NAME "lock"
#define STORE_POS_NAME "position"
#define STORE_EPOCH_NAME "epoch"
#define STORE_RETRY_MIN_MS 1000
#define STORE_RETRY_MAX_MS 30000

/** One segment file: the events with indexes start .. start+count-1. */
typedef struct store_seg {
    uint64_t start, count;
} store_seg_t;

struct store {
    store_cfg_t cfg;
    int dirfd, lockfd, posfd;
    uint64_t seg_max;  /* events per segment */
    store_seg_t *segs; /* oldest first; the last one is being appended to */
    size_t nsegs, segcap;
    uint64_t stored; /* sum of the segments' counts */
    int fd;          /* the last segment, open for appending, or -1 */
    uint64_t size;   /* its bytes: complete lines only */
    uint64_t synced; /* of which known to be durable */
    buf_t unsynced;  /* the lines in [synced, size), rewritten if a sync fails */
    uint64_t unsynced_lines;
    bool dir_dirty;    /* a file was created: the directory needs a sync */
    bool force_rotate; /* events were dropped: the next one starts a segment */
    uint64_t next;     /* index of the next event written */
    uint64_t dirty_ms; /* when unsynced data first appeared (0: none) */

    buf_t pend; /* record lines queued, not written yet */
    size_t pend_off;
    uint64_t pend_lines;

    bool failing; /* since the last error, until a flush succeeds */
    uint64_t retry_ms, backoff_ms;
    uint64_t fails, late, dropped; /* failed attempts, events written late, never */
    uint64_t appended, writes, syncs;
    int64_t last_us;

    /* The file source's position: the last noted (its events may still be
     * queued), the last noted whose events are all written (saved next),
     * and the one in DIR/position. */
    char epoch[ID_MAX + 1]; /* the history its events belong to (store_epoch.c) */
    bool epoch_saved;       /* DIR/epoch holds it: every number sent is durable */

    store_pos_t pos_noted, pos_ready, pos_saved;
    bool pos_have_noted, pos_have_saved, pos_dirty; /* dirty: pos_ready not saved yet */
    uint64_t pos_gen, pos_synced_ms;
};

/* store.c */
/** "<20 digits>.eol" for a segment starting at `start`. */
void store_seg_name(char out[STORE_SEG_NAME_LEN + 1], uint64_t start);
/** Adds a segment to the list (recovery and rotation). */
void store_seg_add(store_t *s, uint64_t start, uint64_t count);
/** Makes a new last segment starting at s->next, after syncing the old one
 * (unless --fsync never). Returns 0, or -1: with *what naming the operation
 * and errno set when creating failed, with *what NULL when the sync failed
 * (store_sync reported it). */
int store_rotate(store_t *s, uint64_t now_ms, const char **what);
/** Deletes the oldest segments while the others hold --retain events. */
void store_prune(store_t *s);
/** Microseconds since 1970 of a parsed timestamp (`ts` its string), as a
 * floor for the camera's own stamps: the next one (+1 us) sorts after it,
 * also after a leap second, which the camera's stamps never show. */
int64_t store_stamp_us(const char *ts, const rfc3339_t *when);

/* store_recover.c */
/** Reads every segment into `ring`; fills segs, next, last_us. Returns 0,
 * or -1 with err set (an unreadable segment). */
int store_recover(store_t *s, ring_t *ring, char *err, size_t errlen);

/* store_write.c */
/** Logs the failure (one line per episode), counts it and schedules the
 * retry. `what` names the operation and file. */
void store_fail(store_t *s, const char *what, int err, uint64_t now_ms);
/** Makes everything written durable. Returns 0, or -1 (noted as a failure:
 * the lines since the last sync are queued again, in order). */
int store_sync(store_t *s, uint64_t now_ms);

/* store_epoch.c */
/** Reads DIR/epoch, or starts a new epoch and writes it (a failure to write
 * is retried later, not fatal). Returns 0, or -1 with err (no randomness). */
int store_epoch_load(store_t *s, char *err, size_t errlen);
/** Writes DIR/epoch again once every event is stored (after store_vouch
 * took it away). Called by store_tick. */
void store_epoch_keep(store_t *s, uint64_t now_ms);

/* store_pos.c */
/** Reads the saved position, if any. */
void store_pos_load(store_t *s);
/** Saves the last noted position whose events are all written (the caller
 * has synced them unless --fsync never). */
void store_pos_save(store_t *s, uint64_t now_ms);

#endif
