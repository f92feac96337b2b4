/* A small JSON writer for replies and control messages. Input strings must
 * be valid UTF-8 (everything that reaches it went through a generated parser). */
#ifndef JSONW_H
#define JSONW_H

#include <stddef.h>

#include "buf.h"
#include "record.h"

/** Appends `s` as a JSON string literal, quotes included. */
void jsonw_string(buf_t *b, const char *s, size_t n);

/** The length jsonw_string would append for s[0..n). */
size_t jsonw_string_len(const char *s, size_t n);

/** Appends {"error":"<reason>"} (no newline). */
void jsonw_error(buf_t *b, const char *reason);
/** Appends {"error":"<reason>","camera":"<camera>"}; no "camera" when NULL. */
void jsonw_error_about(buf_t *b, const char *reason, const char *camera);

/** Appends one record of a /logs reply: {"description":..,"timestamp":..}. */
void jsonw_record(buf_t *b, const record_t *r);
/** The length jsonw_record appends for r (computed once, kept in r). */
size_t jsonw_record_len(record_t *r);

/** Appends the /logs reply: a JSON array of {"description","timestamp"}
 * objects for the records of recs[0..n) that pass the filter, in order. */
void jsonw_records(buf_t *b, record_t *const *recs, size_t n, const record_filter_t *f);

#endif
