/* test_conv8.c -- the int8 convolution (conv8.h) against plain loops.
 *
 * A naive convolution written here over planar tensors quantizes the
 * weights itself (per output channel, max |w| / 127, round half to even),
 * sums the u8 x s8 products in 64-bit integers with bounds tests for the
 * padding, and applies conv8.h's epilogue; the portable blocked kernel must
 * equal it bit for bit, in both outputs (fp32 and u8), and the SIMD kernels
 * of every table this CPU runs must equal the portable one bit for bit: the
 * VNNI one where the CPU has the instruction, and the plain one (vpmaddwd,
 * for CPUs without it) everywhere.  Shapes: 1x1 and 3x3, strides 1 and 2, channel counts
 * that are and are not multiples of 16, batch 1 and 3, residual, ReLU, and
 * every tile edge of a 56-wide row.  Output buffers start as 0xff bytes / NaN,
 * so an unwritten halo or spare lane fails.  Then the fp32 -> u8 step:
 * rounding half to even, clamping, halo. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "check.h"
#include "conv8.h"
#include "cpu.h"
#include "kernels.h"
#include "testutil.h"

struct case8 {
    int n, in_c, out_c, h, w, k, s, pad, res, relu;
    int outs;   /* 1: fp32 output, 2: u8 output, 3: both */
};

/* A u8 tensor whose whole buffer is 0xff. */
static struct blk8 blk8_new(int c, int h, int w, int halo, int n, uint8_t **base)
{
    struct blk8 t = {NULL, {NULL, c, h, w, halo}};
    size_t bytes = blk_floats(&t.shape, n);
    *base = aligned_alloc(64, (bytes + 63) / 64 * 64);
    memset(*base, 0xff, bytes);
    t.p = *base + blk_origin(&t.shape);
    return t;
}

/* planar [n][c][h][w] -> t; spare lanes and halo 0 */
static void blk8_from_planar(const uint8_t *src, const struct blk8 *t, int n, uint8_t *base)
{
    memset(base, 0, blk_floats(&t->shape, n));
    const struct blk *s = &t->shape;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < s->c; c++)
            for (int y = 0; y < s->h; y++)
                for (int x = 0; x < s->w; x++)
                    blk8_at(t, i, c / BLK, y, x)[c % BLK] =
                        src[(((size_t)i * s->c + c) * s->h + y) * s->w + x];
}

/* Every byte outside the pixels' live lanes is 0, and those inside equal want (planar). */
static int blk8_equal(const struct blk8 *t, const uint8_t *base, const uint8_t *want, int n)
{
    const struct blk *s = &t->shape;
    size_t bytes = blk_floats(s, n), row = blk_row(s), plane = blk_plane(s);
    for (size_t f = 0; f < bytes; f++) {
        size_t in_plane = f % plane, cb = f / plane % (size_t)blk_cb(s), img = f / blk_image(s);
        long y = (long)(in_plane / row) - s->halo, x = (long)(in_plane % row / BLK) - s->halo;
        int c = (int)cb * BLK + (int)(f % BLK);
        int live = y >= 0 && y < s->h && x >= 0 && x < s->w && c < s->c;
        uint8_t expect = live ? want[(((img * s->c + c) * s->h + y) * s->w + x)] : 0;
        if (base[f] != expect)
            return 0;
    }
    return 1;
}

/* fp32 tensors equal bit for bit, frames zero */
static int blk_bits_equal(const struct blk *t, const float *base, const float *want, int n)
{
    if (!frame_is_zero(t, base, n))
        return 0;
    size_t count = (size_t)n * t->c * t->h * t->w;
    float *mine = malloc(count * sizeof *mine);
    ops_to_planar(t, mine, n);
    int same = !memcmp(mine, want, count * sizeof *mine);
    free(mine);
    return same;
}

static void run_case(const struct case8 *c)
{
    const int oh = (c->h + 2 * c->pad - c->k) / c->s + 1, ow = (c->w + 2 * c->pad - c->k) / c->s + 1;
    char name[160];
    snprintf(name, sizeof name, "conv8 k%d s%d pad %d %d->%d %dx%d->%dx%d n%d%s%s%s", c->k, c->s,
             c->pad, c->in_c, c->out_c, c->h, c->w, oh, ow, c->n, c->res ? " +res" : "",
             c->relu ? " relu" : "", c->outs == 1 ? " fp32" : c->outs == 2 ? " u8" : " fp32+u8");
    const size_t in_n = (size_t)c->n * c->in_c * c->h * c->w, out_n = (size_t)c->n * c->out_c * oh * ow;
    const int kk = c->k * c->k, ocp = (c->out_c + BLK - 1) / BLK * BLK;
    uint8_t *in = malloc(in_n);
    for (size_t i = 0; i < in_n; i++)
        in[i] = (uint8_t)((frand() + 1) * 128);   /* 0..255 */
    float *w = frand_array((size_t)c->out_c * c->in_c * kk, 1.0f);
    float *bias = calloc((size_t)ocp, sizeof *bias), *scale = calloc((size_t)ocp, sizeof *scale);
    float *res = c->res ? frand_array(out_n, 40.0f) : NULL;
    const float in_scale = 0.02f, out_inv = 1 / 0.35f;
    for (int oc = 0; oc < c->out_c; oc++)
        bias[oc] = frand() * 20;

    /* the naive reference: its own quantization, exact sums, conv8.h's epilogue */
    float *want = malloc(out_n * sizeof *want);
    uint8_t *want8 = malloc(out_n);
    for (int oc = 0; oc < c->out_c; oc++) {
        const float *wo = w + (size_t)oc * c->in_c * kk;
        double top = 0;
        for (int j = 0; j < c->in_c * kk; j++)
            top = fmax(top, fabs(wo[j]));
        const double wsc = top / 127;
        scale[oc] = (float)(in_scale * (double)(float)wsc);
        for (int i = 0; i < c->n; i++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    long long acc = 0;
                    for (int ic = 0; ic < c->in_c; ic++)
                        for (int ky = 0; ky < c->k; ky++)
                            for (int kx = 0; kx < c->k; kx++) {
                                int iy = oy * c->s + ky - c->pad, ix = ox * c->s + kx - c->pad;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                                    continue;
                                long q = lrint(nearbyint(wo[(ic * c->k + ky) * c->k + kx] / wsc));
                                acc += q * in[(((size_t)i * c->in_c + ic) * c->h + iy) * c->w + ix];
                            }
                    size_t o = (((size_t)i * c->out_c + oc) * oh + oy) * ow + ox;
                    float v = fmaf((float)acc, scale[oc], bias[oc]);
                    if (res)
                        v = v + res[o];
                    if (c->relu)
                        v = v > 0 ? v : 0;
                    want[o] = v;
                    want8[o] = conv8_u8(v * out_inv);
                }
    }

    uint8_t *in_base, *wp = aligned_alloc(64, conv8_packed_bytes(c->out_c, c->in_c, c->k));
    struct blk8 tin = blk8_new(c->in_c, c->h, c->w, c->pad + 1, c->n, &in_base);
    blk8_from_planar(in, &tin, c->n, in_base);
    float *w_scale = malloc((size_t)ocp * sizeof *w_scale);
    double *fold = malloc((size_t)c->out_c * sizeof *fold);
    for (int oc = 0; oc < c->out_c; oc++)
        fold[oc] = 1;
    conv8_pack((int8_t *)wp, w_scale, w, fold, c->out_c, c->in_c, c->k);
    float *res_base = NULL;
    struct blk tres = {0};
    if (res) {
        tres = blk_new(c->out_c, oh, ow, 2, c->n, &res_base);
        ops_from_planar(res, &tres, c->n);
    }
    struct conv8_args a = {.in = tin, .res = tres, .w = (const int8_t *)wp, .scale = scale,
                           .b = bias, .out_inv = out_inv, .n = c->n, .k = c->k, .stride = c->s,
                           .pad_t = c->pad, .pad_l = c->pad, .relu = c->relu};

    const struct kernels *tables[ISA_N];
    const int nt = cpu_kernel_tables(tables);
    /* the portable table first; each SIMD table's VNNI kernel where the CPU
     * has it, and its plain one (vpmaddwd) on any CPU of its ISA */
    for (int t = nt - 1, v = 0; t >= 0; v = !v, t -= !v) {
        const struct kernels *k = tables[t];
        void (*conv8)(const struct conv8_args *) = v ? k->conv8_plain : k->conv8;
        if (!conv8 || (!v && !cpu_has_extra(k->conv8_needs)) || !(k->conv8_strides >> c->s & 1))
            continue;
        float *ob = NULL;
        uint8_t *ob8 = NULL;
        a.out = (struct blk){0}, a.out8 = (struct blk8){0};
        if (c->outs & 1)
            a.out = blk_new(c->out_c, oh, ow, 1, c->n, &ob);
        if (c->outs & 2)
            a.out8 = blk8_new(c->out_c, oh, ow, 2, c->n, &ob8);
        conv8(&a);
        int same = (!ob || blk_bits_equal(&a.out, ob, want, c->n)) &&
                   (!ob8 || blk8_equal(&a.out8, ob8, want8, c->n));
        CHECK(same, "%s: %s%s equals the naive int8 convolution bit for bit, halo and spare "
              "lanes zero", name, k->name, v ? " (vpmaddwd, no VNNI)" : "");
        free(ob), free(ob8);
    }
    free(in), free(w), free(bias), free(scale), free(res), free(want), free(want8);
    free(in_base), free(wp), free(w_scale), free(fold), free(res_base);
}

static void conv8_tests(void)
{
    static const int geo[][3] = {{1, 1, 0}, {1, 2, 0}, {3, 1, 1}, {3, 2, 1}};
    static const int chans[][2] = {{16, 16}, {24, 64}, {64, 100}, {100, 40}, {32, 64}};
    static const int sizes[][2] = {{9, 11}, {8, 8}, {7, 7}, {15, 6}};
    int t = 0;
    for (size_t g = 0; g < sizeof geo / sizeof *geo; g++)
        for (size_t ch = 0; ch < sizeof chans / sizeof *chans; ch++, t++) {
            struct case8 c = {0};
            c.k = geo[g][0], c.s = geo[g][1], c.pad = geo[g][2];
            c.in_c = chans[ch][0], c.out_c = chans[ch][1];
            c.h = sizes[t % 4][0], c.w = sizes[t % 4][1];
            c.n = t % 3 == 0 ? 3 : 1;
            c.res = t % 2;
            c.outs = 1 + t % 3;
            c.relu = c.outs != 1 || t % 4 < 2;   /* a u8 output follows a ReLU */
            run_case(&c);
        }
    /* real tiles: 56-wide rows (every tile edge), a 7x7 late layer, a strided 1x1 */
    static const struct case8 real[] = {
        {1, 64, 64, 56, 20, 3, 1, 1, 0, 1, 2},
        {2, 64, 256, 14, 56, 1, 1, 0, 1, 1, 3},
        {1, 512, 512, 7, 7, 3, 1, 1, 0, 1, 2},
        {1, 256, 512, 14, 14, 1, 2, 0, 0, 0, 1},
        {2, 3, 64, 38, 38, 7, 2, 3, 0, 1, 1},   /* the stem: one live group of 4 channels */
    };
    for (size_t i = 0; i < sizeof real / sizeof *real; i++)
        run_case(&real[i]);
}

/* fp32 -> u8: half to even, clamped at 0 and 255, halo zero */
static void quantize_tests(void)
{
    const int c = 20, h = 3, w = 5, n = 2;
    const size_t count = (size_t)n * c * h * w;
    float *x = malloc(count * sizeof *x);
    uint8_t *want = malloc(count);
    static const float fixed[][2] = {{0.5f, 0}, {1.5f, 2}, {2.5f, 2}, {3.5f, 4}, {254.5f, 254},
                                     {255.5f, 255}, {1e9f, 255}, {-3, 0}, {0.49999997f, 0}};
    for (size_t i = 0; i < count; i++) {
        if (i < sizeof fixed / sizeof *fixed) {
            x[i] = fixed[i][0] * 0.25f;   /* times inv = 4 below */
            want[i] = (uint8_t)fixed[i][1];
        } else {
            x[i] = (frand() + 1) * 40;
            want[i] = (uint8_t)fmin(255, nearbyint((double)(x[i] * 4.0f)));
        }
    }
    float *base;
    struct blk in = blk_new(c, h, w, 1, n, &base);
    ops_from_planar(x, &in, n);
    uint8_t *base8;
    struct blk8 out = blk8_new(c, h, w, 2, n, &base8);
    conv8_quantize(&in, &out, 4.0f, 0, n);
    CHECK(blk8_equal(&out, base8, want, n),
          "conv8_quantize: half to even (2.5 -> 2, 3.5 -> 4), clamped to 0..255, halo zero");
    free(x), free(want), free(base), free(base8);
}

/* With a zero point (the stem's input): q = rne(x * inv + zero) clamped,
 * and every byte that is not a live channel of a pixel -- the halo, the
 * spare lanes of the last block -- the zero point, the real 0 that padding
 * must read. */
static void quantize_zero_tests(void)
{
    const int c = 3, h = 5, w = 7, n = 2, zero = 113;
    const size_t count = (size_t)n * c * h * w;
    float *x = malloc(count * sizeof *x);
    for (size_t i = 0; i < count; i++)
        x[i] = frand() * 3.0f;   /* -3 .. 3: below, inside and above the u8 range */
    float *base;
    struct blk in = blk_new(c, h, w, 1, n, &base);
    ops_from_planar(x, &in, n);
    uint8_t *base8;
    struct blk8 out = blk8_new(c, h, w, 2, n, &base8);
    const float inv = 40.0f;
    conv8_quantize(&in, &out, inv, zero, n);
    int ok = 1;
    const size_t bytes = blk_floats(&out.shape, n);
    for (size_t b = 0; b < bytes; b++) {
        const long at = (long)b - (long)blk_origin(&out.shape);   /* from pixel (0,0) */
        const long img = at / (long)blk_image(&out.shape), rest = at % (long)blk_image(&out.shape);
        const long y = rest / (long)blk_row(&out.shape) - 0, xx = rest % (long)blk_row(&out.shape);
        const long px = xx / BLK, lane = xx % BLK;
        int want = zero;
        if (at >= 0 && y < h && px < w && lane < c && img < n) {
            const float v = x[(((size_t)img * c + lane) * h + y) * w + px];
            want = conv8_u8(v * inv + (float)zero);
        }
        ok &= base8[b] == want;
    }
    CHECK(ok, "conv8_quantize with zero point %d: rne(x * inv + zero) clamped, the halo and "
          "spare lanes the zero point", zero);
    free(x), free(base), free(base8);
}

int main(void)
{
    frand_seed(8);
    conv8_tests();
    quantize_tests();
    quantize_zero_tests();
    return CHECK_DONE();
}
