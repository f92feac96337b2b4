/* Host code for spec/control.rl: decodes the control message the camera
 * receives on a 200 from /control-channel, and the "error" of the api's
 * refusals (the same JSON grammar, another set of known members). The body
 * is whole, so one pass over it; strings are decoded into one scratch
 * buffer, which is all the known members need (ASCII ids, an RFC 3339
 * string, the first SINCE_MAX bytes of an error text). */
#include <string.h>

#include "control.h"

enum { K_OTHER, K_REQUEST_ID, K_CAMERA, K_LIMIT, K_SINCE, K_AFTER, K_FOLLOW, K_COUNT };
enum { K_ERROR = K_COUNT };
enum { VT_STRING, VT_NUMBER, VT_OTHER };

static const char *const known[K_COUNT] = {NULL,    "request_id", "camera", "limit",
                                           "since", "after",      "follow"};
static const char *const repeated[K_COUNT] = {
    NULL,
    "repeated member request_id",
    "repeated member camera",
    "repeated member limit",
    "repeated member since",
    "repeated member after",
    "repeated member follow",
};

#define CONTROL_DEPTH 32     /* nested arrays/objects inside an ignored member */
#define NUM_CAP 100000000u   /* integers saturate here, far above any limit */
#define NON_ASCII 0xff       /* stands for a decoded non-ASCII character */

typedef struct cstate {
    int cs, top, stack[CONTROL_DEPTH];
    control_msg_t *m;
    const char *why; /* the first problem */
    int key, vtype;
    unsigned seen; /* bit per K_* */
    uint32_t u;    /* the \uXXXX being decoded */
    uint64_t num;
    int num_int; /* the number has no sign, fraction or exponent */
    char s[SINCE_MAX + 1];
    size_t s_len;
    int s_long;
    char *err;     /* control_decode_error: where the "error" goes, else NULL */
    size_t err_n;  /* its size */
    bool err_seen; /* the first "error" member was taken */
} cstate_t;

static unsigned hexval(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void fail(cstate_t *st, const char *why)
{
    if (st->why == NULL)
        st->why = why;
}

/* One decoded byte of the current string. */
static void put(cstate_t *st, unsigned char c)
{
    if (st->s_len < SINCE_MAX)
        st->s[st->s_len++] = (char)c;
    else
        st->s_long = 1;
}

static unsigned char unescape(unsigned char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default: /* '"', '\\', '/' */
        return c;
    }
}

static void key_end(cstate_t *st)
{
    st->key = K_OTHER;
    st->num = 0;
    st->num_int = 1;
    if (st->err) { /* an error reply: "error" is the only member that matters */
        if (!st->s_long && st->s_len == 5 && memcmp(st->s, "error", 5) == 0)
            st->key = K_ERROR;
        return;
    }
    for (int k = K_REQUEST_ID; k < K_COUNT; k++) {
        if (!st->s_long && st->s_len == strlen(known[k]) && memcmp(st->s, known[k], st->s_len) == 0)
            st->key = k;
    }
}

/* The first string "error" member of an error reply, cut to fit. */
static void take_error(cstate_t *st)
{
    size_t n = st->s_len < st->err_n - 1 ? st->s_len : st->err_n - 1;

    if (st->vtype != VT_STRING || st->err_seen)
        return;
    memcpy(st->err, st->s, n);
    st->err[n] = '\0';
    st->err_seen = true;
}

/* A string member holding an id: copies it into dst, or fails. */
static void take_id(cstate_t *st, char dst[ID_MAX + 1], bool *has, const char *why)
{
    if (st->vtype != VT_STRING || st->s_long || !query_valid_id(st->s, st->s_len)) {
        fail(st, why);
        return;
    }
    memcpy(dst, st->s, st->s_len);
    dst[st->s_len] = '\0';
    *has = true;
}

static void take_since(cstate_t *st)
{
    control_msg_t *m = st->m;
    size_t at;

    if (st->vtype != VT_STRING || st->s_long) {
        fail(st, "bad since in control message");
        return;
    }
    memcpy(m->since, st->s, st->s_len);
    m->since[st->s_len] = '\0';
    if (rfc3339_parse(m->since, st->s_len, &m->since_t, &at) < 0)
        fail(st, "bad since in control message");
    else
        m->has_since = true;
}

%%{
machine control_cursor;
access cur.;
alphtype unsigned char;

action cur_epoch { cur.epoch_len = (size_t)(fpc - (const unsigned char *)st->s) + 1; }
action cur_d {
    cur.seq = cur.seq * 10 + (uint64_t)(fc - '0');
    if (cur.seq > CONTROL_SEQ_MAX)
        fbreak;
}

include cursor_common "cursor.rl";
main := cursor;

write data noerror noentry;
}%%

/* The wake-up's "after" (1.2). A bad one does not spoil the message: the
 * camera sends as if it had none (a full reply is always right) and says
 * so (after_bad). */
static void take_after(cstate_t *st)
{
    control_msg_t *m = st->m;
    struct {
        int cs;
        size_t epoch_len;
        uint64_t seq;
    } cur = {0};
    const unsigned char *p = (const unsigned char *)st->s, *pe = p + st->s_len, *eof = pe;

    m->after_bad = true;
    if (st->vtype != VT_STRING || st->s_long) {
        return; /* braces: the generated init below is not part of this if */
    }
    %% write init;
    %% write exec;
    if (cur.cs < control_cursor_first_final || cur.seq > CONTROL_SEQ_MAX)
        return;
    memcpy(m->after_epoch, st->s, cur.epoch_len);
    m->after_epoch[cur.epoch_len] = '\0';
    m->after_seq = cur.seq;
    m->has_after = true;
    m->after_bad = false;
    (void)eof;
}

/* "follow" (1.2, a follow upload: parsed only, for now): whole seconds,
 * 1 to 60. A bad one is ignored like a bad after. */
static void take_follow(cstate_t *st)
{
    control_msg_t *m = st->m;

    if (st->vtype != VT_NUMBER || !st->num_int || st->num < 1 || st->num > 60) {
        m->follow_bad = true;
        return;
    }
    m->follow = (uint32_t)st->num;
    m->has_follow = true;
}

/* A top-level member is complete: check and store a known one. */
static void member_end(cstate_t *st)
{
    control_msg_t *m = st->m;

    if (st->key == K_OTHER)
        return;
    if (st->key == K_ERROR) {
        take_error(st);
        return;
    }
    if (st->seen & (1u << st->key)) {
        fail(st, repeated[st->key]);
        return;
    }
    st->seen |= 1u << st->key;
    switch (st->key) {
    case K_REQUEST_ID:
        take_id(st, m->request_id, &m->has_request_id, "bad request_id in control message");
        break;
    case K_CAMERA:
        take_id(st, m->camera, &m->has_camera, "bad camera in control message");
        break;
    case K_LIMIT:
        if (st->vtype != VT_NUMBER || !st->num_int || st->num < 1 || st->num > 1000000) {
            fail(st, "bad limit in control message");
            break;
        }
        m->limit = (uint32_t)st->num;
        m->has_limit = true;
        break;
    case K_SINCE:
        take_since(st);
        break;
    case K_AFTER:
        take_after(st);
        break;
    case K_FOLLOW:
        take_follow(st);
        break;
    }
}

%%{
machine control;
access st->;
alphtype unsigned char;

action str_start { st->s_len = 0; st->s_long = 0; }
action ch { put(st, fc); }
action esc_c { put(st, unescape(fc)); }
action u_start { st->u = 0; }
action u_d { st->u = st->u * 16 + hexval(fc); }
action u_end { put(st, st->u < 0x80 ? (unsigned char)st->u : NON_ASCII); }
action u_wide { put(st, NON_ASCII); }

action int_d {
    if (st->num < NUM_CAP)
        st->num = st->num * 10 + (fc - '0');
}
action not_int { st->num_int = 0; }

action key_end { key_end(st); }
action vt_string { st->vtype = VT_STRING; }
action vt_number { st->vtype = VT_NUMBER; }
action vt_other { st->vtype = VT_OTHER; }
action member_end { member_end(st); }

action call_object {
    if (st->top >= CONTROL_DEPTH) {
        fail(st, "control message nested too deep");
        fbreak;
    }
    fcall nested_object;
}
action call_array {
    if (st->top >= CONTROL_DEPTH) {
        fail(st, "control message nested too deep");
        fbreak;
    }
    fcall nested_array;
}
action ret { fret; }

include control_common "control.rl";

nested_object := skip_object;
nested_array := skip_array;
main := object;

write data noentry;
}%%

/* One pass of the machine over a whole body; sets st->why on a problem. */
static void run(cstate_t *st, const char *body, size_t len)
{
    const unsigned char *p = (const unsigned char *)body, *pe = p + len;

    %% write init;
    %% write exec;
    if (st->why == NULL && st->cs == control_error)
        st->why = "malformed control message";
    else if (st->why == NULL && (st->cs < control_first_final || st->top != 0))
        st->why = "truncated control message";
}

int control_decode(const char *body, size_t len, control_msg_t *m, const char **why)
{
    cstate_t state = {0}, *st = &state;

    *m = (control_msg_t){0};
    *why = NULL;
    if (len == 0)
        return 0; /* an old-style server sends no body */
    st->m = m;
    run(st, body, len);
    if (st->why != NULL) {
        *why = st->why;
        *m = (control_msg_t){0};
        return -1;
    }
    return 0;
}

int control_decode_error(const char *body, size_t len, char *out, size_t n)
{
    cstate_t state = {0}, *st = &state;
    control_msg_t unused;

    if (n == 0)
        return -1;
    out[0] = '\0';
    if (len == 0)
        return -1;
    st->m = &unused;
    st->err = out;
    st->err_n = n;
    run(st, body, len);
    if (st->why != NULL || !st->err_seen) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
