/* The camera: one process, one event loop (a curl multi handle plus a timer)
 * that plays the three roles of the original design: message generation
 * (source.c), the connect loop (poll.c) and the request loop (upload.c). */
#ifndef CAMERA_H
#define CAMERA_H

#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "control.h"
#include "log.h"
#include "opts.h"
#include "ring.h"
#include "uplink.h"

/** Settings from the command line (main.c). */
typedef struct camera_cfg {
    const char *server; /* without a trailing '/' */
    const char *id;
    const char *token;      /* NULL: no Authorization header */
    const char *token_file; /* --token-file; read into token_owned */
    char *token_owned;
    const char *cacert; /* NULL: the system's CA store */
    bool from_stdin;
    uint64_t interval_ms, retain, poll_timeout_ms;
    uint64_t max_body; /* bytes of one upload at most */
    enum log_level log_level;
    enum log_format log_format;
    opts_keepalive_t keepalive; /* --tcp-keepalive */
    bool user_timeout_set;      /* --tcp-user-timeout given */
    uint64_t user_timeout_ms;   /* its value; 0 = off */
    const char *follow_path;    /* --source file:PATH */
    bool input_json;            /* --input json: each line a record line with its own stamp */
    const char *store_dir;      /* --store DIR, or NULL */
    int fsync_mode;             /* enum store_fsync */
    uint64_t fsync_ms;
    bool fsync_set; /* --fsync was given */
} camera_cfg_t;

typedef struct camera camera_t;

#define HINTS_ERROR_MAX 200 /* bytes of the api's "error" text shown in a line */

/** Why a request failed, for its log line (hints.c). */
typedef struct failure {
    long key;                        /* what kind: the status, or -CURLcode */
    char why[CURL_ERROR_SIZE + 64];  /* "status 401", curl's error buffer, ... */
    char error[HINTS_ERROR_MAX + 1]; /* the api's reason ("" if none) */
    const char *hint;                /* what to do about it, or NULL */
} failure_t;

/** How one role's failures have been logged (report.c). */
typedef struct report {
    const char *noun;   /* "polls": what failed, for the reconnect line */
    long key;           /* the kind of failure last logged at warn */
    unsigned fails;     /* failures since the last success */
    unsigned held;      /* lines of that kind held back since logged_ms */
    uint64_t first_ms;  /* the first of these failures (monotonic) */
    uint64_t logged_ms; /* the last line logged at warn */
} report_t;

/** What every transfer starts with; CURLOPT_PRIVATE points at it so the loop
 * can route a finished transfer to its role. */
typedef struct xfer {
    CURL *easy;
    void (*on_done)(camera_t *cam, struct xfer *x, CURLcode res, long status);
    char errbuf[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER: says which TLS check failed */
    bool reply_cut;               /* hints_keep stopped reading the reply */
} xfer_t;

/** Connect role: at most one /control-channel poll at a time. */
typedef struct poller {
    xfer_t super;
    uplink_t link; /* the connect role's state (spec/uplink.rl) */
    bool active;
    uint64_t due_ms;     /* monotonic time of the next poll, when not active */
    uint64_t started_ms; /* when the current (or last) poll started */
    uint64_t slot_ms;    /* the floor's reference for it: its start, or the later
                          * slot it took early (an early poll, backoff.c) */
    uint64_t next_slot;  /* the slot the next poll takes early; 0: its own start */
    uint64_t backoff_ms; /* current backoff base; 0 after a success */
    buf_t body;
    bool body_too_big;
    report_t report; /* how its failures were logged */
    int shown;       /* LINK_*: the connection state last logged */
} poller_t;

/** The camera's connection to the api as its log tells it (poll.c): one
 * line per change, never per poll. */
enum { LINK_NEVER, LINK_UP, LINK_LOST };

/** Input lines being cut (lines.c), from stdin or a followed file. */
typedef struct lines {
    buf_t line;       /* the line being collected */
    bool dropped;     /* bytes past SOURCE_LINE_KEEP were discarded */
    uint64_t seq;     /* complete lines so far: the number of the last one */
    uint64_t off;     /* input bytes taken so far */
    uint64_t start;   /* offset of the current line's first byte */
    const char *name; /* "stdin" or the file's path, for log lines */
} lines_t;

/** Message generation: synthetic timer, stdin lines or a followed file. */
typedef struct source {
    uint64_t next_ms; /* next synthetic event (monotonic) */
    uint64_t seq;
    int64_t last_us; /* stamp of the newest event, microseconds since 1970 */
    bool stdin_open;
    lines_t in;
    uint64_t skip;           /* events to leave out: stored before a restart (follow.c) */
    struct eol_decoder *dec; /* --input json, made on the first line */
    record_t *json_rec;      /* what the decoder made of the current line */
    bool disorder_told;      /* --input json: the first out-of-order stamp was logged */
    struct follow *follow;   /* --source file:PATH */
} source_t;

#define EPOCH_LEN 16 /* hex digits of an epoch: 64 random bits */

struct camera {
    camera_cfg_t cfg;
    char epoch[ID_MAX + 1]; /* 1.2: the history its event numbers belong to */
    uint64_t next_seq;      /* without --store: the number the next event gets */
    bool after_bad_told;    /* a malformed wake-up "after" was logged at warn */
    CURLM *multi;
    ring_t *ring;
    struct store *store;     /* --store, or NULL */
    struct curl_slist *auth; /* "Authorization: Bearer ..." or NULL */
    char *poll_url;
    poller_t poll;
    source_t src;
    struct upload *uploads; /* in flight or backing off (upload.c) */
    unsigned nuploads;
    report_t upload_report;         /* how upload failures were logged */
    struct curl_slist *upload_hdrs; /* Content-Type, Expect:, auth */
    int sigpipe[2];
    volatile sig_atomic_t stop; /* the signal that asked us to stop, 0 until then */
};

/* flags.c */
#define FLAGS_ERRLEN 256
#define FLAGS_HELP 1
#define FLAGS_VERSION 2
void flags_print_usage(void);
/** Prints "camera <version> (protocol <version>)" on stdout. */
void flags_print_version(void);
/** Parses argv into c ("--flag value" or "--flag=value"). Returns 0,
 * FLAGS_HELP, FLAGS_VERSION, or -1 with one line in err (exit 2). */
int flags_parse(int argc, char **argv, camera_cfg_t *c, char *err);
/** Checks --cacert (a readable regular file) and reads --token-file (a
 * private regular file). Returns 0, or -1 with one line in err (exit 1). */
int flags_load_files(camera_cfg_t *c, char *err);
/** Prints "camera: <line>" on stderr, bytes outside printable ASCII as \xHH
 * (error lines echo what the user typed). For flag errors only: they come
 * before the log's format is known; everything later goes through log.h. */
void flags_print_error(const char *line);
/** A flag error (after flags_parse) as the command line asks: one JSON log
 * line at error with --log-format json anywhere on it, else
 * flags_print_error's line. */
void flags_report_error(const char *line);
/** Copies url into out[0..n) with any user:password@ shown as ***@. */
void flags_redact_url(const char *url, char *out, size_t n);

/* loop.c */
/** Installs SIGINT/SIGTERM handlers writing to a self-pipe. Returns 0 or -1. */
int loop_signals(camera_t *cam);
/** Runs until a signal; then aborts all transfers. Returns 0, or -1 on a curl failure. */
int loop_run(camera_t *cam);
/** Creates an easy handle with what every transfer shares (TLS, private, no
 * signals, error buffer, quick exit, TCP keep-alive). */
CURL *loop_easy(camera_t *cam, xfer_t *x);
/** Adds a prepared transfer to the multi handle. Returns 0 or -1. When it
 * ends, the loop removes it from the multi handle and calls x->on_done, which
 * owns the easy handle from then on (reuse or curl_easy_cleanup). */
int loop_add(camera_t *cam, xfer_t *x);
/** Removes a transfer from the multi handle (aborting it if running); a
 * failure is logged, as there is nothing else to do about it. */
void loop_remove(camera_t *cam, CURL *e);

/* backoff.c */
/** Equal jitter: doubles *base (0: starts at min_ms) up to max_ms and
 * returns a delay drawn uniformly from [*base/2, *base]. Cameras that lost
 * the api at the same time do not return in step; no delay exceeds max_ms. */
uint64_t backoff_next(uint64_t *base, uint64_t min_ms, uint64_t max_ms);
/** The earliest monotonic time for the next request after one that started
 * at `started_ms`: at least 200-250 ms (jittered) after it, `now` if that
 * has passed. Bounds the request rate whatever a server answers. */
uint64_t backoff_floor(uint64_t started_ms, uint64_t now);
/** After a 200 whose upload it started: the next poll may go at once,
 * taking the floor's next slot early, when the poll that got the 200 took
 * none early (slot_ms <= started_ms); the poll after it then waits for the
 * slot after that. Sets *next_slot (0: none taken) and returns when the
 * next poll is due. The floor's rate stays 4-5 polls a second on average,
 * two in a row at most. */
uint64_t backoff_after_wake(uint64_t started_ms, uint64_t slot_ms, bool started, uint64_t now,
                            uint64_t *next_slot);

/* hints.c */
/** What to do about a request to `server` that ended with `res` (curl's
 * code; its error buffer `errbuf`) or, with CURLE_OK, `status`. NULL when
 * there is nothing useful to say. */
const char *hints_for(const char *server, CURLcode res, long status, const char *errbuf);
/** Fills f for a request that ended with res/status: the kind, a short why
 * ("status 401", "status 500 (reply cut after 4096 bytes)" or curl's error
 * buffer), the api's reason from `reply` (the first bytes of the body) and
 * a hint. */
void hints_describe(const camera_t *cam, const xfer_t *x, CURLcode res, long status,
                    const buf_t *reply, failure_t *f);
/** Bytes of a reply other than a control message that are kept: a refusal's
 * reason (the api's JSON "error") is in the first few hundred. */
#define HINTS_REPLY_KEEP 4096
/** A CURLOPT_WRITEFUNCTION's work for such a reply: appends `data` to
 * `reply` up to HINTS_REPLY_KEEP bytes in all; once a piece does not fit,
 * keeps what does, sets x->reply_cut and returns 0, so curl stops reading
 * (an endless body costs nothing). The caller clears x->reply_cut when a
 * transfer starts. */
size_t hints_keep(xfer_t *x, buf_t *reply, const char *data, size_t len);
/** `res` of a transfer whose reply hints_keep cut: CURLE_OK (the status
 * came whole; the body was cut on purpose); else res unchanged. */
CURLcode hints_result(const xfer_t *x, CURLcode res);

/* keepalive.c */
/** Sets TCP keep-alive (idle, interval, probe count) and TCP_USER_TIMEOUT
 * on the connections of `e`, as --tcp-keepalive and --tcp-user-timeout say. */
void keepalive_apply(camera_t *cam, CURL *e);
/** TCP_USER_TIMEOUT in ms: --tcp-user-timeout, else as long as keep-alive
 * takes to give up (0: off). */
uint64_t keepalive_user_timeout_ms(const camera_cfg_t *c);

/* report.c */
void report_init(report_t *r, const char *noun);
/** A failure: the line `fmt` (with f's error and hint as fields) at warn
 * when it is the first, of another kind than the last, or a minute after
 * the last warn line (then with `repeated=N`, the lines held back); else
 * at debug. */
void report_failure(report_t *r, uint64_t now, const failure_t *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** A success: after failures, "connected again after 12.3 s (5 failed
 * polls)" at info; starts over. */
void report_success(report_t *r, uint64_t now);
/** Starts over without a line. */
void report_clear(report_t *r);

/* poll.c */
void poll_init(camera_t *cam);
/** Starts the poll when it is due. Returns ms until it is due (0 if running
 * or started), for the loop's timer. */
uint64_t poll_tick(camera_t *cam, uint64_t now);
void poll_fini(camera_t *cam);

/* upload.c */
#define UPLOAD_MAX_INFLIGHT 8
/** Builds the upload headers. Returns 0 or -1. */
int upload_init(camera_t *cam);
/** Aborts and frees every upload in flight. */
void upload_fini(camera_t *cam);
/** Sends the retained events selected by `m` (NULL fields: all) as an EOL
 * stream. The body is a copy made now, so the ring may move on. A wake-up
 * for the request_id of an upload still going on is ignored; every other
 * upload still going on expires (spec/retry.rl). True when a new upload
 * started (false: ignored, skipped or not startable). */
bool upload_start(camera_t *cam, const control_msg_t *m);
/** Starts the retries that are due and ends follow uploads whose window
 * passed. Returns ms until the next of these (UINT64_MAX: none), for the
 * loop's timer. */
uint64_t upload_tick(camera_t *cam, uint64_t now);
/** Resumes follow uploads that have new durable events to send. Returns
 * true if one was resumed (the loop then runs curl without waiting). */
bool upload_feed(camera_t *cam, uint64_t now);
/** SIGINT/SIGTERM: ends every follow upload in flight with its EOL line.
 * Returns how many are still in flight (the loop lets them finish). */
unsigned upload_streams_end(camera_t *cam);
/** Adds the socket of each paused follow upload to fds[0..max) (waited on
 * for reading). Returns how many. */
unsigned upload_watch(camera_t *cam, struct curl_waitfd *fds, unsigned max);
/** After the wait: a watched socket that turned readable ends its attempt
 * (closed: a failure, retried) or its stream (the api answered early). */
void upload_watched(camera_t *cam, const struct curl_waitfd *fds, unsigned n);

/* stream.c: a follow upload's body (the wake-up's "follow":S) */
typedef struct stream stream_t;
/** A stream of `head` (the selection's record lines, `head_count` of them;
 * the caller keeps it alive), then every event numbered `live_from` or
 * later as it becomes durable, until `end_ms` (monotonic). Free with
 * stream_free. */
stream_t *stream_new(camera_t *cam, const buf_t *head, uint64_t head_count, uint64_t live_from,
                     uint64_t end_ms);
void stream_free(stream_t *st);
/** Sets an attempt's transfer `e` up for the stream from its start:
 * chunked, read callback, no low-speed limit, a timeout of the window's
 * rest plus `reply_ms`. */
void stream_prepare(stream_t *st, CURL *e, uint64_t now, long reply_ms);
/** CURLOPT_READFUNCTION: the next bytes, 0 after the EOL line, or
 * CURL_READFUNC_PAUSE while there is nothing to send. */
size_t stream_read(char *dst, size_t size, size_t nitems, void *ctx);
/** Resumes the paused transfer when new events may go out (the loop calls
 * it after the store's flush, before curl runs). Returns true if it did. */
bool stream_feed(stream_t *st, uint64_t now);
/** Ends the stream now (its EOL line follows what is queued); `why` for
 * the log. */
void stream_end(stream_t *st, const char *why);
/** Ends the stream when its window has passed. Returns ms until then
 * (UINT64_MAX: already ending; 0: ended now). */
uint64_t stream_tick(stream_t *st, uint64_t now);
/** Records in the current attempt so far (the EOL line's count). */
uint64_t stream_count(const stream_t *st);
#define STREAM_PEEK 64 /* bytes peeked at on a paused stream's socket */
/** Bytes from the api wait on the paused connection (`peek`: the first n
 * of them): an answer before the body's end, or (https) TLS records such
 * as session tickets. curl reads nothing while the upload is paused, so
 * the transfer is resumed (its read pauses again at once, and curl reads
 * what came: a refusal ends the upload, tickets are taken in). The same
 * bytes found again (curl left them), or too many rounds, end the stream,
 * so that curl reads the answer after the EOL line. */
void stream_peer_data(stream_t *st, const char *peek, size_t n);
/** The socket to watch while the stream is paused and live, else -1. */
int stream_watch_fd(stream_t *st);
/** Why it ended ("live" while it has not). */
const char *stream_why(const stream_t *st);

/* source.c */
#define SOURCE_LINE_KEEP 65536 /* bytes of one input line kept before truncating */
/** Sets up the source (stamps above the store's newest, the file follower,
 * the json decoder). Returns 0, or -1 with one line in err (exit 1). */
int source_init(camera_t *cam, uint64_t now, char *err);
/** Emits due synthetic events. Returns ms until the next one (UINT64_MAX: none). */
uint64_t source_tick(camera_t *cam, uint64_t now);
/** Reads what stdin has (call when it is readable). */
void source_read_stdin(camera_t *cam);
/** Keeps an event stamped now (strictly after the previous one). */
void source_emit_text(camera_t *cam, const char *desc, size_t len);
/** Keeps an event that carries its own timestamp (--input json). */
void source_emit_record(camera_t *cam, record_t *rec);
/** The number the next event will get (1.2): with --store its index in the
 * store plus one, else counted from 1 since start. */
uint64_t source_next_seq(const camera_t *cam);
void source_fini(camera_t *cam);

/* lines.c: input bytes -> lines -> events (--input text|json) */
void lines_init(lines_t *l, const char *name, uint64_t off, uint64_t seq);
/** Takes input bytes; each complete line becomes an event (or is skipped). */
void lines_feed(camera_t *cam, const char *p, size_t n);
/** The line being collected, if any, is complete (end of input, rotation). */
void lines_end(camera_t *cam);
/** Forgets the line being collected (the file was truncated under it). */
void lines_drop(lines_t *l);

/* follow.c: --source file:PATH, the way tail -F follows a file */
/** PATH's directory must exist and PATH, if there, be a readable regular
 * file. Returns 0, or -1 with one line in err (exit 1). */
int follow_validate(const char *path, char *err);
/** Opens PATH (or waits for it), resuming where the store says the last run
 * stopped. Returns 0, or -1 with one line in err (exit 1). */
int follow_open(camera_t *cam, char *err);
/** The fd the loop waits on (inotify), or -1. */
int follow_fd(const camera_t *cam);
/** The fd is readable: takes its events and reads what is new. */
void follow_on_fd(camera_t *cam);
/** Re-checks the file when due (no inotify, or a safety net). Returns ms
 * until the next check. */
uint64_t follow_tick(camera_t *cam, uint64_t now);
void follow_close(camera_t *cam);

/* epoch.c */
/** A new epoch: EPOCH_LEN hex digits of kernel randomness. Returns 0, or -1
 * with one line in err. */
int epoch_random(char out[EPOCH_LEN + 1], char *err, size_t errlen);

/* text.c: making arbitrary bytes a valid description */
/** Appends `s` to `out` with every invalid UTF-8 sequence and NUL replaced by
 * U+FFFD. Returns the number of replacements. */
size_t text_repair(buf_t *out, const char *s, size_t len);
/** Largest n <= len such that s[0..n) ends on a UTF-8 character boundary
 * (s must be valid UTF-8). */
size_t text_boundary(const char *s, size_t len, size_t n);
/** Length of raw bytes s[0..len) without a trailing sequence that is the
 * valid start of a UTF-8 character cut short (len if there is none). */
size_t text_cut_raw(const char *s, size_t len);

#endif
