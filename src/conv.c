/* conv.c -- direct convolution over the blocked layout, portable C.
 *
 * This is the specification every SIMD kernel is tested against: for each
 * output pixel and output-channel block, a sum over input blocks, kernel
 * taps and the input channels of the block, 16 output channels at a time.
 * The input's zero halo stands for the padding, so there are no bounds
 * tests; the last input block's unused lanes are skipped, not multiplied by
 * zero, which is what keeps a 3-channel stem cheap. */
#include "conv.h"

#include <stdio.h>
#include <string.h>

size_t conv_packed_floats(int out_c, int in_c, int k)
{
    return (size_t)((out_c + BLK - 1) / BLK) * ((in_c + BLK - 1) / BLK) * k * k * BLK * BLK;
}

void conv_pack(float *dst, const float *w, const double *scale, int out_c, int in_c, int k)
{
    const int kk = k * k;
    /* one output block's weights: [cb(in_c)][k][k][16 in][16 out] */
    const size_t slab = (size_t)((in_c + BLK - 1) / BLK) * kk * BLK * BLK;
    memset(dst, 0, conv_packed_floats(out_c, in_c, k) * sizeof(float));   /* the spare lanes */
    /* Read the source in order; the writes stay within one slab (L2). */
    for (int oc = 0; oc < out_c; oc++) {
        float *d = dst + (size_t)(oc / BLK) * slab + oc % BLK;
        const float *src = w + (size_t)oc * in_c * kk;
        for (int ic = 0; ic < in_c; ic++)
            for (int t = 0; t < kk; t++)
                d[(((size_t)(ic / BLK) * kk + t) * BLK + ic % BLK) * BLK] =
                    (float)(src[(size_t)ic * kk + t] * scale[oc]);
    }
}

/* Input channels used in block icb: 16, or fewer in the last block. */
static int block_lanes(int c, int cb)
{
    int rest = c - cb * BLK;
    return rest < BLK ? rest : BLK;
}

static void conv_pixel(const struct conv_args *a, int img, int ocb, int oy, int ox)
{
    const int k = a->k, s = a->stride, icb_n = blk_cb(&a->in);
    float acc[BLK];
    for (int o = 0; o < BLK; o++)
        acc[o] = a->b[ocb * BLK + o];
    for (int icb = 0; icb < icb_n; icb++) {
        const int lanes = block_lanes(a->in.c, icb);
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const float *x = blk_at(&a->in, img, icb, oy * s + ky - a->pad_t,
                                        ox * s + kx - a->pad_l);
                const float *w = a->w + ((((size_t)ocb * icb_n + icb) * k + ky) * k + kx) * BLK * BLK;
                for (int i = 0; i < lanes; i++)
#pragma GCC unroll 16
                    for (int o = 0; o < BLK; o++)
                        acc[o] += x[i] * w[i * BLK + o];
            }
    }
    float *y = blk_at(&a->out, img, ocb, oy, ox);
    const float *r = a->res.p ? blk_at(&a->res, img, ocb, oy, ox) : NULL;
    for (int o = 0; o < BLK; o++) {
        float v = acc[o] + (r ? r[o] : 0.0f);
        y[o] = a->relu && v < 0 ? 0.0f : v;
    }
}

void conv_forward_c(const struct conv_args *a)
{
    const int ocb_n = blk_cb(&a->out);
#pragma omp parallel for collapse(3) schedule(static)
    for (int img = 0; img < a->n; img++)
        for (int ocb = 0; ocb < ocb_n; ocb++)
            for (int oy = 0; oy < a->out.h; oy++) {
                for (int ox = 0; ox < a->out.w; ox++)
                    conv_pixel(a, img, ocb, oy, ox);
                blk_zero_halo(&a->out, img, ocb, ocb + 1, oy, oy + 1);
            }
}

void conv_describe_c(const struct conv_args *a, int threads, char *out, size_t len)
{
    (void)threads;
    snprintf(out, len, "rows %d", a->n * blk_cb(&a->out) * a->out.h);
}
