/* Server-Sent Events framing: exact blocks, and no CR or LF inside a field. */
#include <string.h>

#include "sse.h"
#include "check.h"

static void same(buf_t *b, const char *want)
{
    CHECK(b->len == strlen(want) && memcmp(b->data, want, b->len) == 0, "got [%s], want [%s]",
          b->data, want);
    buf_reset(b);
}

int main(void)
{
    buf_t b = BUF_INIT;
    sse_retry(&b, 2000);
    same(&b, "retry: 2000\n\n");
    sse_event(&b, NULL, "3fa9c1d2e4b5a6f7:41", "{\"a\":1}", 7);
    same(&b, "id: 3fa9c1d2e4b5a6f7:41\ndata: {\"a\":1}\n\n");
    sse_event(&b, "offline", NULL, "{\"camera\":\"cam1\"}", 17);
    same(&b, "event: offline\ndata: {\"camera\":\"cam1\"}\n\n");
    sse_event(&b, "gap", "e:1", "", 0);
    same(&b, "event: gap\nid: e:1\ndata: \n\n");
    sse_event(&b, NULL, NULL, "a\nb\r\nc\r", 7);
    same(&b, "data: a\\nb\\r\\nc\\r\n\n");
    sse_comment(&b, "keep-alive");
    same(&b, ": keep-alive\n\n");
    sse_comment(&b, "x\ny");
    same(&b, ": x\\ny\n\n");
    buf_free(&b);
    return check_report();
}
