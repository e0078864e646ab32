/* test_conv.c -- the blocked convolution and ops against plain NCHW loops.
 *
 * The portable blocked kernel (conv_forward_c) is checked against a naive
 * convolution written here over planar tensors, with zero padding by bounds
 * tests; the SIMD kernel of every table the CPU can run (kernels.h) is
 * then checked against the portable one, for the strides it takes.  The shapes cover what the kernels special-case: 1x1, 3x3
 * and 7x7, strides 1 and 2, symmetric and TF-'same' asymmetric padding,
 * channel counts that are and are not multiples of 16 (3, 8, 24, 64, 100),
 * odd sizes, batch 1 and 3, residual and ReLU.  Output buffers start filled
 * with NaN, so a kernel that leaves a halo or a spare lane unwritten fails.
 * The blocked ops (layout conversion, max and average pools with zero and
 * own padding, global average pool, flatten, add, ReLU, affine, dense) are
 * held to plain loops as well.
 * Every line reports the largest difference. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "check.h"
#include "testutil.h"
#include "conv.h"
#include "cpu.h"
#include "kernels.h"
#include "ops.h"

#define TOL_NAIVE 1e-4f   /* blocked C against naive: sums of up to ~5000 terms of O(1/sqrt(n)) */
#define TOL_SIMD 2e-5f    /* SIMD against C: same order, FMA rounding */

/* --- convolution --- */

struct conv_case {
    int n, in_c, out_c, h, w, k, s, pad_t, pad_l, out_h, out_w, res, relu;
};

/* out [n][oc][oh][ow] = b + sum in * w (zero outside the image) (+ res) (ReLU) */
static void naive_conv(const struct conv_case *c, const float *in, const float *w,
                       const float *b, const float *res, float *out)
{
    for (int i = 0; i < c->n; i++)
        for (int oc = 0; oc < c->out_c; oc++)
            for (int oy = 0; oy < c->out_h; oy++)
                for (int ox = 0; ox < c->out_w; ox++) {
                    double s = b[oc];
                    for (int ic = 0; ic < c->in_c; ic++)
                        for (int ky = 0; ky < c->k; ky++)
                            for (int kx = 0; kx < c->k; kx++) {
                                int iy = oy * c->s + ky - c->pad_t, ix = ox * c->s + kx - c->pad_l;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                                    continue;
                                s += (double)in[(((size_t)i * c->in_c + ic) * c->h + iy) * c->w + ix] *
                                     w[(((size_t)oc * c->in_c + ic) * c->k + ky) * c->k + kx];
                            }
                    size_t o = (((size_t)i * c->out_c + oc) * c->out_h + oy) * c->out_w + ox;
                    if (res)
                        s += res[o];
                    out[o] = c->relu && s < 0 ? 0.0f : (float)s;
                }
}

static void run_conv_case(const struct conv_case *c)
{
    char name[160];
    snprintf(name, sizeof name, "conv k%d s%d pad t%d l%d %d->%d %dx%d->%dx%d n%d%s%s", c->k, c->s,
             c->pad_t, c->pad_l, c->in_c, c->out_c, c->h, c->w, c->out_h, c->out_w, c->n,
             c->res ? " +res" : "", c->relu ? " relu" : "");
    size_t in_n = (size_t)c->n * c->in_c * c->h * c->w;
    size_t out_n = (size_t)c->n * c->out_c * c->out_h * c->out_w;
    size_t w_n = (size_t)c->out_c * c->in_c * c->k * c->k;
    float *in = frand_array(in_n, 1.0f);
    float *w = frand_array(w_n, 1.0f / sqrtf((float)(c->in_c * c->k * c->k)));
    float *b = frand_array((size_t)c->out_c, 0.5f);
    float *res = c->res ? frand_array(out_n, 1.0f) : NULL;
    float *want = malloc(out_n * sizeof *want);
    naive_conv(c, in, w, b, res, want);

    /* Halos: the input's covers the padding (one wider than needed on odd
     * cases, to catch kernels that assume an exact fit); the output and the
     * residual get different ones so strides differ. */
    int pad_b = (c->out_h - 1) * c->s + c->k - c->h - c->pad_t;
    int pad_r = (c->out_w - 1) * c->s + c->k - c->w - c->pad_l;
    int need = c->pad_t;
    need = c->pad_l > need ? c->pad_l : need;
    need = pad_b > need ? pad_b : need;
    need = pad_r > need ? pad_r : need;
    float *in_base, *res_base = NULL, *out_base;
    struct blk tin = blk_new(c->in_c, c->h, c->w, need + (c->h & 1), c->n, &in_base);
    ops_from_planar(in, &tin, c->n);
    struct blk tres = {0};
    if (res) {
        tres = blk_new(c->out_c, c->out_h, c->out_w, 2, c->n, &res_base);
        ops_from_planar(res, &tres, c->n);
    }
    float *wp = aligned_alloc(64, conv_packed_floats(c->out_c, c->in_c, c->k) * sizeof(float));
    double *scale = malloc((size_t)c->out_c * sizeof *scale);
    for (int i = 0; i < c->out_c; i++)
        scale[i] = 1.0;
    conv_pack(wp, w, scale, c->out_c, c->in_c, c->k);
    int ocp = (c->out_c + BLK - 1) / BLK * BLK;
    float *bp = calloc((size_t)ocp, sizeof *bp);
    memcpy(bp, b, (size_t)c->out_c * sizeof *b);

    struct conv_args a = {.in = tin, .res = tres, .w = wp, .b = bp, .n = c->n, .k = c->k,
                          .stride = c->s, .pad_t = c->pad_t, .pad_l = c->pad_l, .relu = c->relu};
    struct blk tc = blk_new(c->out_c, c->out_h, c->out_w, 1, c->n, &out_base);
    a.out = tc;
    conv_forward_c(&a);
    float d = diff_planar(&tc, want, c->n);
    CHECK(d <= TOL_NAIVE && frame_is_zero(&tc, out_base, c->n),
          "%s: c vs naive max |diff| %.2e, halo and spare lanes zero", name, d);
    float *ref = malloc(out_n * sizeof *ref);
    ops_to_planar(&tc, ref, c->n);

    const struct kernels *tables[ISA_N];
    for (int t = 0, n = cpu_kernel_tables(tables); t < n; t++) {
        const struct kernels *k = tables[t];
        if (k->isa == ISA_C || !(k->conv_strides >> c->s & 1))
            continue;   /* the specification itself; a stride fwd_plan gives to it */
        float *ob;
        struct blk to = blk_new(c->out_c, c->out_h, c->out_w, k->isa == ISA_AVX2 ? 0 : 3, c->n, &ob);
        a.out = to;
        k->conv(&a);
        float ds = diff_planar(&to, ref, c->n);
        CHECK(ds <= TOL_SIMD && frame_is_zero(&to, ob, c->n),
              "%s: %s vs c max |diff| %.2e, halo and spare lanes zero", name, k->name, ds);
        /* Every cut tune.h may choose: the same bits as the kernel's own. */
        struct conv_tiling cut[16];
        const int n_cut = k->conv_tilings ? k->conv_tilings(&a, omp_get_max_threads(), cut, 16) : 0;
        float *own = malloc(out_n * sizeof *own), *got = malloc(out_n * sizeof *got);
        ops_to_planar(&to, own, c->n);
        int same = 1;
        for (int i = 1; i < n_cut; i++) {
            a.tiling = cut[i];
            for (size_t f = 0; f < blk_floats(&to, c->n); f++)
                ob[f] = NAN;   /* as blk_new left it */
            k->conv(&a);
            ops_to_planar(&to, got, c->n);
            same &= !memcmp(own, got, out_n * sizeof *got) && frame_is_zero(&to, ob, c->n);
        }
        a.tiling = (struct conv_tiling){0};
        if (n_cut > 1)
            CHECK(same, "%s: %s, each of its %d other cuts gives the own cut's bits", name,
                  k->name, n_cut - 1);
        free(own), free(got), free(ob);
    }
    free(in), free(w), free(b), free(res), free(want), free(ref), free(scale), free(bp);
    free(wp), free(in_base), free(res_base), free(out_base);
}

/* Output size and top/left pad for symmetric padding p, or TF 'same'
 * (p < 0): out = ceil(size / s), the extra row or column at the bottom/right. */
static void pads(int size, int k, int s, int p, int *out, int *pad0)
{
    if (p >= 0) {
        *out = (size + 2 * p - k) / s + 1;
        *pad0 = p;
    } else {
        *out = (size + s - 1) / s;
        int total = (*out - 1) * s + k - size;
        *pad0 = total > 0 ? total / 2 : 0;
    }
}

static void conv_tests(void)
{
    /* kernel, stride, padding (-1: TF same) */
    static const int geo[][3] = {
        {1, 1, 0}, {1, 2, 0}, {3, 1, 1}, {3, 2, 1}, {3, 1, 0}, {3, 2, -1}, {3, 1, -1},
        {7, 2, 3}, {7, 2, -1}, {7, 1, 3},
    };
    static const int chans[][2] = {{3, 8}, {8, 24}, {24, 64}, {64, 100}, {100, 64}, {16, 16}};
    static const int sizes[][2] = {{9, 11}, {8, 8}, {7, 7}, {15, 6}};
    int t = 0;
    for (size_t g = 0; g < sizeof geo / sizeof *geo; g++)
        for (size_t ch = 0; ch < sizeof chans / sizeof *chans; ch++, t++) {
            struct conv_case c = {0};
            const int *sz = sizes[t % 4];
            c.k = geo[g][0], c.s = geo[g][1];
            c.in_c = chans[ch][0], c.out_c = chans[ch][1];
            c.h = sz[0], c.w = sz[1];
            c.n = t % 3 == 0 ? 3 : 1;
            c.res = t % 2, c.relu = t % 4 < 2;
            pads(c.h, c.k, c.s, geo[g][2], &c.out_h, &c.pad_t);
            pads(c.w, c.k, c.s, geo[g][2], &c.out_w, &c.pad_l);
            if (c.out_h < 1 || c.out_w < 1)
                continue;
            run_conv_case(&c);
        }
    /* The shapes of the real networks' tiles: a 224 stem row, 56-wide rows
     * of many blocks (bands of rows over groups of blocks, both item
     * orders), and 7x7 late layers with long channel loops in chunks. */
    static const struct conv_case real[] = {
        {1, 3, 64, 38, 38, 7, 2, 3, 3, 19, 19, 0, 1},
        {2, 64, 64, 56, 20, 3, 1, 1, 1, 56, 20, 1, 1},
        {1, 64, 256, 28, 28, 1, 1, 0, 0, 28, 28, 1, 1},
        {1, 256, 128, 14, 14, 1, 2, 0, 0, 7, 7, 0, 0},
        {1, 512, 512, 7, 7, 3, 1, 1, 1, 7, 7, 1, 1},
        {3, 128, 96, 13, 13, 3, 2, 1, 1, 7, 7, 0, 1},
    };
    for (size_t i = 0; i < sizeof real / sizeof *real; i++)
        run_conv_case(&real[i]);
}

/* The tables: the portable one always, each other one when the CPU has its
 * ISA, widest first; cpu_kernels() takes the widest unless RESNET_ISA
 * names a narrower one the CPU has. */
static void dispatch_tests(void)
{
    const struct kernels *t[ISA_N];
    const int n = cpu_kernel_tables(t);
    CHECK(n >= 1 && t[n - 1] == kernels_for(ISA_C) && t[n - 1]->conv == conv_forward_c &&
              t[n - 1]->maxpool == ops_maxpool_c && t[n - 1]->wino == wino_forward_c,
          "%d kernel table(s) run here, the last the portable one listing the C kernels", n);
    for (int i = 0; i < n; i++)
        CHECK(cpu_supports(t[i]->isa) && kernels_for(t[i]->isa) == t[i] && (i == 0 ||
              t[i]->isa < t[i - 1]->isa) && t[i]->conv && t[i]->maxpool && t[i]->wino &&
              (t[i]->conv_strides & 6) == 6,
              "table %s: this CPU runs it, every entry set, strides 1 and 2 taken", t[i]->name);
    CHECK(kernels_for(ISA_N) == NULL && kernels_for((enum kernel_isa)-1) == NULL,
          "kernels_for refuses an unknown ISA");

    char *saved = getenv("RESNET_ISA") ? strdup(getenv("RESNET_ISA")) : NULL;
    unsetenv("RESNET_ISA");
    CHECK(cpu_kernels() == t[0], "no RESNET_ISA: the widest table, %s", t[0]->name);
    for (int i = 0; i < n; i++) {
        setenv("RESNET_ISA", t[i]->name, 1);
        CHECK(cpu_kernels() == t[i], "RESNET_ISA=%s picks that table", t[i]->name);
    }
    setenv("RESNET_ISA", "avx1024", 1);
    CHECK(cpu_kernels() == t[0], "RESNET_ISA=avx1024 (no such ISA): the widest, %s",
          t[0]->name);
    if (saved)
        setenv("RESNET_ISA", saved, 1);
    else
        unsetenv("RESNET_ISA");
    free(saved);
}

/* --- ops --- */

static void op_tests(void)
{
    const int n = 2, c = 24, h = 9, w = 7;
    size_t count = (size_t)n * c * h * w;
    float *x = frand_array(count, 1.0f), *z = frand_array(count, 1.0f);
    float *xb, *zb, *ob;
    struct blk tx = blk_new(c, h, w, 1, n, &xb), tz = blk_new(c, h, w, 0, n, &zb);
    ops_from_planar(x, &tx, n);
    ops_from_planar(z, &tz, n);

    /* layout: element (i, ch, y, x) where blk.h's comment puts it */
    int placed = 1;
    for (size_t e = 0; e < count; e++) {
        int xx = (int)(e % w), y = (int)(e / w % h), ch = (int)(e / w / h % c), i = (int)(e / w / h / c);
        size_t row = (size_t)(w + 2) * BLK, plane = (size_t)(h + 2) * row;
        size_t at = ((size_t)i * 2 + ch / BLK) * plane + (size_t)(y + 1) * row + (size_t)(xx + 1) * BLK + ch % BLK;
        placed &= xb[at] == x[e];
    }
    CHECK(placed && frame_is_zero(&tx, xb, n) && diff_planar(&tx, x, n) == 0,
          "ops_from_planar/ops_to_planar: [n][cb][h+2][w+2][16], halo and spare lanes zero");

    /* add (+ReLU), ReLU, affine (+ReLU) */
    float *want = malloc(count * sizeof *want);
    for (int relu = 0; relu < 2; relu++) {
        struct blk to = blk_new(c, h, w, 2, n, &ob);
        ops_add(&tx, &tz, &to, n, relu);
        for (size_t e = 0; e < count; e++)
            want[e] = relu && x[e] + z[e] < 0 ? 0.0f : x[e] + z[e];
        float d = diff_planar(&to, want, n);
        CHECK(d == 0 && frame_is_zero(&to, ob, n), "ops_add%s: max |diff| %.2e", relu ? " relu" : "", d);
        free(ob);
    }
    struct blk to = blk_new(c, h, w, 1, n, &ob);
    ops_relu(&tx, &to, n);
    for (size_t e = 0; e < count; e++)
        want[e] = x[e] > 0 ? x[e] : 0.0f;
    float d = diff_planar(&to, want, n);
    CHECK(d == 0 && frame_is_zero(&to, ob, n), "ops_relu: max |diff| %.2e", d);
    free(ob);

    float sc[32] = {0}, sh[32] = {0};
    for (int i = 0; i < c; i++)
        sc[i] = frand(), sh[i] = frand();
    for (int relu = 0; relu < 2; relu++) {
        to = blk_new(c, h, w, 0, n, &ob);
        ops_affine(&tz, &to, sc, sh, n, relu);
        for (size_t e = 0; e < count; e++) {
            int ch = (int)(e / w / h % c);
            float v = z[e] * sc[ch] + sh[ch];
            want[e] = relu && v < 0 ? 0.0f : v;
        }
        d = diff_planar(&to, want, n);
        CHECK(d <= 1e-6f && frame_is_zero(&to, ob, n), "ops_affine%s: max |diff| %.2e",
              relu ? " relu" : "", d);
        free(ob);
    }

    /* Pools: 3x3/2 behind a zero padding of 1 (Keras: padded zeros count,
     * and half the inputs are negative, so a -inf padding would differ), the
     * same window as the pool's own padding (torch / TF 'same': never wins,
     * left out of a mean), a mix of both, and the 1x1/2 subsampling pool. */
    static const struct pool_geo pg[] = {
        {3, 2, 1, 1, 1, 1, 1, 1}, {3, 2, 1, 1, 0, 0, 0, 0}, {3, 2, 2, 1, 1, 0, 0, 1},
        {2, 2, 0, 0, 0, 0, 0, 0}, {1, 2, 0, 0, 0, 0, 0, 0},
    };
    for (size_t gi = 0; gi < sizeof pg / sizeof *pg; gi++)
        for (int avg = 0; avg < 2; avg++) {
            const struct pool_geo *g = &pg[gi];
            int oh = (h + g->pad_t + g->zero_b - g->k) / g->stride + 1;
            int ow = (w + g->pad_l + g->zero_r - g->k) / g->stride + 1;
            float *pw = malloc((size_t)n * c * oh * ow * sizeof *pw);
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < c; ch++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++) {
                            float m = -INFINITY, sum = 0;
                            int cells = 0;
                            for (int ky = 0; ky < g->k; ky++)
                                for (int kx = 0; kx < g->k; kx++) {
                                    int iy = oy * g->stride + ky - g->pad_t;
                                    int ix = ox * g->stride + kx - g->pad_l;
                                    if (iy < -g->zero_t || iy >= h + g->zero_b ||
                                        ix < -g->zero_l || ix >= w + g->zero_r)
                                        continue;   /* the pool's own padding */
                                    float v = iy < 0 || iy >= h || ix < 0 || ix >= w
                                                  ? 0.0f : x[(((size_t)i * c + ch) * h + iy) * w + ix];
                                    m = v > m ? v : m;
                                    sum += v;
                                    cells++;
                                }
                            pw[(((size_t)i * c + ch) * oh + oy) * ow + ox] = avg ? sum / cells : m;
                        }
            /* the average pool has one version; the max pool one per table */
            const struct kernels *tables[ISA_N];
            const int n_tables = avg ? 1 : cpu_kernel_tables(tables);
            for (int t = 0; t < n_tables; t++) {
                to = blk_new(c, oh, ow, 1, n, &ob);
                (avg ? ops_avgpool : tables[t]->maxpool)(&tx, &to, n, g);
                d = diff_planar(&to, pw, n);
                CHECK(d <= 1e-6f && frame_is_zero(&to, ob, n),
                      "ops_%s%s%s %dx%d/%d, start -%d,-%d, zero padding t%d b%d l%d r%d: "
                      "max |diff| %.2e", avg ? "avgpool" : "maxpool", avg ? "" : " ",
                      avg ? "" : tables[t]->name, g->k, g->k, g->stride,
                      g->pad_t, g->pad_l, g->zero_t, g->zero_b, g->zero_l, g->zero_r, d);
                free(ob);
            }
            free(pw);
        }

    /* Flatten: Keras's NHWC order, feature (y * w + x) * c + channel */
    float *fl = malloc(count * sizeof *fl);
    for (size_t e = 0; e < count; e++) {
        int xx = (int)(e % w), y = (int)(e / w % h), ch = (int)(e / w / h % c), i = (int)(e / w / h / c);
        fl[(size_t)i * c * h * w + ((size_t)y * w + xx) * c + ch] = x[e];
    }
    to = blk_new(c * h * w, 1, 1, 0, n, &ob);
    ops_flatten(&tx, &to, n);
    d = diff_planar(&to, fl, n);
    CHECK(d == 0 && frame_is_zero(&to, ob, n), "ops_flatten %dx%dx%d: NHWC order, max |diff| %.2e",
          h, w, c, d);
    free(ob), free(fl);

    /* global average pool, then dense 24 -> 37 (+ReLU) */
    float *gap = malloc((size_t)n * c * sizeof *gap);
    for (int i = 0; i < n * c; i++) {
        double s = 0;
        for (int p = 0; p < h * w; p++)
            s += x[(size_t)i * h * w + p];
        gap[i] = (float)(s / (h * w));
    }
    float *gb;
    struct blk tg = blk_new(c, 1, 1, 0, n, &gb);
    ops_global_avgpool(&tx, &tg, n);
    d = diff_planar(&tg, gap, n);
    CHECK(d <= 1e-6f && frame_is_zero(&tg, gb, n), "ops_global_avgpool: max |diff| %.2e", d);

    const int oc = 37;
    float *dw = frand_array((size_t)oc * c, 0.3f), *db = frand_array(oc, 0.3f);
    float *dp = aligned_alloc(64, ops_dense_floats(oc, c) * sizeof(float));
    float dbp[48] = {0};
    memcpy(dbp, db, oc * sizeof *db);
    ops_dense_pack(dp, dw, oc, c);
    float *dense = malloc((size_t)n * oc * sizeof *dense);
    for (int relu = 0; relu < 2; relu++) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < oc; o++) {
                double s = db[o];
                for (int j = 0; j < c; j++)
                    s += (double)gap[i * c + j] * dw[o * c + j];
                dense[i * oc + o] = relu && s < 0 ? 0.0f : (float)s;
            }
        to = blk_new(oc, 1, 1, 0, n, &ob);
        ops_dense(&tg, &to, dp, dbp, n, relu);
        d = diff_planar(&to, dense, n);
        CHECK(d <= 1e-5f && frame_is_zero(&to, ob, n), "ops_dense 24->37%s: max |diff| %.2e",
              relu ? " relu" : "", d);
        free(ob);
    }
    free(x), free(z), free(xb), free(zb), free(want), free(gap), free(gb);
    free(dw), free(db), free(dp), free(dense);
}

int main(void)
{
    frand_seed(12345u);
    dispatch_tests();
    conv_tests();
    op_tests();
    return CHECK_DONE();
}
