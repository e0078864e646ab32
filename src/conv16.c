/* conv16.c -- the bf16 convolution, portable C: the reference the SIMD
 * kernels are held to (conv16.h), the weight packing, and the fp32 -> bf16
 * step. */
#include "conv16.h"

#include <stdio.h>

#define PAIR 2   /* 2 input channels of a pixel: what vdpbf16ps multiplies into one lane */

size_t conv16_packed_count(int out_c, int in_c, int k)
{
    return (size_t)((out_c + BLK - 1) / BLK) * ((in_c + BLK - 1) / BLK) * k * k * BLK * BLK;
}

void conv16_pack(uint16_t *dst, const float *w, const double *fold, int out_c, int in_c, int k)
{
    const int kk = k * k, icb_n = (in_c + BLK - 1) / BLK;
    memset(dst, 0, conv16_packed_count(out_c, in_c, k) * sizeof *dst);   /* the spare lanes */
    for (int oc = 0; oc < out_c; oc++) {
        const float *src = w + (size_t)oc * in_c * kk;
        uint16_t *d = dst + (size_t)(oc / BLK) * icb_n * kk * BLK * BLK;
        for (int ic = 0; ic < in_c; ic++)
            for (int t = 0; t < kk; t++) {
                const size_t at = ((((size_t)(ic / BLK) * kk + t) * (BLK / PAIR) + ic % BLK / PAIR) *
                                       BLK + oc % BLK) * PAIR + ic % PAIR;
                d[at] = bf16_of((float)(src[(size_t)ic * kk + t] * fold[oc]));
            }
    }
}

static void conv16_pixel(const struct conv16_args *a, int img, int ocb, int oy, int ox)
{
    const int k = a->k, s = a->stride, icb_n = blk_cb(&a->in.shape);
    float acc[BLK];
    for (int o = 0; o < BLK; o++)
        acc[o] = a->b[ocb * BLK + o];
    for (int icb = 0; icb < icb_n; icb++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const uint16_t *x = blk16_at(&a->in, img, icb, oy * s + ky - a->pad_t,
                                             ox * s + kx - a->pad_l);
                const uint16_t *w =
                    a->w + ((((size_t)ocb * icb_n + icb) * k + ky) * k + kx) * BLK * BLK;
                for (int p = 0; p < BLK / PAIR; p++)
                    for (int o = 0; o < BLK; o++) {
                        const uint16_t *wp = w + (p * BLK + o) * PAIR;
                        acc[o] += bf16_to(x[p * PAIR]) * bf16_to(wp[0]) +
                                  bf16_to(x[p * PAIR + 1]) * bf16_to(wp[1]);
                    }
            }
    float *y = a->out.c ? blk_at(&a->out, img, ocb, oy, ox) : NULL;
    uint16_t *y16 = a->out16.p ? blk16_at(&a->out16, img, ocb, oy, ox) : NULL;
    const float *r = a->res.p ? blk_at(&a->res, img, ocb, oy, ox) : NULL;
    for (int o = 0; o < BLK; o++) {
        float v = acc[o] + (r ? r[o] : 0.0f);
        if (a->relu)
            v = v > 0 ? v : 0;
        if (y)
            y[o] = v;
        if (y16)
            y16[o] = bf16_of(v);
    }
}

void conv16_forward_c(const struct conv16_args *a)
{
    const struct blk *shape = a->out.c ? &a->out : &a->out16.shape;
    const int ocb_n = blk_cb(shape), h = shape->h, w = shape->w;
#pragma omp parallel for collapse(3) schedule(static)
    for (int img = 0; img < a->n; img++)
        for (int ocb = 0; ocb < ocb_n; ocb++)
            for (int oy = 0; oy < h; oy++) {
                for (int ox = 0; ox < w; ox++)
                    conv16_pixel(a, img, ocb, oy, ox);
                if (a->out.c)
                    blk_zero_halo(&a->out, img, ocb, ocb + 1, oy, oy + 1);
                if (a->out16.p)
                    blk16_zero_halo(&a->out16, img, ocb, ocb + 1, oy, oy + 1);
            }
}

void conv16_describe_c(const struct conv16_args *a, int threads, char *out, size_t len)
{
    (void)threads;
    const struct blk *shape = a->out.c ? &a->out : &a->out16.shape;
    snprintf(out, len, "rows %d", a->n * blk_cb(shape) * shape->h);
}

void conv16_convert(const struct blk *in, const struct blk16 *out, int n)
{
    const int cb_n = blk_cb(in), h = in->h, w = in->w;
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int y = 0; y < h; y++) {
                const float *x = blk_at(in, i, cb, y, 0);
                uint16_t *q = blk16_at(out, i, cb, y, 0);
                for (int j = 0; j < w * BLK; j++)
                    q[j] = bf16_of(x[j]);
                blk16_zero_halo(out, i, cb, cb + 1, y, y + 1);
            }
}
