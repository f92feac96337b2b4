/* HTTP/1.1 request parser throughput: heads/s and MB/s for the camera's two
 * requests (a long-poll GET and a /send-stats POST head), fed whole and in
 * two pieces, next to h2o's picohttpparser on the same bytes (for scale:
 * it checks much less); then chunked bodies, 4 KiB chunks fed whole and in
 * 1,500-byte pieces (a typical TCP segment). Best of several runs; single
 * thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "http1.h"

#define RUNS 5
#define HEADS 1000000
#define BODY_BYTES (32u << 20)

struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

static const char poll_head[] =
    "GET /control-channel?camera=cam-000123&timeout=30 HTTP/1.1\r\n"
    "Host: relay.example:8443\r\n"
    "User-Agent: camlogs-camera/1.1.0 libcurl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Authorization: Bearer 3f5a1c9e0b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468\r\n"
    "\r\n";
static const char post_head[] =
    "POST /send-stats?camera=cam-000123&request_id=r-000000042 HTTP/1.1\r\n"
    "Host: relay.example:8443\r\n"
    "User-Agent: camlogs-camera/1.1.0 libcurl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Authorization: Bearer 3f5a1c9e0b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 9300\r\n"
    "Expect: 100-continue\r\n"
    "\r\n";

static uint64_t sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Seconds for HEADS parses of head, cut in two at `cut` (0: whole). */
static double parse_heads(const char *head, size_t len, size_t cut)
{
    http1_parser_t p;
    size_t used;
    double t0 = now();
    for (int i = 0; i < HEADS; i++) {
        http1_init(&p);
        int rc = cut ? http1_feed_head(&p, head, cut, &used) : HTTP1_MORE;
        if (rc == HTTP1_MORE)
            rc = http1_feed_head(&p, head + cut, len - cut, &used);
        if (rc != HTTP1_HEAD_DONE)
            exit(1);
        sink += p.head.nfields;
    }
    return now() - t0;
}

static double phr_heads(const char *head, size_t len)
{
    struct phr_header hs[HTTP1_FIELDS_MAX];
    const char *m, *path;
    size_t ml, pl, nh;
    int minor;
    double t0 = now();
    for (int i = 0; i < HEADS; i++) {
        nh = HTTP1_FIELDS_MAX;
        if (phr_parse_request(head, len, &m, &ml, &path, &pl, &minor, hs, &nh, 0) != (int)len)
            exit(1);
        sink += nh;
    }
    return now() - t0;
}

static void on_data(void *ctx, const char *data, size_t len)
{
    sink += len + (unsigned char)data[0];
}

/* A chunked request: a short head, BODY_BYTES of data in `chunk`-byte
 * chunks, the last chunk. */
static void make_chunked(buf_t *b, size_t chunk, size_t *head_len)
{
    buf_puts(b, "POST /send-stats HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    *head_len = b->len;
    char *data = malloc(chunk);
    for (size_t i = 0; i < chunk; i++)
        data[i] = (char)('a' + i % 26);
    for (size_t n = 0; n < BODY_BYTES; n += chunk) {
        buf_printf(b, "%zx;seq=%zu\r\n", chunk, n / chunk);
        buf_append(b, data, chunk);
        buf_puts(b, "\r\n");
    }
    buf_puts(b, "0\r\n\r\n");
    free(data);
}

static double parse_body(const buf_t *b, size_t head_len, size_t piece)
{
    http1_parser_t p;
    size_t used, at = head_len;
    double t0 = now();
    int rc = HTTP1_MORE;

    http1_init(&p);
    if (http1_feed_head(&p, b->data, head_len, &used) != HTTP1_HEAD_DONE)
        exit(1);
    while (rc == HTTP1_MORE && at < b->len) {
        size_t n = b->len - at < piece ? b->len - at : piece;
        rc = http1_feed_body(&p, b->data + at, n, &used, on_data, NULL);
        at += used;
    }
    if (rc != HTTP1_BODY_DONE || at != b->len)
        exit(1);
    return now() - t0;
}

static void heads_row(const char *name, const char *head, int phr)
{
    size_t len = strlen(head);
    for (int mode = 0; mode < (phr ? 3 : 2); mode++) {
        double best = 1e9;
        for (int r = 0; r < RUNS; r++) {
            double s =
                mode == 2 ? phr_heads(head, len) : parse_heads(head, len, mode ? len / 2 : 0);
            best = s < best ? s : best;
        }
        printf("%-14s %-26s %6zu %12.2f M %10.0f\n", name,
               mode == 2 ? "picohttpparser (whole)"
               : mode    ? "http1, 2 pieces"
                         : "http1, whole",
               len, HEADS / best / 1e6, (double)len * HEADS / best / 1e6);
    }
}

int main(void)
{
    static const size_t chunks[] = {4096, 256};
    printf("%-14s %-26s %6s %14s %10s\n", "head", "parser / feed", "bytes", "heads/s", "MB/s");
    heads_row("long-poll GET", poll_head, 1);
    heads_row("send-stats", post_head, 1);
    /* on_data does not touch the data: this is the framing's cost. */
    printf("\n%-14s %-26s %14s %10s\n", "chunked body", "feed", "chunks/s", "MB/s");
    for (int c = 0; c < 2; c++) {
        buf_t b = BUF_INIT;
        size_t head_len;
        make_chunked(&b, chunks[c], &head_len);
        for (int f = 0; f < 2; f++) {
            double best = 1e9;
            for (int r = 0; r < RUNS; r++) {
                double s = parse_body(&b, head_len, f ? 1500 : b.len);
                best = s < best ? s : best;
            }
            printf("%-14s %-26s %12.2f M %10.0f\n",
                   chunks[c] == 4096 ? "4 KiB chunks" : "256 B chunks",
                   f ? "1,500 B pieces" : "whole", BODY_BYTES / chunks[c] / best / 1e6,
                   (double)(b.len - head_len) / best / 1e6);
        }
        buf_free(&b);
    }
    return sink == 0;
}
