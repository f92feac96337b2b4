/* Growable byte buffer and the allocation wrappers everything uses. */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

/** Allocation that never returns NULL: out of memory aborts the process. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xmemdup(const void *p, size_t n); /* copies n bytes and adds a NUL */

/** A byte buffer; `data` is always NUL-terminated once anything was written. */
typedef struct buf {
    char *data;
    size_t len, cap;
} buf_t;

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/** Makes room for `extra` more bytes. */
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Forgets the contents, keeps the memory. */
void buf_reset(buf_t *b);
/** Frees the memory; the buffer is empty and usable again. */
void buf_free(buf_t *b);

#endif
