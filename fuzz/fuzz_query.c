/* Query strings, ids and "Bearer" values (runtime/query.h). No crash, and:
 * - every field query_parse sets holds what the contract allows (ids valid
 *   by a checker written here, timeout 0.1-300 s, limit 1-1000000, since an
 *   RFC 3339 string that rfc3339_parse reads the same);
 * - the same query with every byte but '&' and '=' written as %HH parses
 *   the same (checked when the input has no '%' of its own);
 * - query_valid_id and query_bearer agree with plain-C references. */
#include <string.h>
#include <strings.h>

#include "common.h"
#include "query.h"

static int ref_id_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static int ref_valid_id(const uint8_t *s, size_t n)
{
    if (n < 1 || n > ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ref_id_char(s[i]))
            return 0;
    return 1;
}

/* Leading and trailing SP/HTAB cut off the value first (optional white
 * space); then "Bearer" (any case), one or more spaces, and visible ASCII to
 * the end of what is left, which is the token. */
static int ref_bearer(const uint8_t *v, size_t n, size_t *tok_at, size_t *tok_len)
{
    size_t b = 0, i;
    while (b < n && (v[b] == ' ' || v[b] == '\t'))
        b++;
    while (n > b && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n - b < 6 || strncasecmp((const char *)v + b, "bearer", 6) != 0)
        return -1;
    for (i = b + 6; i < n && v[i] == ' ';)
        i++;
    if (i == b + 6 || i == n)
        return -1;
    *tok_at = i;
    *tok_len = n - i;
    for (; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e)
            return -1;
    return 0;
}

static void check_fields(const query_t *q)
{
    FUZZ_CHECK(!q->has_camera || ref_valid_id((const uint8_t *)q->camera, strlen(q->camera)),
               "camera %s", q->camera);
    FUZZ_CHECK(!q->has_request_id ||
                   ref_valid_id((const uint8_t *)q->request_id, strlen(q->request_id)),
               "request_id %s", q->request_id);
    FUZZ_CHECK(!q->has_timeout || (q->timeout_ms >= 100 && q->timeout_ms <= 300000),
               "timeout_ms %u", q->timeout_ms);
    FUZZ_CHECK(!q->has_limit || (q->limit >= 1 && q->limit <= 1000000), "limit %u", q->limit);
    if (q->has_since) {
        rfc3339_t t;
        size_t at;
        FUZZ_CHECK(rfc3339_parse(q->since, strlen(q->since), &t, &at) == 0 &&
                       t.sec == q->since_t.sec && t.frac_off == q->since_t.frac_off &&
                       t.frac_len == q->since_t.frac_len && t.leap == q->since_t.leap,
                   "since %s does not re-parse the same", q->since);
    }
    /* 1.2 */
    FUZZ_CHECK(!q->has_epoch || ref_valid_id((const uint8_t *)q->epoch, strlen(q->epoch)),
               "epoch %s", q->epoch);
    FUZZ_CHECK(!q->has_first || (q->first >= 1 && q->first <= QUERY_SEQ_MAX), "first");
    FUZZ_CHECK(!q->has_after ||
                   (ref_valid_id((const uint8_t *)q->after_epoch, strlen(q->after_epoch)) &&
                    q->after_seq <= QUERY_SEQ_MAX),
               "after %s:%llu", q->after_epoch, (unsigned long long)q->after_seq);
}

static int same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static void check_same(const query_t *a, const query_t *b)
{
    FUZZ_CHECK(a->has_camera == b->has_camera && a->has_request_id == b->has_request_id &&
                   a->has_timeout == b->has_timeout && a->has_limit == b->has_limit &&
                   a->has_since == b->has_since,
               "flags differ after %%-encoding");
    FUZZ_CHECK(!a->has_camera || !strcmp(a->camera, b->camera), "camera differs");
    FUZZ_CHECK(!a->has_request_id || !strcmp(a->request_id, b->request_id), "request_id");
    FUZZ_CHECK(!a->has_timeout || a->timeout_ms == b->timeout_ms, "timeout differs");
    FUZZ_CHECK(!a->has_limit || a->limit == b->limit, "limit differs");
    FUZZ_CHECK(!a->has_since || !strcmp(a->since, b->since), "since differs");
    FUZZ_CHECK(a->has_epoch == b->has_epoch && a->has_first == b->has_first &&
                   a->has_after == b->has_after && a->stale == b->stale && a->follow == b->follow &&
                   (!a->has_epoch || !strcmp(a->epoch, b->epoch)) && a->first == b->first &&
                   (!a->has_after ||
                    (!strcmp(a->after_epoch, b->after_epoch) && a->after_seq == b->after_seq)),
               "1.2 parameters differ after %%-encoding");
    FUZZ_CHECK(same_str(a->camera_err, b->camera_err), "camera_err %s vs %s",
               a->camera_err ? a->camera_err : "-", b->camera_err ? b->camera_err : "-");
    FUZZ_CHECK(same_str(a->other_err, b->other_err), "other_err %s vs %s",
               a->other_err ? a->other_err : "-", b->other_err ? b->other_err : "-");
}

/* Percent-encodes everything but the separators, hex case alternating. */
static void check_encoded(const uint8_t *data, size_t size, const query_t *q)
{
    static const char hex[2][17] = {"0123456789ABCDEF", "0123456789abcdef"};
    char *enc = malloc(size * 3 + 1);
    size_t n = 0;
    query_t q2;

    for (size_t i = 0; i < size; i++) {
        if (data[i] == '&' || data[i] == '=') {
            enc[n++] = (char)data[i];
            continue;
        }
        enc[n++] = '%';
        enc[n++] = hex[i & 1][data[i] >> 4];
        enc[n++] = hex[i & 1][data[i] & 15];
    }
    query_parse(enc, n, &q2);
    check_same(q, &q2);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    query_t q;
    const char *tok;
    size_t tok_len, want_at = 0, want_len = 0;

    query_parse((const char *)data, size, &q);
    check_fields(&q);
    if (!memchr(data, '%', size))
        check_encoded(data, size, &q);

    FUZZ_CHECK(query_valid_id((const char *)data, size) == ref_valid_id(data, size), "valid_id");
    int rc = query_bearer((const char *)data, size, &tok, &tok_len);
    int want = ref_bearer(data, size, &want_at, &want_len);
    FUZZ_CHECK(rc == want, "bearer %d vs reference %d", rc, want);
    FUZZ_CHECK(rc < 0 || (tok == (const char *)data + want_at && tok_len == want_len),
               "bearer token at %td+%zu vs reference %zu+%zu", tok - (const char *)data, tok_len,
               want_at, want_len);
    return 0;
}
