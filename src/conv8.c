/* conv8.c -- the int8 convolution, portable C: the specification of the
 * arithmetic (conv8.h) that the SIMD kernels are tested against bit for
 * bit, the weight quantization and packing, and the fp32 -> u8 step. */
#include "conv8.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 4 input channels of one pixel are one 32-bit group: what vpdpbusd
 * multiplies with 4 weights and adds into one output channel's lane. */
#define GROUP 4

size_t conv8_packed_bytes(int out_c, int in_c, int k)
{
    return (size_t)((out_c + BLK - 1) / BLK) * ((in_c + BLK - 1) / BLK) * k * k * BLK * BLK;
}

void conv8_pack(int8_t *dst, float *w_scale, const float *w, const double *fold, int out_c,
                int in_c, int k)
{
    const int kk = k * k, icb_n = (in_c + BLK - 1) / BLK, lanes = (out_c + BLK - 1) / BLK * BLK;
    memset(dst, 0, conv8_packed_bytes(out_c, in_c, k));   /* the spare lanes */
    for (int oc = 0; oc < lanes; oc++) {
        if (oc >= out_c) {
            w_scale[oc] = 0;
            continue;
        }
        const float *src = w + (size_t)oc * in_c * kk;
        double top = 0;
        for (size_t j = 0; j < (size_t)in_c * kk; j++)
            top = fmax(top, fabs(src[j] * fold[oc]));
        const double sc = top > 0 ? top / 127 : 1;
        w_scale[oc] = (float)sc;
        int8_t *d = dst + (size_t)(oc / BLK) * icb_n * kk * BLK * BLK;
        for (int ic = 0; ic < in_c; ic++)
            for (int t = 0; t < kk; t++) {
                double q = nearbyint(src[(size_t)ic * kk + t] * fold[oc] / sc);
                q = q > 127 ? 127 : q < -127 ? -127 : q;
                const size_t at = ((((size_t)(ic / BLK) * kk + t) * GROUP + ic % BLK / GROUP) * BLK +
                                   oc % BLK) * GROUP + ic % GROUP;
                d[at] = (int8_t)q;
            }
    }
}

static void conv8_pixel(const struct conv8_args *a, int img, int ocb, int oy, int ox)
{
    const int k = a->k, s = a->stride, icb_n = blk_cb(&a->in.shape);
    int32_t acc[BLK] = {0};
    for (int icb = 0; icb < icb_n; icb++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const uint8_t *x = blk8_at(&a->in, img, icb, oy * s + ky - a->pad_t,
                                           ox * s + kx - a->pad_l);
                const int8_t *w = a->w + ((((size_t)ocb * icb_n + icb) * k + ky) * k + kx) * BLK * BLK;
                for (int g = 0; g < BLK / GROUP; g++)
                    for (int o = 0; o < BLK; o++)
                        for (int i = 0; i < GROUP; i++)
                            acc[o] += x[g * GROUP + i] * w[(g * BLK + o) * GROUP + i];
            }
    float *y = a->out.p ? blk_at(&a->out, img, ocb, oy, ox) : NULL;
    uint8_t *y8 = a->out8.p ? blk8_at(&a->out8, img, ocb, oy, ox) : NULL;
    const float *r = a->res.p ? blk_at(&a->res, img, ocb, oy, ox) : NULL;
    for (int o = 0; o < BLK; o++) {
        const int oc = ocb * BLK + o;
        float v = fmaf((float)acc[o], a->scale[oc], a->b[oc]);
        if (r)
            v = v + r[o];
        if (a->relu)
            v = v > 0 ? v : 0;
        if (y)
            y[o] = v;
        if (y8)
            y8[o] = conv8_u8(v * a->out_inv);
    }
}

void conv8_forward_c(const struct conv8_args *a)
{
    const struct blk *shape = a->out.c ? &a->out : &a->out8.shape;
    const int ocb_n = blk_cb(shape), h = shape->h, w = shape->w;
#pragma omp parallel for collapse(3) schedule(static)
    for (int img = 0; img < a->n; img++)
        for (int ocb = 0; ocb < ocb_n; ocb++)
            for (int oy = 0; oy < h; oy++) {
                for (int ox = 0; ox < w; ox++)
                    conv8_pixel(a, img, ocb, oy, ox);
                if (a->out.p)
                    blk_zero_halo(&a->out, img, ocb, ocb + 1, oy, oy + 1);
                if (a->out8.p)
                    blk8_zero_halo(&a->out8, img, ocb, ocb + 1, oy, oy + 1);
            }
}

void conv8_describe_c(const struct conv8_args *a, int threads, char *out, size_t len)
{
    (void)threads;
    const struct blk *shape = a->out.c ? &a->out : &a->out8.shape;
    snprintf(out, len, "rows %d", a->n * blk_cb(shape) * shape->h);
}

void conv8_quantize(const struct blk *in, const struct blk8 *out, float inv, int zero, int n)
{
    const float z = (float)zero;
    const int cb_n = blk_cb(in), h = in->h, w = in->w, live_last = in->c - (cb_n - 1) * BLK;
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int y = 0; y < h; y++) {
                const float *x = blk_at(in, i, cb, y, 0);
                uint8_t *q = blk8_at(out, i, cb, y, 0);
                /* the last block's spare lanes are 0 (blk.h): q = zero */
                const int live = cb == cb_n - 1 ? live_last : BLK;
                for (int px = 0; px < w; px++, x += BLK, q += BLK) {
                    for (int j = 0; j < live; j++)
                        q[j] = conv8_u8(x[j] * inv + z);
                    memset(q + live, zero, (size_t)(BLK - live));
                }
                blk_fill_halo_of(out->p, 1, &out->shape, i, cb, cb + 1, y, y + 1, zero);
            }
}

long conv8_weight_sum(const int8_t *packed, int in_c, int k, int oc)
{
    /* [cb(out_c)][cb(in_c)][k][k][4][16 out][4 in] */
    const int icb_n = (in_c + BLK - 1) / BLK;
    const int8_t *p = packed + (size_t)(oc / BLK) * icb_n * k * k * BLK * BLK + (oc % BLK) * 4;
    long sum = 0;
    for (size_t g = 0; g < (size_t)icb_n * k * k * 4; g++, p += 4 * BLK)
        sum += p[0] + p[1] + p[2] + p[3];
    return sum;
}
