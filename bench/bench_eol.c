/* EOL stream decoder throughput: records/s and MB/s for 100-byte and
 * 1 KiB record lines, the body fed whole and in 1,500-byte chunks (a
 * typical TCP segment). Best of several runs; single thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eol.h"

#define TOTAL_BYTES (32u << 20) /* per body */
#define RUNS 7

static uint64_t sink_bytes;

static void on_record(void *ctx, const eol_record_t *rec)
{
    sink_bytes += rec->description_len + rec->timestamp_len;
}

/* A body of record lines of `line` bytes each (newline included), the
 * description repeating `fill` (whole UTF-8 sequences). */
static void make_body(buf_t *b, size_t line, const char *fill, uint64_t *count)
{
    static const char ts[] = "2026-11-28T06:44:29.120Z";
    char desc[4096];
    size_t overhead = 38 + sizeof ts - 1 + 1; /* {"description":"","timestamp":""} + \n */

    size_t n = line - overhead, fl = strlen(fill);
    n -= n % fl;
    for (size_t i = 0; i < n; i++)
        desc[i] = fill[i % fl];
    *count = 0;
    while (b->len < TOTAL_BYTES) {
        eol_encode_record(b, desc, n, ts, sizeof ts - 1);
        ++*count;
    }
    eol_encode_end(b, *count);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Seconds for one decode of the body in chunks of `chunk` bytes. */
static double decode(const buf_t *b, size_t chunk, uint64_t want)
{
    double t0 = now();
    eol_decoder_t *d = eol_decoder_new(on_record, NULL);
    for (size_t off = 0; off < b->len; off += chunk)
        eol_feed(d, b->data + off, off + chunk < b->len ? chunk : b->len - off);
    if (eol_finish(d) != 0 || eol_count(d) != want) {
        fprintf(stderr, "decode failed: %s\n", eol_error(d)->reason);
        exit(1);
    }
    eol_decoder_free(d);
    return now() - t0;
}

int main(void)
{
    /* The last row is not a goal: non-ASCII text skips the fast path. */
    static const size_t lines[] = {100, 1024, 1024};
    static const char *fills[] = {"motion detected at the north gate ",
                                  "motion detected at the north gate ", "d\xc3\xa9j\xc3\xa0 vu "};
    static const char *names[] = {"100 B", "1 KiB", "1 KiB UTF-8"};
    static const size_t chunks[] = {SIZE_MAX, 1500};

    printf("%-12s %-8s %10s %14s %10s\n", "record", "feed", "records", "records/s", "MB/s");
    for (int l = 0; l < 3; l++) {
        buf_t b = BUF_INIT;
        uint64_t count;
        make_body(&b, lines[l], fills[l], &count);
        for (int c = 0; c < 2; c++) {
            double best = 1e9;
            for (int r = 0; r < RUNS; r++) {
                double s = decode(&b, chunks[c] == SIZE_MAX ? b.len : chunks[c], count);
                best = s < best ? s : best;
            }
            printf("%-12s %-8s %10" PRIu64 " %14.0f %10.1f\n", names[l], c ? "1500 B" : "whole",
                   count, (double)count / best, (double)b.len / best / 1e6);
        }
        buf_free(&b);
    }
    return sink_bytes == 0;
}
