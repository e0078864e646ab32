/* testutil.h -- small helpers the C tests share (read a file, compare
 * tensors, rank probabilities), written once here. */
#ifndef RESNET_TESTUTIL_H
#define RESNET_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole file, or NULL; *size gets its length. */
static inline unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *size = n;
    return buf;
}

/* max |a[i] - b[i]| over n floats; a NaN anywhere makes it NaN. */
static inline float max_abs_diff(const float *a, const float *b, long n)
{
    float m = 0;
    for (long i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m))        /* NaN sticks */
            m = d;
    }
    return m;
}

/* idx[0..k) = indices of the k largest of p[0..n), largest first. */
static inline void top_k(const float *p, int n, int k, int *idx)
{
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int t = 0; t < j; t++)
                taken |= idx[t] == i;
            if (!taken && (best < 0 || p[i] > p[best]))
                best = i;
        }
        idx[j] = best;
    }
}

#endif
