/* The EOL stream (PROTOCOL.md, "The EOL stream format"): a push decoder
 * generated from spec/eol.rl, and the encoder the camera uses. */
#ifndef EOL_H
#define EOL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rfc3339.h"

#define EOL_LINE_MAX 65536              /* bytes per line, line ending excluded */
#define EOL_JSON_DEPTH 64               /* nesting allowed inside a record's other members */
#define EOL_SEQ_MAX 9007199254740991ULL /* 2^53-1: the largest seq */

/** A decoded record, valid only during the on_record callback: strings are
 * decoded UTF-8 (JSON escapes resolved) and NUL-terminated. */
typedef struct eol_record {
    const char *description, *timestamp;
    size_t description_len, timestamp_len;
    rfc3339_t when; /* relative to `timestamp` */
    uint64_t seq;   /* its "seq" in a numbered stream (eol_decoder_number), else 0 */
} eol_record_t;

/** Called once per complete, valid record line, in order. */
typedef void (*eol_on_record)(void *ctx, const eol_record_t *rec);

/** Why a stream is malformed. `line` is 1-based; `offset` is the 0-based
 * byte offset from the start of the body of the first byte at which the body
 * stops being a valid prefix of a stream (the body's length when it ends
 * early). */
typedef struct eol_error {
    const char *reason; /* static string, human readable */
    uint64_t line, offset;
} eol_error_t;

/** Decoder state, owned by the caller (about 130 KiB: it holds a line's
 * decoded strings); eol_feed never allocates. */
typedef struct eol_decoder eol_decoder_t;

/** Allocates and initialises a decoder; free with eol_decoder_free(). */
eol_decoder_t *eol_decoder_new(eol_on_record cb, void *ctx);
void eol_decoder_free(eol_decoder_t *d);
/** 1.2: the stream is a numbered upload (its query has `epoch`; `first` is
 * its query's `first`, 0 read as 1): every record must carry "seq" exactly
 * once, written %x31-39 *DIGIT, at most EOL_SEQ_MAX, not below `first` and
 * above the previous record's (docs/EOL.md "Numbered uploads"). Without
 * this call "seq" is an ordinary member (any value, ignored). Call before
 * the first eol_feed; it lasts for the decoder's life (eol_decode_line
 * too, where each line is a stream of its own). */
void eol_decoder_number(eol_decoder_t *d, uint64_t first);

/** Feeds the next chunk (any split). Returns 0, or -1 once the stream is
 * malformed (eol_error() says why; later calls keep returning -1). */
int eol_feed(eol_decoder_t *d, const char *chunk, size_t len);
/** Ends the stream. Returns 0 when it was complete and valid, else -1. */
int eol_finish(eol_decoder_t *d);
const eol_error_t *eol_error(const eol_decoder_t *d);
/** Decodes one record line on its own: line[0..len) is exactly one line,
 * its line ending included, and is line `line_no` (1-based) starting at
 * byte `offset` of the caller's input (a file, a pipe), so that errors name
 * the caller's position. Restarts the decoder (any stream fed before is
 * forgotten), so a bad line does not spoil the next one. Returns 0 after
 * exactly one on_record call, or -1 (eol_error() says why; an EOL line, a
 * line without its ending and two lines are errors too, reported at the
 * line's start). Costs no allocation: meant to be called once per line. */
int eol_decode_line(eol_decoder_t *d, const char *line, size_t len, uint64_t line_no,
                    uint64_t offset);
/** Records decoded so far. */
uint64_t eol_count(const eol_decoder_t *d);

/** Encoder: appends one record line (compact JSON object + "\n"). */
void eol_encode_record(buf_t *b, const char *desc, size_t desc_len, const char *ts, size_t ts_len);
/** Encoder, numbered upload (1.2): the same line with "seq" as its last
 * member: {"description":..,"timestamp":..,"seq":N}. */
void eol_encode_record_seq(buf_t *b, const char *desc, size_t desc_len, const char *ts,
                           size_t ts_len, uint64_t seq);
/** Encoder: appends the final "EOL <count>\n". */
void eol_encode_end(buf_t *b, uint64_t count);

#endif
