/* HTTP/1.1 request parser (runtime/http1.h), differential:
 *  - split invariance: the transcript of a run (tests/http1_script.h: heads,
 *    bodies, pipelined requests, refusals with offsets) is the same fed
 *    whole, in fuzzer-chosen pieces and byte by byte;
 *  - against picohttpparser (h2o 2.2.5's copy, exported by libh2o-evloop):
 *    where both accept a head, the method, target, version, consumed length
 *    and fields agree (our values are theirs without trailing OWS), and the
 *    framing read here from their fields (Content-Length, chunked,
 *    keep-alive, 100-continue) is ours; where we accept and they refuse,
 *    the head must start with two empty lines (they skip one). A chunked
 *    body we accept decodes to the same bytes and length with
 *    phr_decode_chunked, unless a chunk size has more than 16 hex digits
 *    (their limit). picohttpparser is more lenient (bare LF, obs-fold, any
 *    minor version, no trailing-OWS trim), so where we refuse nothing is
 *    asserted but the refusal's own rules;
 *  - invariants: spans inside the head, tokens, trimmed values without
 *    controls, statuses from the documented set, offsets within the input.
 *
 * Input: byte 0 = flags: bits 0-2 how many piece-length bytes follow (used
 * cyclically), bit 7 "expand": 0xFF c in the rest stands for the previous
 * byte repeated c*40 times (reaches the 8192-byte head limit). The rest is
 * the bytes a client sent. */
#include <string.h>
#include <sys/types.h>

#include "../tests/http1_script.h"
#include "common.h"

#define INPUT_MAX (4 * HTTP1_HEAD_MAX)

/* picohttpparser as h2o 2.2.5 ships it (deps/picohttpparser). */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
struct phr_chunked_decoder {
    size_t bytes_left_in_chunk;
    char consume_trailer, _hex_count, _state;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);
ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz);

#include "fuzz_http1_ref.h"

/* Expands 0xFF c into the previous byte repeated c*40 times. */
static size_t expand(char *out, const uint8_t *in, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < INPUT_MAX; i++) {
        if (in[i] == 0xff && i + 1 < n && o > 0) {
            for (size_t k = (size_t)in [++i] * 40; k && o < INPUT_MAX; k--, o++)
                out[o] = out[o - 1];
        } else {
            out[o++] = (char)in[i];
        }
    }
    return o;
}

/* Cut points from cyclic piece lengths (0 is a one-byte piece after an
 * empty one: the cut is repeated). */
static size_t make_cuts(size_t *cuts, size_t max, size_t len, const uint8_t *lens, size_t nlens)
{
    size_t n = 0, at = 0;
    for (size_t k = 0; nlens && n + 2 < max; k++) {
        size_t step = lens[k % nlens];
        if (step == 0 && n + 2 < max && at < len)
            cuts[n++] = at, step = 1;
        if (at + step >= len)
            break;
        at += step;
        cuts[n++] = at;
    }
    return n;
}

static void split_invariance(const char *in, size_t len, const uint8_t *lens, size_t nlens)
{
    static size_t cuts[INPUT_MAX + 2];
    buf_t whole = BUF_INIT, r = BUF_INIT;

    script_run(&whole, in, len, NULL, 0);
    FUZZ_CHECK(!script_violated(&whole), "%s", whole.data);
    size_t n = make_cuts(cuts, sizeof cuts / sizeof *cuts, len, lens, nlens);
    script_run(&r, in, len, cuts, n);
    FUZZ_CHECK(script_eq(&whole, &r), "pieces differ:\n%s\nwhole:\n%s", r.data, whole.data);
    if (len <= 2048) {
        for (size_t i = 0; i + 1 < len; i++)
            cuts[i] = i + 1;
        script_run(&r, in, len, cuts, len ? len - 1 : 0);
        FUZZ_CHECK(script_eq(&whole, &r), "byte by byte differs:\n%s\nwhole:\n%s", r.data,
                   whole.data);
    }
    buf_free(&whole);
    buf_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char in[INPUT_MAX];
    if (size == 0)
        return 0;
    size_t nlens = data[0] & 7;
    if (nlens > size - 1)
        nlens = size - 1;
    const uint8_t *lens = data + 1, *rest = data + 1 + nlens;
    size_t n = size - 1 - nlens;
    if (data[0] & 0x80) {
        n = expand(in, rest, n);
    } else {
        if (n > INPUT_MAX)
            n = INPUT_MAX;
        memcpy(in, rest, n);
    }
    /* an exact-size copy, so ASan sees any read past the input */
    char *copy = malloc(n ? n : 1);
    memcpy(copy, in, n);
    split_invariance(copy, n, lens, nlens);
    ref_requests(copy, n);
    free(copy);
    return 0;
}
