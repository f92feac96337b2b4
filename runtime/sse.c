/* Server-Sent Events framing: sse.h. */
#include <string.h>

#include "sse.h"

void sse_retry(buf_t *b, unsigned ms)
{
    buf_printf(b, "retry: %u\n\n", ms);
}

static void put_data(buf_t *b, const char *data, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n' && data[i] != '\r')
            continue;
        buf_append(b, data + from, i - from);
        buf_puts(b, data[i] == '\n' ? "\\n" : "\\r");
        from = i + 1;
    }
    buf_append(b, data + from, len - from);
}

void sse_event(buf_t *b, const char *event, const char *id, const char *data, size_t len)
{
    if (event != NULL)
        buf_printf(b, "event: %s\n", event);
    if (id != NULL)
        buf_printf(b, "id: %s\n", id);
    buf_puts(b, "data: ");
    put_data(b, data, len);
    buf_puts(b, "\n\n");
}

void sse_comment(buf_t *b, const char *text)
{
    buf_puts(b, ": ");
    put_data(b, text, strlen(text));
    buf_puts(b, "\n\n");
}
