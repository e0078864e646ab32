/* testutil.h -- small helpers the C tests share (read a file, compare
 * tensors, rank probabilities, blocked tensors for the kernels), written
 * once here. */
#ifndef RESNET_TESTUTIL_H
#define RESNET_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "ops.h"


/* Deterministic test data: a linear congruential generator each test seeds. */
static uint32_t test_rng = 12345;

static inline void frand_seed(uint32_t seed)
{
    test_rng = seed;
}

static inline float frand(void)   /* uniform in [-1, 1) */
{
    test_rng = test_rng * 1664525u + 1013904223u;
    return (float)(test_rng >> 8) / (float)(1u << 23) - 1.0f;
}

static inline float *frand_array(size_t n, float scale)
{
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = frand() * scale;
    return a;
}

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

/* The next line of a manifest that is neither a comment nor empty. */
static inline char *next_line(FILE *f, char *line, int len)
{
    while (fgets(line, len, f))
        if (line[0] != '#' && line[0] != '\n')
            return line;
    return NULL;
}

/* A little-endian float32, as the generators write them. */
static inline float le_f32(const unsigned char *b)
{
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
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

/* A blocked tensor whose whole buffer (halo and spare lanes too) is NaN. */
static inline struct blk blk_new(int c, int h, int w, int halo, int n, float **base)
{
    struct blk t = {NULL, c, h, w, halo};
    size_t floats = blk_floats(&t, n);
    *base = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    for (size_t i = 0; i < floats; i++)
        (*base)[i] = NAN;
    t.p = *base + blk_origin(&t);
    return t;
}

/* Max |a - b| over the planar view of t against ref [n][c][h][w]; NaN sticks. */
static inline float diff_planar(const struct blk *t, const float *ref, int n)
{
    size_t count = (size_t)n * t->c * t->h * t->w;
    float *mine = malloc(count * sizeof *mine), m = 0;
    ops_to_planar(t, mine, n);
    for (size_t i = 0; i < count; i++) {
        float d = fabsf(mine[i] - ref[i]);
        if (!(d <= m))
            m = d;
    }
    free(mine);
    return m;
}

/* Every float of the buffer outside the tensor's pixels' live lanes is 0. */
static inline int frame_is_zero(const struct blk *t, const float *base, int n)
{
    size_t floats = blk_floats(t, n), row = blk_row(t), plane = blk_plane(t);
    for (size_t f = 0; f < floats; f++) {
        size_t in_plane = f % plane, cb = f / plane % (size_t)blk_cb(t);
        long y = (long)(in_plane / row) - t->halo, x = (long)(in_plane % row / BLK) - t->halo;
        int lane = (int)(f % BLK);
        int live = y >= 0 && y < t->h && x >= 0 && x < t->w && (int)cb * BLK + lane < t->c;
        if (!live && base[f] != 0.0f)
            return 0;
    }
    return 1;
}

#endif
