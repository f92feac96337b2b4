/* The api's internals, shared by its files. One event loop, one process:
 * everything below runs on the h2o evloop thread. */
#ifndef API_H
#define API_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <h2o.h>

#include "auth.h"
#include "buf.h"
#include "idset.h"
#include "query.h"
#include "record.h"
#include "session.h"

/* Configuration (flags) --------------------------------------------------- */
typedef struct api_config {
    char host[256];
    uint16_t port;
    uint64_t poll_timeout_ms; /* 0 = hold until the camera leaves */
    uint64_t grace_ms;
    uint64_t max_body;
    uint64_t max_cameras;    /* distinct camera ids kept at once */
    uint64_t max_polls;      /* held /control-channel requests at once */
    uint64_t max_waiters;    /* held /logs requests at once */
    uint64_t forget_ms;      /* an idle camera is forgotten after this long */
    uint64_t req_timeout_ms; /* time to receive a request's head and body */
    bool quiet;
    unsigned ka_idle, ka_intvl, ka_cnt; /* TCP keep-alive (s, s, probes); 0 = off */
    uint64_t user_timeout_ms;           /* TCP_USER_TIMEOUT when user_timeout_set */
    bool user_timeout_set;
    char *camera_secret; /* NULL = cameras unauthenticated */
    size_t camera_secret_len;
    auth_tokens_t operators; /* n == 0 = operators unauthenticated */
    idset_t revoked;         /* camera ids refused even with a valid token */
    const char *tls_cert, *tls_key;
} api_config_t;

extern api_config_t api_conf;
extern h2o_evloop_t *api_loop;
extern bool api_stopping;

/* Sockets (net.c) --------------------------------------------------------------- */
/** --tcp-keepalive IDLE,INTVL,CNT | 0 and --tcp-user-timeout S into api_conf.
 * Return 0, or -1 with one line in err. */
int net_parse_keepalive(const char *s, char *err, size_t errlen);
int net_parse_user_timeout(const char *s, char *err, size_t errlen);
/** TCP_USER_TIMEOUT in ms: the flag's, else as long as keep-alive takes to give up. */
uint64_t net_user_timeout_ms(void);
/** Sets keep-alive and TCP_USER_TIMEOUT on an accepted connection. */
void net_tune(int fd);
/** "1.2.3.4:80" or "[::1]:80" ("-" for other families). */
void net_format_addr(const struct sockaddr *sa, char *out, size_t n);
bool net_is_loopback(const struct sockaddr *sa);
/** The request's client address, as net_format_addr. */
void net_peer(h2o_req_t *req, char *out, size_t n);

/* Descriptor budget (budget.c) ---------------------------------------------------- */
/** Raises the open-file limit and sets --max-polls/--max-waiters defaults. */
void budget_setup(void);
uint64_t budget_fd_limit(void);

/* Credentials files (reload.c) ---------------------------------------------------- */
/** Reads the files at start (exit 1 with one line if one is bad). */
void reload_setup(const char *secret_file, const char *token_file, const char *revoked_file);
/** SIGHUP: reads them again; installs all or keeps all (one line either way). */
void reload_now(void);

/* Start and stop lines (announce.c) ----------------------------------------------- */
void announce_start(const struct sockaddr *bound);
void announce_stop(const char *reason, size_t polls, size_t waiters, size_t unsent);

/* Clock and timers (timer.c): one timerfd under a min-heap ------------------- */
typedef struct tmr tmr_t;
struct tmr {
    uint64_t at; /* monotonic ms */
    size_t slot; /* heap index + 1; 0 = not armed */
    void (*cb)(tmr_t *t);
};

uint64_t now_ms(void);
/** The same clock in microseconds (latencies). */
uint64_t now_us(void);
void tmr_setup(h2o_evloop_t *loop);
/** (Re)arms `t` to fire `after_ms` from now; `t->cb` must be set. */
void tmr_arm(tmr_t *t, uint64_t after_ms);
void tmr_cancel(tmr_t *t);
/** At exit: closes the timerfd (pending timers are dropped). */
void tmr_close(void);

/* Held requests (hangup.c) ------------------------------------------------------ */
/** A request the api answers later: a poll or a /logs waiter. Allocated in the
 * request's pool with held_new(); `on_gone` runs once if the client leaves
 * before it is answered (then the request must not be answered: for HTTP/1 a
 * reply has already been queued to close the connection). */
typedef struct held held_t;
struct held {
    h2o_req_t *req; /* NULL once answered or gone */
    int fd;         /* watched for hang-up, or -1 */
    int pass;       /* hang-ups in one batch: pass 0 (polls) before pass 1 */
    void (*on_gone)(held_t *h);
};

/** Allocates a zeroed object of `size` (held_t first) in req's pool. */
void *held_new(h2o_req_t *req, size_t size, void (*on_gone)(held_t *h));
/** Detaches `h` from its request and returns the request, to answer it now. */
h2o_req_t *held_take(held_t *h);
void hangup_setup(h2o_evloop_t *loop);
void hangup_close(void);
/** Counts requests from arrival to dispose, so shutdown can let the last
 * replies go out. */
void live_track(h2o_req_t *req);
size_t live_count(void);

/* Replies (routes.c) ------------------------------------------------------------ */
/** Sends a complete reply with `body` (copied) and logs the request line. */
void reply(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len,
           const char *camera);
/** {"error":reason,"camera":camera} with status; no "camera" when NULL. */
void reply_error(h2o_req_t *req, int status, const char *reason, const char *camera);
void reply_json(h2o_req_t *req, int status, const buf_t *body, const char *camera);
/** Installs the one handler that routes every path. */
void routes_register(h2o_pathconf_t *pathconf);

/* Endpoints ---------------------------------------------------------------------- */
int on_control(h2o_req_t *req, const query_t *q);
int on_logs(h2o_req_t *req, const query_t *q);
int on_send_stats(h2o_req_t *req, const query_t *q);
int on_status(h2o_req_t *req, const char *path, const query_t *q); /* /healthz /metrics /cameras */

/* Auth (auth checks for requests; auth.c in runtime does the crypto) */
/** 0 if the request may act as camera `id`, else replies 401 and returns -1. */
int check_camera_auth(h2o_req_t *req, const char *id);
/** 0 if the request carries an operator token (or none are configured),
 * else replies 401 (naming `camera`, which may be NULL) and returns -1. */
int check_operator_auth(h2o_req_t *req, const char *camera);
/** 401 with `WWW-Authenticate: Bearer` (error="invalid_token" when a token
 * was presented) and {"error":reason,"camera":camera}. */
void reply_unauthorized(h2o_req_t *req, const char *reason, const char *camera, bool presented);

/* Cameras (cameras.c) --------------------------------------------------------- */
typedef struct camera camera_t;
/** The camera for `id`, created if `create`; NULL if unknown (or the table is
 * full: then *full is set). */
camera_t *camera_get(const char *id, bool create, bool *full);
/** The camera made a request (past its checks): listed in /cameras from now. */
void camera_seen(camera_t *cam);
/** True while an upload of the camera is being received: stats are coming
 * in, so the connect grace does not count it as gone. */
bool camera_uploading(const camera_t *cam);
/** An upload starts or ends (for a path that streams bodies: h2o's are whole
 * before the handler runs). End also settles the camera. */
void camera_upload_begin(camera_t *cam);
void camera_upload_end(camera_t *cam);
void camera_poll(camera_t *cam, h2o_req_t *req);
void camera_logs(camera_t *cam, h2o_req_t *req, const query_t *q);
void camera_stats(camera_t *cam, h2o_req_t *req, const char *id, const query_t *q);
/** /cameras: the cameras seen, sorted by id. */
void cameras_json(buf_t *b);
size_t cameras_connected(void);
/** Entries in the camera table (seen or only asked for). */
size_t cameras_known(void);
/** Held polls, all cameras (--max-polls). */
size_t cameras_polls(void);
/** Reload: ends the held poll of every camera in `revoked` (401); returns
 * how many. */
size_t cameras_revoke(const idset_t *revoked);
/** One camera's: its held poll, if any, is answered 401 through the machine. */
bool camera_revoke(camera_t *cam);
/** Shutdown: answers every held request 503. */
void cameras_shutdown(void);
void cameras_setup(void);

/* Metrics (metrics.c) ----------------------------------------------------------- */
enum metric_endpoint { M_LOGS, M_STATS, M_CONTROL, M_OTHER };
/** Counts a reply; called by reply() for every request. */
void metrics_reply(enum metric_endpoint ep, int status);
void metrics_logs_latency(double seconds);
void metrics_records(uint64_t n);
void metrics_waiting(int delta);
/** Held /logs requests now (the gauge, and --max-waiters). */
size_t metrics_waiting_now(void);
void metrics_text(buf_t *b);

#endif
