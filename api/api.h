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

typedef struct camera camera_t;

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
    bool http2;                         /* --http2: offer HTTP/2 (ALPN h2, h2c) to operators */
    unsigned ka_idle, ka_intvl, ka_cnt; /* TCP keep-alive (s, s, probes); 0 = off */
    uint64_t user_timeout_ms;           /* TCP_USER_TIMEOUT when user_timeout_set */
    bool user_timeout_set;
    char *camera_secret; /* NULL = cameras unauthenticated */
    size_t camera_secret_len;
    auth_tokens_t operators; /* n == 0 = operators unauthenticated */
    idset_t revoked;         /* camera ids refused even with a valid token */
    const char *tls_cert, *tls_key;
    const char *node;      /* --node: this process's name in a deployment, or NULL */
    uint64_t rebalance_ms; /* --rebalance-spread (default: rebalance_setup) */
    bool rebalance_set;    /* ... given */
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

/* Replies, whatever carries them (reply.c) ------------------------------------------ */
/** The outcome of a check that refused a request: what to answer. Checks
 * return one instead of replying, so that both transports (h2o and the
 * camera path) share them. */
typedef struct verdict {
    int status;         /* 0 = the checks passed */
    const char *reason; /* {"error":reason} */
    const char *camera; /* the camera it was about (log line), or NULL */
    const char *allow;  /* 405: the Allow header */
    bool bad_token;     /* 401: a token came, and was wrong (error="invalid_token") */
    bool close;         /* give the connection up after the reply */
} verdict_t;

/** A complete reply, transport-neutral. */
typedef struct api_reply {
    int status;
    const char *ctype; /* NULL: no Content-Type */
    const char *body;
    size_t len;
    const char *camera; /* for the log line, or NULL */
    const char *allow;  /* 405: the Allow header, or NULL */
    bool bad_token;     /* 401: as in verdict_t */
    bool close;         /* the connection closes after it */
} api_reply_t;

/** Sets *v (the checks' refusal) and returns -1. */
int verdict_set(verdict_t *v, int status, const char *reason, const char *camera);
/** The standard reason phrase of `status`. */
const char *reply_reason(int status);
/** Fills *r with v's JSON error reply; its body is written into b. */
void reply_of_verdict(api_reply_t *r, const verdict_t *v, buf_t *b);
/** Calls add(ctx, name, value) for each header the reply carries besides
 * Content-Type, Content-Length and Connection (Allow, WWW-Authenticate). */
void reply_each_header(const api_reply_t *r, void (*add)(void *ctx, const char *, const char *),
                       void *ctx);
/** Whether reply_log would write a line (skip building its fields). */
bool reply_log_wanted(const char *path, size_t plen, int status);
/** The request log line (unless --quiet): `client` is the peer's address,
 * `us` the time since the head arrived. */
void reply_log(const char *method, size_t mlen, const char *path, size_t plen, const char *client,
               int status, const char *camera, long long us);

/* Routes (routes.c) --------------------------------------------------------------- */
enum route_kind { R_CONTROL, R_LOGS, R_STATS, R_STATUS, R_REBALANCE };
enum metric_endpoint { M_LOGS, M_STATS, M_CONTROL, M_OTHER };
typedef struct route {
    const char *path, *method;
    enum route_kind kind;
    enum metric_endpoint metric;
} route_t;
/** The route of `path` (without its query), or NULL. */
const route_t *route_find(const char *path, size_t len);

/* h2o replies (routes.c) ------------------------------------------------------------ */
/** Sends a complete reply with `body` (copied) and logs the request line. */
void reply(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len,
           const char *camera);
/** {"error":reason,"camera":camera} with status; no "camera" when NULL. */
void reply_error(h2o_req_t *req, int status, const char *reason, const char *camera);
void reply_json(h2o_req_t *req, int status, const buf_t *body, const char *camera);
/** Sends the reply of a refusal. */
void reply_verdict(h2o_req_t *req, const verdict_t *v);
/** Sends `r` (its body is copied). */
void reply_send(h2o_req_t *req, const api_reply_t *r);
/** Installs the one handler that routes every path. */
void routes_register(h2o_pathconf_t *pathconf);

/* Endpoints ---------------------------------------------------------------------- */
int on_control(h2o_req_t *req, const query_t *q);
/** The camera a /logs names, or NULL when its id is not valid: every /logs
 * error names its camera when it can (the 405 too). */
const char *logs_camera(const query_t *q);
int on_logs(h2o_req_t *req, const query_t *q);
int on_send_stats(h2o_req_t *req, const query_t *q);
int on_status(h2o_req_t *req, const char *path, const query_t *q); /* /healthz /metrics /cameras */

/* Checks shared by both transports (endpoints.c): each returns 0, or -1 with
 * the refusal in *v. */
/** A camera endpoint: camera id (400), its token and revocation (401), the
 * other parameters in `params` (400). *id gets the camera id. */
int camera_checks(const query_t *q, const char *authz, size_t authz_len, unsigned params,
                  const char **id, verdict_t *v);
/** May a poll for `id` be held now (503s)? */
int control_admit(const char *id, verdict_t *v);
/** The camera `id`, created if new; NULL when the table is full (503). */
camera_t *camera_admit(const char *id, verdict_t *v);
/** The parameters each camera endpoint takes. */
#define CONTROL_PARAMS QP_BIT(QP_OTHER)
#define STATS_PARAMS (QP_BIT(QP_OTHER) | QP_BIT(QP_REQUEST_ID))

/* Auth (access.c; runtime/auth.c does the crypto). The checks take the
 * Authorization value (NULL: absent), so that both transports share them. */
/** NULL when `authz` may act as camera `id` (a valid token, or cameras are
 * unauthenticated, and the id is not revoked); else the 401's reason, and
 * *presented tells whether a token came at all. */
const char *access_camera(const char *authz, size_t len, const char *id, bool *presented);
/** NULL when it carries an operator token (or none are configured); else
 * the 401's reason, with *presented as above. */
const char *access_operator(const char *authz, size_t len, bool *presented);
/** The request's Authorization value, or NULL. */
const char *req_authorization(h2o_req_t *req, size_t *len);
/** 0 if the request carries an operator token (or none are configured),
 * else replies 401 (naming `camera`, which may be NULL) and returns -1. */
int check_operator_auth(h2o_req_t *req, const char *camera);
/** 401 with `WWW-Authenticate: Bearer` (error="invalid_token" when a token
 * was presented) and {"error":reason,"camera":camera}. */
void reply_unauthorized(h2o_req_t *req, const char *reason, const char *camera, bool presented);

/* Cameras (cameras.c, handshake.c) --------------------------------------------- */
typedef struct poll poll_t;
/** How a held poll is answered: by the transport holding it (an h2o
 * request, or a connection of the camera path). */
typedef struct poll_ops {
    /** Sends `r`; the poll is over and its memory the transport's again. */
    void (*answer)(poll_t *p, const api_reply_t *r);
} poll_ops_t;
/** A poll, whatever carries it; owned by its transport. */
struct poll {
    const poll_ops_t *ops;
    camera_t *cam;
    tmr_t timeout;
};
/** The camera for `id`, created if `create`; NULL if unknown (or the table is
 * full: then *full is set). */
camera_t *camera_get(const char *id, bool create, bool *full);
/** The camera's id. */
const char *camera_name(const camera_t *cam);
/** The camera made a request (past its checks): listed in /cameras from now. */
void camera_seen(camera_t *cam);
/** True while an upload of the camera is being received: stats are coming
 * in, so the connect grace does not count it as gone. */
bool camera_uploading(const camera_t *cam);
/** An upload starts or ends (upload.c). End also settles the camera. Done:
 * its outcome is decided (stats no longer come in), though it is not freed. */
void camera_upload_begin(camera_t *cam);
void camera_upload_done(camera_t *cam);
void camera_upload_end(camera_t *cam);
/** Would a new poll be answered at once (a fetch waits for it, its camera
 * vanished, or its delivery is lost) rather than held? */
bool camera_poll_answered_now(const camera_t *cam);
/** A new poll `p` (p->ops set by its transport): held or answered. */
void camera_poll(camera_t *cam, poll_t *p);
/** The client of a poll not yet answered left: the poll is dropped. */
void camera_poll_gone(poll_t *p);
void camera_logs(camera_t *cam, h2o_req_t *req, const query_t *q);
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
/** One camera's: its held poll, if any, is answered 401 and its uploads in
 * progress are refused 401 through the machine; a fetch delivered to it
 * fails 502 after the connect grace, as for a camera that vanished. Returns
 * whether it held a poll. */
bool camera_revoke(camera_t *cam);
/** Shutdown: answers every held request 503. */
void cameras_shutdown(void);
void cameras_setup(void);

/* Uploads: a /send-stats body fed to its fetch as it arrives (upload.c) ------------ */
typedef struct upload upload_t;
/** The last checks of an upload for camera `id`, from its head: a body over
 * --max-body (413; has_length false = not known yet), no pending fetch
 * (409). Returns the upload, or NULL with the refusal in *v. */
upload_t *upload_admit(const char *id, const query_t *q, bool has_length, uint64_t length,
                       verdict_t *v);
/** Feeds body bytes (framing removed). Returns 0, or -1 once the upload has
 * failed (malformed stream, over --max-body): its waiters already know;
 * upload_reply() says what to answer. */
int upload_feed(upload_t *up, const char *data, size_t len);
/** The body is complete: the fetch's waiters get the records (or 502). */
void upload_finish(upload_t *up);
/** The reply to the uploader, once finished or failed; the body goes in b. */
void upload_reply(const upload_t *up, api_reply_t *r, buf_t *b);
/** The body's framing is broken: the fetch's waiters get 502 with `why` at
 * once, as for a malformed stream. */
void upload_fail(upload_t *up, const char *why);
/** The body stopped before its end (connection closed, --request-timeout,
 * shutdown): the camera counts as vanished (EV_UPLOAD_GONE); the fetch waits
 * the connect grace for a retried upload or a new poll. */
void upload_abort(upload_t *up);
/** Frees it (an upload neither finished nor failed is aborted first). */
void upload_free(upload_t *up);

/* The camera path: our own HTTP/1.1 connections (cam_conn.c, accept.c) ------------- */
/** Takes an accepted connection: TLS handshake if configured, then by ALPN
 * h2o's HTTP/2 or the camera path. */
void conn_accept(h2o_socket_t *sock);
void conn_setup(h2o_accept_ctx_t *actx);
/** Shutdown: closes idle connections, ends those reading a request (503). */
void cam_shutdown(void);
/** Camera-path connections with a reply still going out. */
size_t cam_live(void);
/** At exit: closes every camera-path connection left. */
void cam_close_all(void);

/* One node of several (node.c, rebalance.c, notify.c) ------------------------- */
#define NODE_MAX 32 /* --node: [A-Za-z0-9_-]{1,32}, no '.' (it ends a request id's prefix) */
bool node_valid(const char *s);
/* The flags of node.c, for main's option table (values clear of main's). */
enum { O_NODE = 0x4e00, O_SPREAD };
// clang-format off
#define NODE_LONGOPTS \
    {"node", required_argument, NULL, O_NODE}, \
    {"rebalance-spread", required_argument, NULL, O_SPREAD}
// clang-format on
/** Option `c` if it is --node or --rebalance-spread: 0, or -1 with one line
 * in err; 1 for any other option. */
int node_parse(int c, const char *s, char *err, size_t n);
/** Calls fn for every camera in the table (fn must not add or forget any). */
void cameras_each(void (*fn)(camera_t *cam, void *arg), void *arg);
/** Ends every held poll with 204, spread over --rebalance-spread; returns how many. */
size_t rebalance_start(const char *why);
/** SIGUSR1 starts a rebalance (its own signalfd in the loop); also the
 * default of --rebalance-spread. */
void rebalance_setup(h2o_evloop_t *loop);
/** At exit: closes that signalfd. */
void rebalance_close(void);
int on_rebalance(h2o_req_t *req, const query_t *q); /* POST /rebalance */
/** Tells systemd (Type=notify) that the api accepts connections. */
void notify_ready(void);

/* Metrics (metrics.c) ----------------------------------------------------------- */
/** Counts a reply; called by reply() for every request. */
void metrics_reply(enum metric_endpoint ep, int status);
void metrics_logs_latency(double seconds);
void metrics_records(uint64_t n);
void metrics_waiting(int delta);
/** Held /logs requests now (the gauge, and --max-waiters). */
size_t metrics_waiting_now(void);
void metrics_text(buf_t *b);

#endif
