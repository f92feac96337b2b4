/* The process's plumbing, for main and flags: the descriptor budget
 * (budget.c), the credentials files (reload.c), the start and stop lines
 * (announce.c), systemd's readiness (notify.c), the node flags (node.c) and
 * rebalancing (rebalance.c). */
#ifndef API_PROCESS_H
#define API_PROCESS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <h2o.h>

/* Descriptor budget (budget.c) */
/** Raises the open-file limit and sets --max-polls/--max-waiters defaults. */
void budget_setup(void);
uint64_t budget_fd_limit(void);

/* Credentials files (reload.c) */
/** Reads the files at start. Returns 0, or -1 with one line in err. */
int reload_setup(const char *secret_file, const char *token_file, const char *revoked_file,
                 char *err, size_t n);
/** SIGHUP: reads them again; installs all or keeps all (one line either
 * way: reloaded, nothing changed, or failed). */
void reload_now(void);
/** The revoked ids for a log line: their number, or "absent" when
 * --camera-revoked-file names no file (yet). Returns buf or a literal. */
const char *reload_revoked_count(char *buf, size_t n);

/* Start and stop lines (announce.c) */
void announce_start(const struct sockaddr *bound);
void announce_stop(const char *reason, size_t polls, size_t waiters, size_t unsent);

/* Systemd (notify.c) */
/** Tells systemd (Type=notify) that the api accepts connections. */
void notify_ready(void);

/* One node of several (node.c) */
#define NODE_MAX 32 /* --node: [A-Za-z0-9_-]{1,32}, no '.' (it ends a request id's prefix) */
bool node_valid(const char *s);
/* The flags of node.c, for the option table (values clear of flags.c's). */
enum { O_NODE = 0x4e00, O_SPREAD };
// clang-format off
#define NODE_LONGOPTS \
    {"node", required_argument, NULL, O_NODE}, \
    {"rebalance-spread", required_argument, NULL, O_SPREAD}
// clang-format on
/** Option `c` if it is --node or --rebalance-spread: 0, or -1 with one line
 * in err; 1 for any other option. */
int node_parse(int c, const char *s, char *err, size_t n);

/* Rebalancing (rebalance.c; its POST /rebalance is in front.h) */
/** Ends every held poll with 204, spread over --rebalance-spread; returns how many. */
size_t rebalance_start(const char *why);
/** SIGUSR1 starts a rebalance (its own signalfd in the loop); also the
 * default of --rebalance-spread. Returns 0, or -1 with one line in err. */
int rebalance_setup(h2o_evloop_t *loop, char *err, size_t n);
/** At exit: closes that signalfd. */
void rebalance_close(void);

#endif
