/* Turning stdin bytes into a description the EOL stream accepts: valid UTF-8
 * (no overlongs, surrogates or code points above U+10FFFF) without NUL. */
#include "camera.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s[0..len), or 0 with *skip set to the
 * length of its maximal invalid subpart (Unicode's "substitution of maximal
 * subparts": one U+FFFD per broken sequence, as most decoders do). */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t *skip)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */

    *skip = 1;
    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else
        return 0; /* NUL, a stray continuation byte, C0, C1, F5..FF */

    for (size_t i = 1; i < need; i++) {
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (i >= len || s[i] < min || s[i] > max) {
            *skip = i;
            return 0;
        }
    }
    return need;
}

size_t text_repair(buf_t *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, bad = 0, run = 0;

    buf_reserve(out, len);
    while (i < len) {
        size_t skip, n = utf8_seq(u + i, len - i, &skip);
        if (n) {
            i += n;
            run += n;
            continue;
        }
        buf_append(out, s + i - run, run);
        buf_append(out, REPLACEMENT, 3);
        run = 0;
        i += skip;
        bad++;
    }
    buf_append(out, s + i - run, run);
    return bad;
}

size_t text_boundary(const char *s, size_t len, size_t n)
{
    if (n >= len)
        return len;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

size_t text_cut_raw(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    /* A character is at most 4 bytes: its lead is among the last 3 bytes. */
    for (size_t k = len, back = 0; k > 0 && back < 3; back++) {
        k--;
        if ((u[k] & 0xC0) == 0x80)
            continue; /* a continuation byte: look further back */
        size_t skip, n = utf8_seq(u + k, len - k, &skip);
        /* Cut only a valid start that ran out of bytes; anything else is
         * the input's own error and is repaired as such. */
        if (n == 0 && u[k] >= 0xC2 && u[k] <= 0xF4 && skip == len - k)
            return k;
        return len;
    }
    return len;
}
