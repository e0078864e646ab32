/* sha256.h -- SHA-256 (FIPS 180-4), so that `resnet fetch` can record what
 * it downloaded and refuse a file that is not the one asked for.  None of
 * the libraries resnet links offers it (libcurl, opened only to download,
 * has no hash of its own to lend). */
#ifndef RESNET_SHA256_H
#define RESNET_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SHA256_HEX_LEN 65   /* 64 hex digits and the NUL */

struct sha256 {
    uint32_t h[8];              /* the hash value so far, H(i) */
    uint64_t bytes;             /* message length so far */
    unsigned char block[64];    /* the message block being filled */
    size_t used;                /* bytes of it filled */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* The digest as 64 lower-case hex digits; s is spent. */
void sha256_final(struct sha256 *s, char hex[SHA256_HEX_LEN]);

/* The SHA-256 of a file's contents, or -1 with a reason naming the file. */
int sha256_file(const char *path, char hex[SHA256_HEX_LEN], struct err *e);

#endif
