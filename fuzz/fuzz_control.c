/* The control message decoder (runtime/control.h): never crashes; what it
 * accepts holds only valid values; and a decoded message that carries both
 * ids (the api always sends them) encodes to JSON that decodes to the same
 * message. A message without them is encoded with empty ids, which are
 * invalid, so it is only checked not to decode. The error-reply reader on
 * the same input: never crashes, never overruns its buffer, a shorter
 * buffer gets a prefix of a longer one's text; and {"error":<the input as
 * a JSON string>} (valid UTF-8 input without NUL) gives the input back. */
#include <string.h>

#include "common.h"
#include "control.h"
#include "jsonw.h"

static void check_valid(const control_msg_t *m)
{
    FUZZ_CHECK(!m->has_request_id || query_valid_id(m->request_id, strlen(m->request_id)),
               "request_id");
    FUZZ_CHECK(!m->has_camera || query_valid_id(m->camera, strlen(m->camera)), "camera");
    FUZZ_CHECK(!m->has_limit || (m->limit >= 1 && m->limit <= 1000000), "limit %u", m->limit);
    FUZZ_CHECK(!m->has_after || (query_valid_id(m->after_epoch, strlen(m->after_epoch)) &&
                                 m->after_seq <= CONTROL_SEQ_MAX && !m->after_bad),
               "after %s:%llu", m->after_epoch, (unsigned long long)m->after_seq);
    FUZZ_CHECK(!m->has_follow || (m->follow >= 1 && m->follow <= 60 && !m->follow_bad), "follow");
    if (m->has_since) {
        rfc3339_t t;
        size_t at;
        FUZZ_CHECK(rfc3339_parse(m->since, strlen(m->since), &t, &at) == 0 &&
                       t.sec == m->since_t.sec && t.frac_off == m->since_t.frac_off &&
                       t.frac_len == m->since_t.frac_len && t.leap == m->since_t.leap,
                   "since %s", m->since);
    }
}

static void check_same(const control_msg_t *a, const control_msg_t *b)
{
    FUZZ_CHECK(a->has_request_id == b->has_request_id && a->has_camera == b->has_camera &&
                   a->has_limit == b->has_limit && a->has_since == b->has_since,
               "round trip: flags");
    FUZZ_CHECK(!strcmp(a->request_id, b->request_id) && !strcmp(a->camera, b->camera),
               "round trip: ids %s/%s vs %s/%s", a->request_id, a->camera, b->request_id,
               b->camera);
    FUZZ_CHECK(!a->has_limit || a->limit == b->limit, "round trip: limit");
    FUZZ_CHECK(a->has_after == b->has_after && a->has_follow == b->has_follow &&
                   (!a->has_after ||
                    (!strcmp(a->after_epoch, b->after_epoch) && a->after_seq == b->after_seq)) &&
                   (!a->has_follow || a->follow == b->follow),
               "round trip: after/follow");
    FUZZ_CHECK(!a->has_since || (!strcmp(a->since, b->since) && a->since_t.sec == b->since_t.sec &&
                                 a->since_t.frac_off == b->since_t.frac_off &&
                                 a->since_t.frac_len == b->since_t.frac_len &&
                                 a->since_t.leap == b->since_t.leap),
               "round trip: since");
}

static void check_error_reader(const char *in, size_t size)
{
    char small[17], big[SINCE_MAX + 8];
    int rs = control_decode_error(in, size, small, sizeof(small));
    int rb = control_decode_error(in, size, big, sizeof(big));

    FUZZ_CHECK(rs == rb, "error reader: %d with 17 bytes, %d with more", rs, rb);
    FUZZ_CHECK(strlen(small) < sizeof(small) && strlen(big) <= SINCE_MAX, "error text too long");
    FUZZ_CHECK(rs == 0 || (small[0] == '\0' && big[0] == '\0'), "rejected but text set");
    FUZZ_CHECK(strncmp(small, big, strlen(small)) == 0, "small text not a prefix");
    if (!fuzz_utf8_ok(in, size))
        return;
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"line\":1,\"error\":");
    jsonw_string(&b, in, size);
    buf_puts(&b, ",\"error\":\"second\"}");
    size_t want = size < SINCE_MAX ? size : SINCE_MAX;
    FUZZ_CHECK(control_decode_error(b.data, b.len, big, sizeof(big)) == 0 && strlen(big) == want &&
                   memcmp(big, in, want) == 0,
               "error round trip: %s", b.data);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    control_msg_t m, back;
    const char *why;
    buf_t b = BUF_INIT;

    check_error_reader((const char *)data, size);
    int rc = control_decode((const char *)data, size, &m, &why);
    FUZZ_CHECK((rc == 0) == (why == NULL), "rc %d why %s", rc, why ? why : "-");
    if (rc < 0)
        return 0;
    check_valid(&m);
    control_encode(&b, &m);
    int rc2 = control_decode(b.data, b.len, &back, &why);
    if (m.has_request_id && m.has_camera) {
        FUZZ_CHECK(rc2 == 0, "re-encoded message rejected: %s: %s", why, b.data);
        check_same(&m, &back);
    } else {
        FUZZ_CHECK(rc2 < 0, "message with an empty id accepted: %s", b.data);
    }
    buf_free(&b);
    return 0;
}
