/* conv16.h -- bf16 direct convolution over the channel-blocked layout.
 *
 * Activations a convolution reads and its weights are bfloat16 (the top
 * half of an fp32: 8 bits of mantissa), products are exact in fp32 and are
 * summed in fp32, which is what AVX512-BF16's vdpbf16ps computes (two
 * products per lane per instruction); bias, residual and ReLU are fp32, as
 * in the fp32 kernel, and the output is stored as fp32 (the residual
 * stream), as bf16 for the next convolution, or both.  BatchNorm is folded
 * into the fp32 weights before they are rounded to bf16.
 *
 * Rounding to bf16 (bf16_of) is to nearest, ties to even, with denormals
 * flushed to zero and NaN kept a NaN, as vcvtneps2bf16 does, so every
 * kernel stores the same bf16 for the same fp32.  The sums are not
 * bit-exact across kernels: the order of the fp32 additions differs (the
 * portable kernel adds each pair's two products, then the pair; vdpbf16ps
 * one after the other), which tests/test_conv16.c bounds. */
#ifndef RESNET_CONV16_H
#define RESNET_CONV16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "blk.h"

/* A bf16 tensor in blk.h's layout: [n][cb(c)][h + 2*halo][w + 2*halo][16]. */
struct blk16 {
    uint16_t *p;          /* pixel (0,0), block 0, image 0: inside the halo */
    struct blk shape;
};

static inline uint16_t *blk16_at(const struct blk16 *t, int i, int cb, int y, int x)
{
    const struct blk *s = &t->shape;
    return t->p + i * blk_image(s) + cb * blk_plane(s) + (ptrdiff_t)y * (ptrdiff_t)blk_row(s) +
           (ptrdiff_t)x * BLK;
}

static inline void blk16_zero_halo(const struct blk16 *t, int i, int cb0, int cb1, int y0, int y1)
{
    blk_fill_halo_of(t->p, sizeof(uint16_t), &t->shape, i, cb0, cb1, y0, y1, 0);
}

static inline uint16_t bf16_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0)
        return (uint16_t)(u >> 16 & 0x8000u);            /* zero or denormal: signed zero */
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)(u >> 16 | 0x0040u);            /* NaN: quiet */
    u += 0x7fffu + (u >> 16 & 1);                        /* to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

static inline float bf16_to(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

struct conv16_args {
    struct blk16 in;      /* [n][cb(in_c)][in_h][in_w][16] bf16; its halo covers the padding */
    struct blk out;       /* fp32 output, or out.c 0; its halo is written as zeros */
    struct blk16 out16;   /* bf16 output, or out16.p NULL */
    struct blk res;       /* res.p NULL, or fp32 shaped like out: added before the ReLU */
    const uint16_t *w;    /* conv16_pack's [cb(out_c)][cb(in_c)][k][k][8][16 out][2 in] */
    const float *b;       /* [cb(out_c) * 16], zero past out_c */
    int n, k, stride;
    int pad_t, pad_l;
    int relu;
};

/* uint16s of packed bf16 weights for out_c x in_c x k x k. */
size_t conv16_packed_count(int out_c, int in_c, int k);

/* dst = bf16_of(w [out_c][in_c][k][k] * fold[oc]), the product in double;
 * lanes past in_c or out_c are zero. */
void conv16_pack(uint16_t *dst, const float *w, const double *fold, int out_c, int in_c, int k);

void conv16_forward_c(const struct conv16_args *a);

/* conv16_forward_c's work split, for bench --layers (kernels.h). */
void conv16_describe_c(const struct conv16_args *a, int threads, char *out, size_t len);

/* out = bf16_of(in) over n images, halo included. */
void conv16_convert(const struct blk *in, const struct blk16 *out, int n);

#endif
