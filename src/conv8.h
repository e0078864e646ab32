/* conv8.h -- int8 direct convolution over the channel-blocked layout.
 *
 * Activations a convolution reads are unsigned 8-bit with one scale per
 * tensor (real = q * scale, zero point 0: they follow a ReLU), weights are
 * signed 8-bit with one scale per output channel (symmetric, +-127), and
 * the products are summed exactly in 32-bit integers, which is what
 * AVX512-VNNI's vpdpbusd (u8 x s8, four products per lane) computes.  The
 * output is written as the fp32 kernel writes it -- scale, bias, residual,
 * ReLU -- in fp32, and then stored as fp32 (the residual stream), as u8
 * for the next convolution, or both.
 *
 * The arithmetic, which every SIMD kernel reproduces bit for bit:
 *     acc  = sum of q_in * q_w                       (int32, exact)
 *     v    = fmaf((float)acc, scale[oc], bias[oc])   (scale = in_scale * w_scale[oc])
 *     v    = v + res                                 (if a residual)
 *     v    = v > 0 ? v : 0                           (if ReLU)
 *     out  = v;  out8 = rne(min(v * out_inv, 255))   (rne: round half to even)
 * conv8_forward_c is that specification; the SIMD ones are entries of the
 * kernel tables (kernels.h). */
#ifndef RESNET_CONV8_H
#define RESNET_CONV8_H

#include <stddef.h>
#include <stdint.h>

#include "blk.h"

/* A u8 tensor in blk.h's layout: the same geometry (shape gives it, its p
 * unused), one byte per channel: [n][cb(c)][h + 2*halo][w + 2*halo][16]. */
struct blk8 {
    uint8_t *p;          /* pixel (0,0), block 0, image 0: inside the halo */
    struct blk shape;
};

static inline uint8_t *blk8_at(const struct blk8 *t, int i, int cb, int y, int x)
{
    const struct blk *s = &t->shape;
    return t->p + i * blk_image(s) + cb * blk_plane(s) + (ptrdiff_t)y * (ptrdiff_t)blk_row(s) +
           (ptrdiff_t)x * BLK;
}

struct conv8_args {
    struct blk8 in;       /* [n][cb(in_c)][in_h][in_w][16] u8; its halo covers the padding */
    struct blk out;       /* fp32 output, or out.p NULL; its halo is written as zeros */
    struct blk8 out8;     /* u8 output, or out8.p NULL (then relu is set) */
    struct blk res;       /* res.p NULL, or fp32 shaped like out: added before the ReLU */
    const int8_t *w;      /* conv8_pack's [cb(out_c)][cb(in_c)][k][k][4][16 out][4 in] */
    const float *scale;   /* [cb(out_c) * 16]: in_scale * w_scale[oc], zero past out_c */
    const float *b;       /* [cb(out_c) * 16], zero past out_c */
    float out_inv;        /* 1 / the u8 output's scale */
    int n, k, stride;
    int pad_t, pad_l;
    int relu;
};

/* Bytes of packed int8 weights for out_c x in_c x k x k. */
size_t conv8_packed_bytes(int out_c, int in_c, int k);

/* dst = w [out_c][in_c][k][k] times fold[oc] (a BatchNorm folded in),
 * quantized per output channel: w_scale[oc] = max |w * fold| / 127 (1 for
 * an all-zero channel), q = rne(w * fold / w_scale) -- in double, so the
 * result does not depend on the summation order.  w_scale[cb(out_c)*16],
 * zero past out_c. */
void conv8_pack(int8_t *dst, float *w_scale, const float *w, const double *fold, int out_c,
                int in_c, int k);

void conv8_forward_c(const struct conv8_args *a);

/* conv8_forward_c's work split, for bench --layers (kernels.h). */
void conv8_describe_c(const struct conv8_args *a, int threads, char *out, size_t len);

/* out (u8, scale 1/inv, zero point `zero`: real = (q - zero) / inv) =
 * rne(min(max(in * inv + zero, 0), 255)) over n images, halo included (it
 * holds `zero`, the real 0 that padding reads): the fp32 -> u8 step in
 * front of an int8 convolution whose input no int8 convolution wrote.  A
 * zero point other than 0 is for an input that can be negative (the
 * network's input, read by the stem); the convolution then takes
 * scale x zero x conv8_weight_sum off its bias. */
void conv8_quantize(const struct blk *in, const struct blk8 *out, float inv, int zero, int n);

/* The sum of output channel oc's packed int8 weights (conv8_pack's). */
long conv8_weight_sum(const int8_t *packed, int in_c, int k, int oc);

/* rne(min(max(x, 0), 255)): the u8 every kernel stores for x. */
static inline uint8_t conv8_u8(float x)
{
    x = x > 0 ? x : 0;
    x = x < 255.0f ? x : 255.0f;
    /* adding and taking away 1.5 * 2^23 rounds half to even in the FPU's
     * default mode, as vcvtps2dq does (and, unlike nearbyintf, inline) */
    return (uint8_t)(int)((x + 12582912.0f) - 12582912.0f);
}

static inline void blk8_zero_halo(const struct blk8 *t, int i, int cb0, int cb1, int y0, int y1)
{
    blk_fill_halo_of(t->p, 1, &t->shape, i, cb0, cb1, y0, y1, 0);
}

#endif
