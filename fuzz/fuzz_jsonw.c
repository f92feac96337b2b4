/* The JSON writer (runtime/jsonw.h): records made of arbitrary valid UTF-8
 * strings (the input with invalid bytes and NULs dropped, split into
 * strings at each 0xFF byte) -> jsonw_records -> cJSON must read back the
 * same strings, in order, each object with exactly the two members, and
 * jsonw_record_len must add up to the bytes written. Byte 0 picks a limit
 * (0-3, 0 = none) to exercise the selection too. */
#include <cjson/cJSON.h>
#include <string.h>

#include "common.h"
#include "jsonw.h"

#define MAX_RECS 64

/* Appends to out the bytes of s[0..n) that form valid UTF-8 without NUL. */
static size_t keep_utf8(char *out, const uint8_t *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = s[i] ? fuzz_utf8_seq(s + i, n - i) : 0;
        if (k == 0) {
            i++;
            continue;
        }
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    return o;
}

static void check_string(const cJSON *item, const char *name, const char *want, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, name);
    FUZZ_CHECK(cJSON_IsString(v), "%s is not a string", name);
    FUZZ_CHECK(strlen(v->valuestring) == n && !memcmp(v->valuestring, want, n),
               "%s differs: %s vs %s", name, v->valuestring, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    record_t *recs[MAX_RECS];
    size_t n = 0;
    rfc3339_t when = {0};

    if (size < 1)
        return 0;
    record_filter_t f = {.limit = data[0] % 4};
    char *tmp = malloc(size), *strs[2];
    size_t lens[2], k = 0;
    for (size_t i = 1; i <= size && n < MAX_RECS; i++) {
        const uint8_t *start = data + i, *end = memchr(start, 0xff, size - i);
        size_t len = end ? (size_t)(end - start) : size - i;
        lens[k] = keep_utf8(tmp, start, len);
        strs[k] = xmemdup(tmp, lens[k]);
        if (++k == 2) {
            recs[n++] = record_new(strs[0], lens[0], strs[1], lens[1], &when);
            free(strs[0]), free(strs[1]), k = 0;
        }
        i += len;
    }
    if (k == 1)
        free(strs[0]);

    buf_t b = BUF_INIT;
    jsonw_records(&b, recs, n, &f);
    const char *endp = NULL;
    cJSON *arr = cJSON_ParseWithLengthOpts(b.data, b.len, &endp, 0);
    FUZZ_CHECK(arr && cJSON_IsArray(arr) && endp == b.data + b.len, "not a JSON array: %s", b.data);
    size_t want = f.limit && f.limit < n ? f.limit : n, first = n - want, i = 0;
    FUZZ_CHECK((size_t)cJSON_GetArraySize(arr) == want, "%d objects, want %zu",
               cJSON_GetArraySize(arr), want);
    for (const cJSON *item = arr->child; item; item = item->next, i++) {
        const record_t *r = recs[first + i];
        FUZZ_CHECK(cJSON_GetArraySize(item) == 2, "object with %d members",
                   cJSON_GetArraySize(item));
        check_string(item, "description", r->description, r->description_len);
        check_string(item, "timestamp", record_ts(r), r->timestamp_len);
    }
    /* The lengths a /logs reply announces before rendering (api/relay/body.c). */
    size_t sum = 2;
    for (i = 0; i < want; i++)
        sum += jsonw_record_len(recs[first + i]) + (i > 0);
    FUZZ_CHECK(sum == b.len, "announced %zu bytes, rendered %zu", sum, b.len);
    cJSON_Delete(arr);
    buf_free(&b);
    for (i = 0; i < n; i++)
        free(recs[i]);
    free(tmp);
    return 0;
}
