/* err.h -- error reports that travel up to main.c.
 *
 * Library code never prints and never exits: it fills a struct err with one
 * line that names the file, key or tensor at fault (and, where it helps, what
 * to do about it) and returns -1.  Only main.c decides what to print and which
 * exit status to use. */
#ifndef RESNET_ERR_H
#define RESNET_ERR_H

#include <stddef.h>

#define ERR_LEN 1024

struct err {
    char msg[ERR_LEN];
};

/* printf-style; always returns -1 so callers can write `return err_set(...)`. */
int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefix an existing message ("spec.json: " + msg); returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
