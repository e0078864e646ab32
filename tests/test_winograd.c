/* test_winograd.c -- Winograd F(4x4, 3x3) against the direct convolution.
 *
 * Every Winograd kernel the CPU can run (portable C, AVX2, AVX-512) is held
 * to conv_forward_c, the direct convolution's specification, on the same
 * inputs, weights and bias: sizes that are and are not multiples of the
 * 4x4 tile (1, 3, 5, 7, 13, 14, 56), padding 1 and 0, channel counts that
 * are and are not multiples of 16, batch 1 and 3, residual and ReLU on and
 * off, and plans for 1, 2 and 3 threads (different groups of tiles and
 * chunks of output blocks).  The input's halo holds NaN, so a kernel that
 * reads past the image instead of using zeros fails; the output starts as
 * NaN, so one that leaves a halo or a spare lane unwritten fails.
 *
 * The tolerance: Winograd's transforms multiply values by up to 8 (A) and
 * 5 (B) and by 1/24 (G) before and after the sums over channels, so its
 * FP32 rounding error is larger than the direct kernel's.  Measured over
 * these cases it stays under 1e-5 of the output's largest magnitude (a few
 * 1e-6 typically); TOL_REL is twice the worst measured, a bound that a
 * wrong transform coefficient or a missed tile exceeds by orders of
 * magnitude.  Each line reports its error, so a drift shows before it fails. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "check.h"
#include "conv.h"
#include "cpu.h"
#include "ops.h"
#include "testutil.h"
#include "winograd.h"

#define TOL_UNITS 100.0   /* see above */

/* NaN in every float of the halo (the spare lanes of live pixels stay 0:
 * the blocked layout promises them). */
static void poison_halo(const struct blk *t, float *base, int n)
{
    size_t floats = blk_floats(t, n), row = blk_row(t), plane = blk_plane(t);
    for (size_t f = 0; f < floats; f++) {
        size_t in_plane = f % plane;
        long y = (long)(in_plane / row) - t->halo, x = (long)(in_plane % row / BLK) - t->halo;
        if (y < 0 || y >= t->h || x < 0 || x >= t->w)
            base[f] = NAN;
    }
}

struct wcase {
    int n, in_c, out_c, h, w, pad, res, relu;
};

/* In double: exact [n][oc][oh][ow], the convolution (+ residual), and mag,
 * the sum of the magnitudes of its terms, which scales any rounding error. */
static void naive(const struct wcase *c, const float *in, const float *w, const float *b,
                  const float *res, double *exact, double *mag)
{
    const int oh = c->h + 2 * c->pad - 2, ow = c->w + 2 * c->pad - 2;
    for (int i = 0; i < c->n; i++)
        for (int oc = 0; oc < c->out_c; oc++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double s = b[oc], m = fabs(b[oc]);
                    for (int ic = 0; ic < c->in_c; ic++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = oy + ky - c->pad, ix = ox + kx - c->pad;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                                    continue;
                                double t = (double)in[(((size_t)i * c->in_c + ic) * c->h + iy) * c->w + ix] *
                                           w[(((size_t)oc * c->in_c + ic) * 3 + ky) * 3 + kx];
                                s += t, m += fabs(t);
                            }
                    size_t o = (((size_t)i * c->out_c + oc) * oh + oy) * ow + ox;
                    if (res)
                        s += res[o], m += fabs(res[o]);
                    exact[o] = s, mag[o] = m;
                }
}

/* max over outputs of |got - exact| / (mag * FLT_EPSILON): the error in
 * units of the rounding of one term; a ReLU'd output compares with max(0, .). */
static double err_units(const struct blk *t, int n, int relu, const double *exact,
                        const double *mag)
{
    size_t count = (size_t)n * t->c * t->h * t->w;
    float *got = malloc(count * sizeof *got);
    ops_to_planar(t, got, n);
    double worst = 0;
    for (size_t i = 0; i < count; i++) {
        double want = relu && exact[i] < 0 ? 0 : exact[i];
        double e = fabs(got[i] - want) / (mag[i] * FLT_EPSILON);
        if (!(e <= worst))
            worst = e;
    }
    free(got);
    return worst;
}

static double worst, worst_direct;   /* over all cases, for the summary line */

static void run_case(const struct wcase *c)
{
    const int oh = c->h + 2 * c->pad - 2, ow = c->w + 2 * c->pad - 2;
    char name[160];
    snprintf(name, sizeof name, "wino pad %d %d->%d %dx%d->%dx%d n%d%s%s", c->pad, c->in_c,
             c->out_c, c->h, c->w, oh, ow, c->n, c->res ? " +res" : "", c->relu ? " relu" : "");
    size_t in_n = (size_t)c->n * c->in_c * c->h * c->w, out_n = (size_t)c->n * c->out_c * oh * ow;
    float *in = frand_array(in_n, 1.0f);
    float *w = frand_array((size_t)c->out_c * c->in_c * 9, 1.0f / sqrtf((float)(c->in_c * 9)));
    float *b = frand_array((size_t)c->out_c, 0.5f);
    float *res = c->res ? frand_array(out_n, 1.0f) : NULL;
    double *scale = malloc((size_t)c->out_c * sizeof *scale);
    for (int i = 0; i < c->out_c; i++)
        scale[i] = 1.0;
    int ocp = (c->out_c + BLK - 1) / BLK * BLK;
    float *bp = calloc((size_t)ocp, sizeof *bp);
    memcpy(bp, b, (size_t)c->out_c * sizeof *b);

    /* the direct convolution's answer */
    float *in_base, *res_base = NULL, *out_base;
    struct blk tin = blk_new(c->in_c, c->h, c->w, c->pad, c->n, &in_base);
    ops_from_planar(in, &tin, c->n);
    struct blk tres = {0};
    if (res) {
        tres = blk_new(c->out_c, oh, ow, 2, c->n, &res_base);
        ops_from_planar(res, &tres, c->n);
    }
    float *wd = aligned_alloc(64, conv_packed_floats(c->out_c, c->in_c, 3) * sizeof(float));
    conv_pack(wd, w, scale, c->out_c, c->in_c, 3);
    struct conv_args a = {.in = tin, .res = tres, .w = wd, .b = bp, .n = c->n, .k = 3,
                          .stride = 1, .pad_t = c->pad, .pad_l = c->pad, .relu = c->relu};
    a.out = blk_new(c->out_c, oh, ow, 1, c->n, &out_base);
    conv_forward_c(&a);
    double *exact = malloc(out_n * sizeof *exact), *mag = malloc(out_n * sizeof *mag);
    naive(c, in, w, b, res, exact, mag);
    const double direct = err_units(&a.out, c->n, c->relu, exact, mag);

    /* Winograd reads only the image: its input's halo is NaN (one wider
     * than the padding, so an edge tile that trusts the frame fails too). */
    float *win_base;
    a.in = blk_new(c->in_c, c->h, c->w, c->pad + 1, c->n, &win_base);
    ops_from_planar(in, &a.in, c->n);
    poison_halo(&a.in, win_base, c->n);
    float *wu = aligned_alloc(64, wino_packed_floats(c->out_c, c->in_c) * sizeof(float));
    wino_pack(wu, w, scale, c->out_c, c->in_c);
    a.w = wu;

    const struct kernels *tables[ISA_N];
    for (int t = 0, n_tables = cpu_kernel_tables(tables); t < n_tables; t++) {
        const struct kernels *k = tables[t];
        for (int threads = 1; threads <= 3; threads++) {
            struct wino_plan p;
            wino_plan(&a, threads, &p);
            float *scratch = malloc(p.threads * p.scratch_floats * sizeof(float)), *ob;
            a.out = blk_new(c->out_c, oh, ow, k->isa == ISA_AVX2 ? 0 : 1, c->n, &ob);
            k->wino(&a, &p, scratch);
            double e = err_units(&a.out, c->n, c->relu, exact, mag);
            worst = e > worst ? e : worst;
            worst_direct = direct > worst_direct ? direct : worst_direct;
            CHECK(e <= TOL_UNITS && frame_is_zero(&a.out, ob, c->n),
                  "%s: %s, %d thread%s (%d groups of %d tiles x %d chunks): error %.2f units "
                  "(direct %.2f), halo and spare lanes zero", name,
                  k->name, threads, threads > 1 ? "s" : "", p.groups,
                  p.group, p.chunks, e, direct);
            free(ob), free(scratch);
        }
    }
    free(in), free(w), free(b), free(res), free(scale), free(bp), free(in_base), free(res_base);
    free(out_base), free(wd), free(exact), free(mag), free(win_base), free(wu);
}

int main(void)
{
    frand_seed(4242u);
    static const int chans[][2] = {{3, 8}, {8, 24}, {24, 64}, {64, 100}, {100, 64}, {16, 16},
                                   {40, 17}};
    static const int sizes[][2] = {{7, 7}, {14, 14}, {5, 9}, {13, 6}, {3, 3}, {1, 1}, {8, 8},
                                   {11, 4}};
    int t = 0;
    for (size_t ch = 0; ch < sizeof chans / sizeof *chans; ch++)
        for (size_t sz = 0; sz < sizeof sizes / sizeof *sizes; sz++, t++) {
            struct wcase c = {t % 3 == 0 ? 3 : 1, chans[ch][0], chans[ch][1], sizes[sz][0],
                              sizes[sz][1], t % 5 == 4 ? 0 : 1, t % 2, t % 4 < 2};
            if (c.h + 2 * c.pad < 3 || c.w + 2 * c.pad < 3)
                continue;
            run_case(&c);
        }
    /* the 3x3 layers of the ResNets at 224x224 (56, 28, 14, 7), with the
     * residual and ReLU of a block's second conv; few tiles and many
     * channels split the output blocks into chunks */
    static const struct wcase real[] = {
        {1, 64, 64, 56, 56, 1, 1, 1},
        {2, 128, 128, 28, 28, 1, 0, 1},
        {3, 256, 256, 14, 14, 1, 1, 1},
        {1, 512, 512, 7, 7, 1, 1, 1},
        {2, 512, 512, 7, 7, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof real / sizeof *real; i++)
        run_case(&real[i]);
    /* the plan takes Winograd where it does at most half the direct
     * multiply-adds (every ResNet 3x3 layer, not outputs of 2x2 or 1x1; a
     * batch of 16 leaves the weights' traffic out of it), and only where the
     * batch has WINO_MIN_PIXELS output pixels to use each transformed weight
     * on: a 7x7 output from batch 3, 14x14 at batch 1 */
    static const int sides[][3] = {{56, 16, 1}, {14, 16, 1}, {7, 16, 1}, {3, 16, 1}, {5, 16, 0},
                                   {2, 16, 0}, {1, 16, 0}, {7, 1, 0}, {7, 2, 0}, {7, 3, 1},
                                   {14, 1, 1}};
    for (size_t i = 0; i < sizeof sides / sizeof *sides; i++) {
        const int n = sides[i][0], batch = sides[i][1];
        struct conv_args a = {.in = {NULL, 64, n, n, 1}, .out = {NULL, 64, n, n, 0}, .n = batch,
                              .k = 3, .stride = 1, .pad_t = 1, .pad_l = 1};
        struct wino_plan p;
        int use = wino_plan(&a, 2, &p);
        CHECK(use == sides[i][2], "wino_plan %dx%d output, batch %d: %s", n, n, batch,
              use ? "Winograd" : "direct");
    }
    printf("# worst error, in units of FLT_EPSILON x the sum of |terms|: Winograd %.2f "
           "(tolerance %.0f), direct %.2f\n", worst, TOL_UNITS, worst_direct);
    return CHECK_DONE();
}
