/* Host code for spec/query.rl: query strings, ids, "Bearer <token>".
 *
 * query_split walks the raw bytes and decodes %HH as it goes; the decoded
 * bytes of a known parameter's value are fed, one at a time, to the
 * query_value machine entered at that parameter's kind, and copied into a
 * scratch buffer. Unknown parameters are only checked for bad escapes. */
#include <string.h>

#include "query.h"

enum {
    K_OTHER = QP_OTHER,
    K_CAMERA = QP_CAMERA,
    K_REQUEST_ID = QP_REQUEST_ID,
    K_TIMEOUT = QP_TIMEOUT,
    K_LIMIT = QP_LIMIT,
    K_SINCE = QP_SINCE,
    K_EPOCH = QP_EPOCH,
    K_FIRST = QP_FIRST,
    K_AFTER = QP_AFTER,
    K_STALE = QP_STALE,
    K_FOLLOW = QP_FOLLOW,
    K_COUNT = QP__COUNT
};

static const char *const known[K_COUNT] = {
    NULL, "camera", "request_id", "timeout", "limit", "since", "epoch", "first", "after", "stale", "follow",
};
static const char *const repeated[K_COUNT] = {
    NULL,
    "repeated parameter camera",
    "repeated parameter request_id",
    "repeated parameter timeout",
    "repeated parameter limit",
    "repeated parameter since",
    "repeated parameter epoch",
    "repeated parameter first",
    "repeated parameter after",
    "repeated parameter stale",
    "repeated parameter follow",
};

#define QNAME_MAX 10       /* strlen("request_id"), the longest known name */
#define NUM_CAP 100000000u /* integer parts saturate here, far above any limit */

/* One known parameter's decoded value, as the query_value machine sees it. */
typedef struct qvalue {
    int cs;
    uint64_t num;     /* integer part, saturating at NUM_CAP */
    uint64_t seq;     /* an event number, saturating above QUERY_SEQ_MAX */
    uint32_t frac_ms; /* the first three fraction digits, as ms */
    int frac_n;       /* fraction digits seen, up to 3 */
    int frac_rest;    /* 1 when a later fraction digit is non-zero */
} qvalue_t;

typedef struct qsplit {
    int cs;
    query_t *q;
    int in_value; /* past the '=' */
    int key;      /* K_*, known once the name is complete */
    unsigned seen; /* bit per K_* */
    unsigned char hex;
    char name[QNAME_MAX];
    size_t name_len; /* may pass QNAME_MAX: then it names nothing known */
    char val[SINCE_MAX + 1];
    size_t val_len;
    int val_long;
    qvalue_t v;
} qsplit_t;

static unsigned hexval(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

%%{
machine query_value;
access v->;
alphtype unsigned char;

action int_d {
    if (v->num < NUM_CAP)
        v->num = v->num * 10 + (fc - '0');
}
action seq_d {
    if (v->seq <= QUERY_SEQ_MAX)
        v->seq = v->seq * 10 + (fc - '0');
}
action frac_d {
    static const uint32_t scale[3] = {100, 10, 1};
    if (v->frac_n < 3)
        v->frac_ms += (fc - '0') * scale[v->frac_n++];
    else if (fc != '0')
        v->frac_rest = 1;
}

include query_value_common "query.rl";

id := id_value;
timeout := timeout_value;
limit := limit_value;
first := first_value;
after := after_value;
switch := switch_value;

write data;
}%%

/* Runs the value machine over data[0..len). */
static void value_run(qvalue_t *v, const unsigned char *data, size_t len)
{
    const unsigned char *p = data, *pe = data + len;

    /* Once in the error state, later bytes change nothing. */
    if (v->cs != query_value_error) {
        %% write exec;
    }
}

static int value_ok(const qvalue_t *v)
{
    return v->cs >= query_value_first_final;
}

static void set_err(qsplit_t *st, int key, const char *why)
{
    const char **slot = key == K_CAMERA ? &st->q->camera_err : &st->q->other_err;
    if (*slot == NULL)
        *slot = why;
    if (st->q->err[key] == NULL)
        st->q->err[key] = why;
}

/* The name is complete: look it up and get ready for its value. */
static void begin_value(qsplit_t *st)
{
    static const int entry[K_COUNT] = {
        0,
        query_value_en_id,
        query_value_en_id,
        query_value_en_timeout,
        query_value_en_limit,
        0,
        query_value_en_id,
        query_value_en_first,
        query_value_en_after,
        query_value_en_switch,
        query_value_en_switch,
    };

    st->in_value = 1;
    st->key = K_OTHER;
    for (int k = K_CAMERA; k < K_COUNT; k++) {
        if (st->name_len == strlen(known[k]) && memcmp(st->name, known[k], st->name_len) == 0)
            st->key = k;
    }
    st->v = (qvalue_t){.cs = entry[st->key]};
}

/* One decoded byte of the current name or value. */
static void put(qsplit_t *st, unsigned char c)
{
    if (!st->in_value) {
        if (st->name_len < QNAME_MAX)
            st->name[st->name_len] = (char)c;
        st->name_len++;
        return;
    }
    if (st->key == K_OTHER)
        return;
    if (st->val_len < SINCE_MAX)
        st->val[st->val_len++] = (char)c;
    else
        st->val_long = 1;
    if (st->key != K_SINCE)
        value_run(&st->v, &c, 1);
}

static void copy_id(char dst[ID_MAX + 1], const qsplit_t *st)
{
    memcpy(dst, st->val, st->val_len);
    dst[st->val_len] = '\0';
}

static void check_timeout(qsplit_t *st)
{
    const qvalue_t *v = &st->v;
    /* [0.1, 300] exactly: the truncated ms decide the lower bound, the
     * digits past the third decide whether 300 itself is exceeded. */
    uint64_t ms = v->num * 1000 + v->frac_ms;

    if (!value_ok(v))
        set_err(st, K_TIMEOUT, "bad timeout: expected seconds like 30 or 2.5");
    else if (ms < 100 || ms + v->frac_rest > 300000)
        set_err(st, K_TIMEOUT, "timeout must be between 0.1 and 300 seconds");
    else {
        st->q->timeout_ms = (uint32_t)(ms + v->frac_rest);
        st->q->has_timeout = 1;
    }
}

static void check_since(qsplit_t *st)
{
    query_t *q = st->q;
    size_t at;

    if (st->val_long) {
        set_err(st, K_SINCE, "since is too long");
        return;
    }
    memcpy(q->since, st->val, st->val_len);
    q->since[st->val_len] = '\0';
    if (rfc3339_parse(q->since, st->val_len, &q->since_t, &at) < 0)
        set_err(st, K_SINCE, "bad since: expected an RFC 3339 date-time");
    else
        q->has_since = 1;
}

/* 1.2: first = 1*DIGIT, 1 to 2^53. */
static void check_first(qsplit_t *st)
{
    if (!value_ok(&st->v))
        set_err(st, K_FIRST, "bad first: expected a whole number");
    else if (st->v.seq < 1 || st->v.seq > QUERY_SEQ_MAX)
        set_err(st, K_FIRST, "first must be between 1 and 2^53");
    else {
        st->q->first = st->v.seq;
        st->q->has_first = 1;
    }
}

/* 1.2: after = EPOCH:SEQ, SEQ 0 to 2^53 (as `first`, 0 allowed). */
static void check_after(qsplit_t *st)
{
    query_t *q = st->q;
    if (!value_ok(&st->v)) {
        set_err(st, K_AFTER, "bad after: expected a cursor EPOCH:SEQ");
    } else if (st->v.seq > QUERY_SEQ_MAX) {
        set_err(st, K_AFTER, "bad after: SEQ must be at most 2^53");
    } else {
        size_t n = (size_t)((const char *)memchr(st->val, ':', st->val_len) - st->val);
        memcpy(q->after_epoch, st->val, n);
        q->after_epoch[n] = '\0';
        q->after_seq = st->v.seq;
        q->has_after = 1;
    }
}

/* 1.2: a switch is 0 or 1. */
static void check_switch(qsplit_t *st, bool *on)
{
    if (!value_ok(&st->v))
        set_err(st, st->key, st->key == K_STALE ? "bad stale: expected 0 or 1"
                                                : "bad follow: expected 0 or 1");
    else
        *on = st->v.num == 1;
}

/* A known parameter is complete: check it once and store it. */
static void finish_known(qsplit_t *st)
{
    query_t *q = st->q;
    int ok = value_ok(&st->v);

    if (st->seen & (1u << st->key)) {
        set_err(st, st->key, repeated[st->key]);
        return;
    }
    st->seen |= 1u << st->key;
    switch (st->key) {
    case K_CAMERA:
        if (!ok)
            set_err(st, K_CAMERA, st->val_len ? "bad camera id" : "empty camera id");
        else {
            copy_id(q->camera, st);
            q->has_camera = 1;
        }
        break;
    case K_REQUEST_ID:
        if (!ok)
            set_err(st, K_REQUEST_ID, "bad request_id");
        else {
            copy_id(q->request_id, st);
            q->has_request_id = 1;
        }
        break;
    case K_TIMEOUT:
        check_timeout(st);
        break;
    case K_LIMIT:
        if (!ok)
            set_err(st, K_LIMIT, "bad limit: expected a whole number");
        else if (st->v.num < 1 || st->v.num > 1000000)
            set_err(st, K_LIMIT, "limit must be between 1 and 1000000");
        else {
            q->limit = (uint32_t)st->v.num;
            q->has_limit = 1;
        }
        break;
    case K_SINCE:
        check_since(st);
        break;
    case K_EPOCH:
        if (!ok)
            set_err(st, K_EPOCH, "bad epoch");
        else {
            copy_id(q->epoch, st);
            q->has_epoch = 1;
        }
        break;
    case K_FIRST:
        check_first(st);
        break;
    case K_AFTER:
        check_after(st);
        break;
    case K_STALE:
        check_switch(st, &q->stale);
        break;
    case K_FOLLOW:
        check_switch(st, &q->follow);
        break;
    }
}

/* Forgets the current parameter; the next one starts clean. */
static void reset_param(qsplit_t *st)
{
    st->in_value = 0;
    st->key = K_OTHER;
    st->name_len = 0;
    st->val_len = 0;
    st->val_long = 0;
}

static void end_param(qsplit_t *st)
{
    if (!st->in_value)
        begin_value(st); /* "name" alone: an empty value */
    if (st->key != K_OTHER)
        finish_known(st);
    reset_param(st);
}

/* A '%' not followed by two hex digits: 400 wherever it is. */
static void bad_escape(qsplit_t *st)
{
    int key = st->in_value ? st->key : K_OTHER;

    set_err(st, key, key == K_CAMERA ? "bad %-escape in camera" : "bad %-escape in query");
    if (key != K_OTHER)
        st->seen |= 1u << key;
    reset_param(st);
}

%%{
machine query_split;
access st->;
alphtype unsigned char;

action hex_hi { st->hex = (unsigned char)(hexval(fc) << 4); }
action hex_lo { put(st, st->hex | hexval(fc)); }
action byte { put(st, fc); }
action eq { begin_value(st); }
action param_end { end_param(st); }

# Record the error, then resume after the next '&' so that a later
# `camera` is still seen (its errors come first on camera endpoints).
action bad_escape {
    bad_escape(st);
    if (p < pe) {
        fhold;
        fgoto skip;
    }
}
action resume { fgoto main; }

include query_split_common "query.rl";

main := query $!bad_escape;
skip := skip_rest @resume;

write data nofinal noentry;
}%%

void query_parse(const char *s, size_t len, query_t *q)
{
    qsplit_t split = {0}, *st = &split;
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *pe = p + len, *eof = pe;

    *q = (query_t){0};
    st->q = q;
    %% write init;
    %% write exec;
    /* A numbering camera's /send-stats sends both (only endpoints that take
     * `first` look at this). */
    if (q->has_epoch && !q->has_first && q->err[K_FIRST] == NULL)
        q->err[K_FIRST] = "missing first: a numbering camera sends epoch and first";
}

const char *query_error(const query_t *q, unsigned mask)
{
    for (int k = 0; k < QP__COUNT; k++)
        if ((mask & QP_BIT(k)) && q->err[k] != NULL)
            return q->err[k];
    return NULL;
}

bool query_valid_id(const char *s, size_t len)
{
    qvalue_t v = {.cs = query_value_en_id};

    value_run(&v, (const unsigned char *)(s ? s : ""), len);
    return value_ok(&v);
}

%%{
machine query_bearer;
alphtype unsigned char;

action tok_start { *tok = (const char *)fpc; }
action tok_byte  { end = (const char *)fpc + 1; }

include query_bearer_common "query.rl";

main := bearer;

write data noentry;
}%%

int query_bearer(const char *v, size_t len, const char **tok, size_t *tok_len)
{
    const unsigned char *p = (const unsigned char *)(v ? v : ""), *pe = p + len;
    const char *end = NULL; /* just past the token's last byte */
    int cs;

    *tok = NULL;
    %% write init;
    %% write exec;
    if (cs < query_bearer_first_final)
        return -1;
    *tok_len = (size_t)(end - *tok);
    return 0;
}
