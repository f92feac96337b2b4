/* The control message encoder; the decoder is generated from spec/control.rl. */
#include <string.h>

#include "control.h"
#include "jsonw.h"

void control_encode(buf_t *b, const control_msg_t *m)
{
    buf_puts(b, "{\"request_id\":");
    jsonw_string(b, m->request_id, strlen(m->request_id));
    buf_puts(b, ",\"camera\":");
    jsonw_string(b, m->camera, strlen(m->camera));
    if (m->has_limit)
        buf_printf(b, ",\"limit\":%u", (unsigned)m->limit);
    if (m->has_since) {
        buf_puts(b, ",\"since\":");
        jsonw_string(b, m->since, strlen(m->since));
    }
    if (m->has_after)
        buf_printf(b, ",\"after\":\"%s:%llu\"", m->after_epoch, (unsigned long long)m->after_seq);
    if (m->has_follow)
        buf_printf(b, ",\"follow\":%u", (unsigned)m->follow);
    buf_putc(b, '}');
}
