/* escape.c -- JSON strings that are always UTF-8, TSV fields that stay
 * fields, base64 (see escape.h). */
#include "escape.h"

#include <stddef.h>

/* How many bytes of the UTF-8 sequence at p are well-formed: its whole
 * length (1 to 4) when it is complete, else the length of its longest
 * prefix that could still begin a well-formed sequence (at least 1), with
 * *ok 0.  The ranges are Unicode's table 3-7: the second byte's range
 * depends on the first, which is what rules out overlong forms (C0, C1,
 * E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points past
 * U+10FFFF (F4 90.., F5..FF).  A NUL is never a continuation byte, so
 * nothing is read past the end of the string. */
static size_t utf8_span(const unsigned char *p, int *ok)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;
    *ok = 0;
    if (p[0] < 0x80) {
        *ok = 1;
        return 1;
    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        if (p[0] == 0xe0)
            lo = 0xa0;
        else if (p[0] == 0xed)
            hi = 0x9f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f;
    } else {
        return 1;   /* a continuation byte, or a byte no sequence starts with */
    }
    for (size_t i = 1; i < len; i++) {
        if (p[i] < lo || p[i] > hi)
            return i;
        lo = 0x80, hi = 0xbf;
    }
    *ok = 1;
    return len;
}

int esc_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int ok;
    while (*p) {
        p += utf8_span(p, &ok);
        if (!ok)
            return 0;
    }
    return 1;
}

void esc_json(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int ok;
        size_t n = utf8_span(p, &ok);
        if (!ok)
            fputs("\xef\xbf\xbd", out);   /* U+FFFD REPLACEMENT CHARACTER */
        else if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fwrite(p, 1, n, out);
        p += n;
    }
    fputc('"', out);
}

void esc_tsv(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p == '\\')
            fputs("\\\\", out);
        else
            fputc(*p, out);
    }
}

void esc_base64(FILE *out, const char *s)
{
    static const char digit[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (p[n])
        n++;
    /* each 3 bytes (24 bits) are 4 digits of 6 bits; a short last group is
     * padded with zero bits, and '=' for each digit it lacks */
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        fputc(digit[v >> 18 & 63], out);
        fputc(digit[v >> 12 & 63], out);
        fputc(i + 1 < n ? digit[v >> 6 & 63] : '=', out);
        fputc(i + 2 < n ? digit[v & 63] : '=', out);
    }
}
