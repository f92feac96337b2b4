/* The checks both transports run (checks.c), in the contract's order:
 * credentials (camera id first on the camera endpoints), other parameters,
 * state. They take a query and an Authorization value, never a request, and
 * return 0 or -1 with the refusal in a verdict_t. */
#ifndef API_CHECKS_H
#define API_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "query.h"
#include "relay/relay.h"
#include "reply.h"

/** The parameters each camera endpoint takes. */
#define CONTROL_PARAMS (QP_BIT(QP_OTHER) | QP_BIT(QP_EPOCH))
#define STATS_PARAMS                                                                               \
    (QP_BIT(QP_OTHER) | QP_BIT(QP_REQUEST_ID) | QP_BIT(QP_EPOCH) | QP_BIT(QP_FIRST))

/** The parameters /logs takes (both transports). */
#define LOGS_PARAMS                                                                                \
    (QP_BIT(QP_OTHER) | QP_BIT(QP_CAMERA) | QP_BIT(QP_TIMEOUT) | QP_BIT(QP_LIMIT) |                \
     QP_BIT(QP_SINCE) | QP_BIT(QP_AFTER) | QP_BIT(QP_STALE) | QP_BIT(QP_FOLLOW))

/** NULL when `authz` (NULL: absent) may act as camera `id` (a valid token,
 * or cameras are unauthenticated, and the id is not revoked); else the
 * 401's reason, and *presented tells whether a token came at all. */
const char *checks_camera_token(const char *authz, size_t len, const char *id, bool *presented);
/** NULL when it carries an operator token (or none are configured); else
 * the 401's reason, with *presented as above. */
const char *checks_operator_token(const char *authz, size_t len, bool *presented);
/** The camera a /logs names, or NULL when its id is not valid: every /logs
 * error names its camera when it can (the 405 too). */
const char *checks_logs_camera(const query_t *q);
/** A camera endpoint: camera id (400), its token and revocation (401), the
 * other parameters in `params` (400). *id gets the camera id. */
int checks_camera(const query_t *q, const char *authz, size_t authz_len, unsigned params,
                  const char **id, verdict_t *v);
/** May a poll for `id` be held now (503s)? */
int checks_control(const char *id, verdict_t *v);
/** The camera `id`, created if new; NULL when the table is full (503). */
camera_t *checks_admit(const char *id, verdict_t *v);

#endif
