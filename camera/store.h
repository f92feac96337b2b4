/* The camera's event store (--store DIR, docs/CAMERA.md "The store"): every
 * event is appended to a segment file as one record line of the EOL stream,
 * so a segment plus an `EOL` line is a valid stream. At start the segments
 * are read back through the generated decoder into the ring. All of it runs
 * on the loop thread; nothing here blocks except the disk itself. */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "ring.h"

enum store_fsync {
    STORE_FSYNC_EVERY,  /* at most fsync_ms after an event was written */
    STORE_FSYNC_ALWAYS, /* before the event can be uploaded (grouped per batch) */
    STORE_FSYNC_NEVER,  /* the kernel decides */
};

typedef struct store_cfg {
    const char *dir;
    enum store_fsync fsync;
    uint64_t fsync_ms; /* STORE_FSYNC_EVERY */
    uint64_t retain;   /* --retain: the newest events the ring keeps */
} store_cfg_t;

/** Where a file source (follow.c) stopped, saved in the store so that a
 * restarted camera neither reads a line twice nor skips one. */
typedef struct store_pos {
    uint64_t seq;       /* events stored (store_seq) when the source was here */
    uint64_t dev, ino;  /* the file being read */
    uint64_t offset;    /* the byte after its last line consumed */
    uint64_t line;      /* lines consumed from it */
    uint64_t path_hash; /* store_hash of --source file:PATH */
} store_pos_t;

typedef struct store store_t;

/** Opens (creating it if its parent exists) and locks DIR, reads every
 * segment back and pushes the events into `ring`, oldest first. A torn last
 * line is cut off and corrupt lines are skipped, each reported in one log
 * line: only an unusable DIR fails. Returns the store, or NULL with one
 * line in err (exit 1). Free with store_close. */
store_t *store_open(const store_cfg_t *cfg, ring_t *ring, char *err, size_t errlen);
/** Writes what is pending, syncs (unless --fsync never), logs a summary
 * line, unlocks and frees. NULL is fine. */
void store_close(store_t *s);

/** Microseconds since 1970 of the newest stored event's timestamp
 * (INT64_MIN when there is none): stamps must stay above it. */
int64_t store_last_us(const store_t *s);
/** Events ever stored (the index the next one gets; its number is this
 * plus one). */
uint64_t store_seq(const store_t *s);
/** The store's epoch (DIR/epoch; a new store, or one from 1.1, got a new
 * one when opened). */
const char *store_epoch(const store_t *s);
/** Events numbered up to `seq` are about to be sent: makes them durable (a
 * sync, unless --fsync never), or when that cannot be done (the store is
 * failing) removes DIR/epoch until it can (store_epoch.c says why). */
void store_vouch(store_t *s, uint64_t seq, uint64_t now_ms);
/** Events numbered up to `seq` are wanted on a follow upload, which sends
 * only durable ones: syncs what is written but not synced (unless --fsync
 * never, or the store is failing). Returns the newest number up to `seq`
 * whose event is durable (written, and synced unless --fsync never). */
uint64_t store_durable(store_t *s, uint64_t seq, uint64_t now_ms);
/** The file source's position saved by a previous run. Returns 0 and fills
 * *out, or -1 when there is none. */
int store_saved_pos(const store_t *s, store_pos_t *out);
/** 64-bit FNV-1a: names a source path in a store_pos_t. */
uint64_t store_hash(const char *s);

/** Queues one event (its record line). Written by the next store_flush. */
void store_append(store_t *s, const record_t *r);
/** The file source has consumed up to `p`, which counts p->seq events
 * (store_seq, less those still to be left out after a restart): saved once
 * those are written (and synced, unless --fsync never), also while later
 * ones are queued. `at_once` (a file read from its start with no usable
 * saved position): made durable now if nothing is queued. */
void store_note_pos(store_t *s, const store_pos_t *p, bool at_once, uint64_t now_ms);
/** Writes what is queued; with --fsync always, syncs it too (one sync for
 * the whole batch). The loop calls it before anything can be uploaded. */
void store_flush(store_t *s, uint64_t now_ms);
/** Runs the periodic sync and the retries after a failure. Returns ms until
 * it wants to run again (UINT64_MAX: nothing to do). */
uint64_t store_tick(store_t *s, uint64_t now_ms);

#endif
