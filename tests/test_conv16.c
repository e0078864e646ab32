/* test_conv16.c -- the bf16 convolution (conv16.h) against plain loops.
 *
 * Inputs and weights are bf16 values, so every product is exact in fp32
 * and in double: a naive convolution here sums them in double, and the
 * portable blocked kernel must be within E of it, E the error fp32
 * additions in any order may make: n_terms x 2^-24 x the sum of the terms'
 * magnitudes (n_terms the products plus bias and residual).  The SIMD
 * kernel of every table whose bf16 kernel this CPU runs is held to the same
 * bound against the naive sums (its vdpbf16ps adds in another order).  A
 * bf16 output may then differ by one bf16 rounding step where the fp32
 * value sits near a rounding boundary: each must be the bf16 of a value
 * within E of the exact sum.  Output buffers start as NaN / 0xffff, so an
 * unwritten halo or spare lane fails.  Then bf16_of's rounding, denormals
 * and NaN, and the fp32 -> bf16 step. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "check.h"
#include "conv16.h"
#include "cpu.h"
#include "kernels.h"
#include "testutil.h"

struct case16 {
    int n, in_c, out_c, h, w, k, s, pad, res, relu;
    int outs;   /* 1: fp32 output, 2: bf16 output, 3: both */
};

static struct blk16 blk16_new(int c, int h, int w, int halo, int n, uint16_t **base)
{
    struct blk16 t = {NULL, {NULL, c, h, w, halo}};
    size_t count = blk_floats(&t.shape, n);
    *base = aligned_alloc(64, (count * 2 + 63) / 64 * 64);
    memset(*base, 0xff, count * 2);
    t.p = *base + blk_origin(&t.shape);
    return t;
}

/* The worst excess of any output over its bound: |got - exact| - bound
 * for fp32 (<= 0 passes); for bf16, got must be the bf16 of exact +- bound.
 * Frames (halo, spare lanes) must be zero; NaN fails. */
static double excess(const struct case16 *c, int oh, int ow, const struct blk *out,
                     const float *base, const struct blk16 *out16, const uint16_t *base16,
                     const double *exact, const double *bound)
{
    double worst = -1;
    if (out->c && !frame_is_zero(out, base, c->n))
        return INFINITY;
    for (int i = 0; i < c->n; i++)
        for (int oc = 0; oc < c->out_c; oc++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    size_t o = (((size_t)i * c->out_c + oc) * oh + y) * ow + x;
                    if (out->c) {
                        double d = fabs(blk_at(out, i, oc / BLK, y, x)[oc % BLK] - exact[o]) - bound[o];
                        if (!(d <= worst))
                            worst = d;
                    }
                    if (out16) {
                        uint16_t got = blk16_at(out16, i, oc / BLK, y, x)[oc % BLK];
                        uint16_t lo = bf16_of((float)(exact[o] - bound[o]));
                        uint16_t hi = bf16_of((float)(exact[o] + bound[o]));
                        float g = bf16_to(got);
                        if (!(g >= fminf(bf16_to(lo), bf16_to(hi)) && g <= fmaxf(bf16_to(lo), bf16_to(hi))))
                            worst = INFINITY;
                    }
                }
    if (out16) {   /* the bf16 frame */
        const struct blk *s = &out16->shape;
        size_t count = blk_floats(s, c->n), row = blk_row(s), plane = blk_plane(s);
        for (size_t f = 0; f < count; f++) {
            size_t in_plane = f % plane, cb = f / plane % (size_t)blk_cb(s);
            long y = (long)(in_plane / row) - s->halo, x = (long)(in_plane % row / BLK) - s->halo;
            int live = y >= 0 && y < s->h && x >= 0 && x < s->w && (int)cb * BLK + (int)(f % BLK) < s->c;
            if (!live && base16[f] != 0)
                return INFINITY;
        }
    }
    return worst;
}

static void run_case(const struct case16 *c)
{
    const int oh = (c->h + 2 * c->pad - c->k) / c->s + 1, ow = (c->w + 2 * c->pad - c->k) / c->s + 1;
    char name[160];
    snprintf(name, sizeof name, "conv16 k%d s%d pad %d %d->%d %dx%d->%dx%d n%d%s%s%s", c->k, c->s,
             c->pad, c->in_c, c->out_c, c->h, c->w, oh, ow, c->n, c->res ? " +res" : "",
             c->relu ? " relu" : "", c->outs == 1 ? " fp32" : c->outs == 2 ? " bf16" : " fp32+bf16");
    const size_t in_n = (size_t)c->n * c->in_c * c->h * c->w, out_n = (size_t)c->n * c->out_c * oh * ow;
    const int kk = c->k * c->k, ocp = (c->out_c + BLK - 1) / BLK * BLK;
    float *in = frand_array(in_n, 2.0f);
    float *w = frand_array((size_t)c->out_c * c->in_c * kk, 1.0f / sqrtf((float)(c->in_c * kk)));
    float *bias = calloc((size_t)ocp, sizeof *bias);
    float *res = c->res ? frand_array(out_n, 1.0f) : NULL;
    for (size_t i = 0; i < in_n; i++)
        in[i] = bf16_to(bf16_of(in[i]));
    for (int oc = 0; oc < c->out_c; oc++)
        bias[oc] = frand() * 0.5f;
    double *exact = malloc(out_n * sizeof *exact), *bound = malloc(out_n * sizeof *bound);
    const double terms = (double)c->in_c * kk + 2;
    for (int i = 0; i < c->n; i++)
        for (int oc = 0; oc < c->out_c; oc++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    size_t o = (((size_t)i * c->out_c + oc) * oh + oy) * ow + ox;
                    double sum = bias[oc], mag = fabs(bias[oc]);
                    for (int ic = 0; ic < c->in_c; ic++)
                        for (int ky = 0; ky < c->k; ky++)
                            for (int kx = 0; kx < c->k; kx++) {
                                int iy = oy * c->s + ky - c->pad, ix = ox * c->s + kx - c->pad;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                                    continue;
                                double t = (double)in[(((size_t)i * c->in_c + ic) * c->h + iy) * c->w + ix] *
                                           bf16_to(bf16_of(w[((size_t)(oc * c->in_c + ic) * c->k + ky) * c->k + kx]));
                                sum += t, mag += fabs(t);
                            }
                    if (res)
                        sum += res[o], mag += fabs(res[o]);
                    double b = terms * ldexp(mag, -24);
                    if (c->relu && sum < 0)
                        b = fmax(0, b + sum), sum = 0;   /* ReLU keeps the error at most */
                    exact[o] = sum, bound[o] = b;
                }

    float *fin_base, *res_base = NULL;
    struct blk fin = blk_new(c->in_c, c->h, c->w, c->pad + 1, c->n, &fin_base);
    ops_from_planar(in, &fin, c->n);
    uint16_t *in_base, *wp = aligned_alloc(64, conv16_packed_count(c->out_c, c->in_c, c->k) * 2);
    struct blk16 tin = blk16_new(c->in_c, c->h, c->w, c->pad + 1, c->n, &in_base);
    conv16_convert(&fin, &tin, c->n);
    double *fold = malloc((size_t)c->out_c * sizeof *fold);
    for (int oc = 0; oc < c->out_c; oc++)
        fold[oc] = 1;
    conv16_pack(wp, w, fold, c->out_c, c->in_c, c->k);
    struct blk tres = {0};
    if (res) {
        tres = blk_new(c->out_c, oh, ow, 2, c->n, &res_base);
        ops_from_planar(res, &tres, c->n);
    }
    struct conv16_args a = {.in = tin, .res = tres, .w = wp, .b = bias, .n = c->n, .k = c->k,
                            .stride = c->s, .pad_t = c->pad, .pad_l = c->pad, .relu = c->relu};
    const struct kernels *tables[ISA_N];
    const int nt = cpu_kernel_tables(tables);
    for (int t = nt - 1; t >= 0; t--) {
        const struct kernels *k = tables[t];
        if (!k->conv16 || !cpu_has_extra(k->conv16_needs) || !(k->conv16_strides >> c->s & 1))
            continue;
        float *ob = NULL;
        uint16_t *ob16 = NULL;
        a.out = (struct blk){0}, a.out16 = (struct blk16){0};
        if (c->outs & 1)
            a.out = blk_new(c->out_c, oh, ow, 1, c->n, &ob);
        if (c->outs & 2)
            a.out16 = blk16_new(c->out_c, oh, ow, 2, c->n, &ob16);
        k->conv16(&a);
        double e = excess(c, oh, ow, &a.out, ob, ob16 ? &a.out16 : NULL, ob16, exact, bound);
        CHECK(e <= 0, "%s: %s within n x 2^-24 x sum |terms| of the exact sums (worst excess %.2g), "
              "bf16 outputs the rounding of such a value, halo and spare lanes zero", name, k->name, e);
        free(ob), free(ob16);
    }
    free(in), free(w), free(bias), free(res), free(exact), free(bound), free(fin_base);
    free(in_base), free(wp), free(fold), free(res_base);
}

static void conv16_tests(void)
{
    static const int geo[][3] = {{1, 1, 0}, {1, 2, 0}, {3, 1, 1}, {3, 2, 1}};
    static const int chans[][2] = {{16, 16}, {24, 64}, {64, 100}, {100, 40}, {32, 64}};
    static const int sizes[][2] = {{9, 11}, {8, 8}, {7, 7}, {15, 6}};
    int t = 0;
    for (size_t g = 0; g < sizeof geo / sizeof *geo; g++)
        for (size_t ch = 0; ch < sizeof chans / sizeof *chans; ch++, t++) {
            struct case16 c = {0};
            c.k = geo[g][0], c.s = geo[g][1], c.pad = geo[g][2];
            c.in_c = chans[ch][0], c.out_c = chans[ch][1];
            c.h = sizes[t % 4][0], c.w = sizes[t % 4][1];
            c.n = t % 3 == 0 ? 3 : 1;
            c.res = t % 2, c.relu = t % 4 < 2, c.outs = 1 + t % 3;
            run_case(&c);
        }
    static const struct case16 real[] = {
        {1, 64, 64, 56, 20, 3, 1, 1, 0, 1, 2},
        {2, 64, 256, 14, 56, 1, 1, 0, 1, 1, 3},
        {1, 512, 512, 7, 7, 3, 1, 1, 0, 1, 2},
        {1, 256, 512, 14, 14, 1, 2, 0, 0, 0, 1},
        {2, 3, 64, 38, 38, 7, 2, 3, 0, 1, 1},   /* the stem: two live pairs of channels */
    };
    for (size_t i = 0; i < sizeof real / sizeof *real; i++)
        run_case(&real[i]);
}

static void rounding_tests(void)
{
    static const float x[] = {1.0f, 1.00390625f /* half an ulp: to even, 1 */,
                              1.01171875f /* 1.5 ulp: to even, 1.015625 */, -2.5f, 1e-40f, -1e-40f,
                              3.4e38f, 0.0f};
    static const uint16_t want[] = {0x3f80, 0x3f80, 0x3f82, 0xc020, 0x0000, 0x8000, 0x7f80, 0x0000};
    int ok = 1;
    for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        ok &= bf16_of(x[i]) == want[i];
    const uint16_t nan = bf16_of(NAN);
    CHECK(ok && isnan(bf16_to(nan)),
          "bf16_of: to nearest even, denormals to signed zero, overflow to infinity, NaN a NaN");
}

int main(void)
{
    frand_seed(16);
    conv16_tests();
    rounding_tests();
    return CHECK_DONE();
}
