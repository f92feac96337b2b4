/* The pre-authentication budget (docs/API.md, "Descriptor budget"): the
 * connections that have not completed a request head yet (new, idle
 * between requests, or part-way through a head) and the TLS handshakes in
 * progress are capped, --max-pending in all and PENDING_TLS_MAX of them
 * handshakes. At a cap the oldest such connection is closed to admit the
 * new one, so an idle flood costs at most the cap in descriptors and memory
 * and never stops the api from accepting: a real client, which sends its
 * head at once, gets through. Each also has its deadline (--head-timeout,
 * conn.c). */
#include "campath_int.h"

/* TLS handshakes in progress at once: each holds h2o's and OpenSSL's
 * buffers (about 45 KB measured, docs/BENCHMARKS.md), so 256 stay under
 * 12 MB whatever the flood. */
#define PENDING_TLS_MAX 256

static h2o_linklist_t heads = {&heads, &heads}; /* CS_HEAD, oldest first */
static h2o_linklist_t tls = {&tls, &tls};       /* CS_HANDSHAKE, oldest first */
static size_t nheads, ntls;
static uint64_t nevicted;

static cam_conn_t *oldest(h2o_linklist_t *l)
{
    return H2O_STRUCT_FROM_MEMBER(cam_conn_t, pend, l->next);
}

/* Closes the oldest pending connection of `l`. */
static void evict(h2o_linklist_t *l)
{
    nevicted++;
    conn_close(oldest(l)); /* leaves the list */
}

static size_t cap_all(void)
{
    return api_conf.max_pending > 0 ? api_conf.max_pending : 1;
}

void pending_enter(cam_conn_t *c, bool handshake)
{
    pending_leave(c); /* so it is never the one evicted */
    if (handshake) {
        while (ntls >= PENDING_TLS_MAX && !h2o_linklist_is_empty(&tls))
            evict(&tls);
    }
    while (nheads + ntls >= cap_all()) {
        h2o_linklist_t *l = &heads;
        if (h2o_linklist_is_empty(&heads) ||
            (!h2o_linklist_is_empty(&tls) &&
             timercmp(&oldest(&tls)->pend_at, &oldest(&heads)->pend_at, <)))
            l = &tls;
        evict(l);
    }
    gettimeofday(&c->pend_at, NULL);
    h2o_linklist_insert(handshake ? &tls : &heads, &c->pend);
    c->pend_tls = handshake;
    if (handshake)
        ntls++;
    else
        nheads++;
}

void pending_leave(cam_conn_t *c)
{
    if (!h2o_linklist_is_linked(&c->pend))
        return;
    if (c->pend_tls)
        ntls--;
    else
        nheads--;
    h2o_linklist_unlink(&c->pend);
}

uint64_t pending_evicted(void)
{
    return nevicted;
}
