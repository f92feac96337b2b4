/* The EOL stream encoder (the camera's side of PROTOCOL.md "The EOL stream
 * format"). The decoder is generated: spec/eol_act.rl -> gen/eol.c. */
#include <inttypes.h>

#include "eol.h"
#include "jsonw.h"

/* {"description":..,"timestamp":.. : a record line without its end. */
static void eol_encode_members(buf_t *b, const char *desc, size_t desc_len, const char *ts,
                               size_t ts_len)
{
    buf_append(b, "{\"description\":", 15);
    jsonw_string(b, desc, desc_len);
    buf_append(b, ",\"timestamp\":", 13);
    jsonw_string(b, ts, ts_len);
}

void eol_encode_record(buf_t *b, const char *desc, size_t desc_len, const char *ts, size_t ts_len)
{
    eol_encode_members(b, desc, desc_len, ts, ts_len);
    buf_append(b, "}\n", 2);
}

void eol_encode_record_seq(buf_t *b, const char *desc, size_t desc_len, const char *ts,
                           size_t ts_len, uint64_t seq)
{
    eol_encode_members(b, desc, desc_len, ts, ts_len);
    buf_printf(b, ",\"seq\":%" PRIu64 "}\n", seq);
}

void eol_encode_end(buf_t *b, uint64_t count)
{
    buf_printf(b, "EOL %" PRIu64 "\n", count);
}
