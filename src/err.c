/* err.c -- formatting of the one-line error reports (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An error is one line whatever it quotes: a key, a tensor name or a dtype
 * read from a file may hold a newline or other control bytes, which are
 * written as \n, \t or \xNN instead. */
static void one_line(char *msg, size_t size)
{
    char out[ERR_LEN];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof out; p++) {
        if (*p >= 0x20 && *p != 0x7f)
            out[o++] = (char)*p;
        else if (*p == '\n')
            o += (size_t)snprintf(out + o, sizeof out - o, "\\n");
        else if (*p == '\t')
            o += (size_t)snprintf(out + o, sizeof out - o, "\\t");
        else
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", *p);
    }
    out[o] = 0;
    snprintf(msg, size, "%s", out);
}

int err_set(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    one_line(e->msg, sizeof e->msg);
    return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char old[ERR_LEN];
    memcpy(old, e->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - (size_t)n, "%s", old);
    one_line(e->msg, sizeof e->msg);
    return -1;
}
