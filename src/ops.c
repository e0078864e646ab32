/* ops.c -- pooling, classifier and element-wise layers (see ops.h).
 *
 * Each op is one parallel loop over (image, channel block, output row); a
 * row is w x 16 contiguous floats, so the inner loops vectorise whatever
 * the ISA.  These ops move little data next to the convolutions; only the
 * max pool after the stem, the largest of them, has SIMD versions. */
#include "ops.h"

#include <float.h>
#include <math.h>

void ops_from_planar(const float *in, const struct blk *out, int n)
{
    const int c = out->c, h = out->h, w = out->w, cb_n = blk_cb(out);
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int y = 0; y < h; y++) {
                /* the block's channels of row y, one plane each; spare lanes 0 */
                const float *src[BLK];
                const int lanes = c - cb * BLK < BLK ? c - cb * BLK : BLK;
                for (int l = 0; l < lanes; l++)
                    src[l] = in + (((size_t)i * c + cb * BLK + l) * h + y) * w;
                float *o = blk_at(out, i, cb, y, 0);
                for (int x = 0; x < w; x++, o += BLK) {
                    int l = 0;
                    for (; l < lanes; l++)
                        o[l] = src[l][x];
                    for (; l < BLK; l++)
                        o[l] = 0.0f;
                }
                blk_zero_halo(out, i, cb, cb + 1, y, y + 1);
            }
}

void ops_to_planar(const struct blk *in, float *out, int n)
{
    const int c = in->c, h = in->h, w = in->w;
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    out[(((size_t)i * c + ch) * h + y) * w + x] =
                        blk_at(in, i, ch / BLK, y, x)[ch % BLK];
}

/* The window taps [lo, hi) along one axis that fall on the input or its
 * zero padding, for a window starting at input position `start`. */
static void taps(int start, int k, int size, int zero_lo, int zero_hi, int *lo, int *hi)
{
    *lo = -zero_lo - start > 0 ? -zero_lo - start : 0;
    *hi = size + zero_hi - start < k ? size + zero_hi - start : k;
}

/* Row oy of block cb of image i: max (avg 0) or mean (avg 1) pooling, see
 * struct pool_geo.  Inlined with a constant `avg` into each pool's own
 * parallel loop, so that the lane loops are branch-free and vectorise. */
static inline __attribute__((always_inline)) void pool_row(const struct blk *in,
                                                           const struct blk *out, int i, int cb,
                                                           int oy, const struct pool_geo *g,
                                                           const int avg)
{
    const int y0 = oy * g->stride - g->pad_t;
    int ky0, ky1;
    taps(y0, g->k, in->h, g->zero_t, g->zero_b, &ky0, &ky1);
    float *o = blk_at(out, i, cb, oy, 0);
    for (int ox = 0; ox < out->w; ox++, o += BLK) {
        const int x0 = ox * g->stride - g->pad_l;
        int kx0, kx1;
        taps(x0, g->k, in->w, g->zero_l, g->zero_r, &kx0, &kx1);
        float m[BLK];
        for (int l = 0; l < BLK; l++)
            m[l] = avg ? 0.0f : -FLT_MAX;
        for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++) {
                const float *x = blk_at(in, i, cb, y0 + ky, x0 + kx);
                for (int l = 0; l < BLK; l++)
                    m[l] = avg ? m[l] + x[l] : x[l] > m[l] ? x[l] : m[l];
            }
        const int cells = (ky1 - ky0) * (kx1 - kx0);
        const float scale = avg && cells > 0 ? 1.0f / (float)cells : 1.0f;
        for (int l = 0; l < BLK; l++)
            o[l] = cells > 0 ? m[l] * scale : 0.0f;
    }
    blk_zero_halo(out, i, cb, cb + 1, oy, oy + 1);
}

void ops_maxpool_c(const struct blk *in, const struct blk *out, int n, const struct pool_geo *g)
{
    const int cb_n = blk_cb(out);
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int oy = 0; oy < out->h; oy++)
                pool_row(in, out, i, cb, oy, g, 0);
}

void ops_avgpool(const struct blk *in, const struct blk *out, int n, const struct pool_geo *g)
{
    const int cb_n = blk_cb(out);
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int oy = 0; oy < out->h; oy++)
                pool_row(in, out, i, cb, oy, g, 1);
}

void ops_flatten(const struct blk *in, const struct blk *out, int n)
{
    const int c = in->c;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        for (int y = 0; y < in->h; y++)
            for (int x = 0; x < in->w; x++)
                for (int ch = 0; ch < c; ch++) {
                    int f = (y * in->w + x) * c + ch;
                    blk_at(out, i, f / BLK, 0, 0)[f % BLK] = blk_at(in, i, ch / BLK, y, x)[ch % BLK];
                }
        for (int f = out->c; f % BLK; f++)
            blk_at(out, i, f / BLK, 0, 0)[f % BLK] = 0.0f;
        blk_zero_halo(out, i, 0, blk_cb(out), 0, 1);
    }
}

void ops_global_avgpool(const struct blk *in, const struct blk *out, int n)
{
    const int cb_n = blk_cb(in);
    const double inv = 1.0 / ((double)in->h * in->w);
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++) {
            double s[BLK] = {0};
            for (int y = 0; y < in->h; y++) {
                const float *x = blk_at(in, i, cb, y, 0);
                for (int p = 0; p < in->w; p++, x += BLK)
#pragma GCC unroll 16
                    for (int l = 0; l < BLK; l++)
                        s[l] += x[l];
            }
            float *o = blk_at(out, i, cb, 0, 0);
            for (int l = 0; l < BLK; l++)
                o[l] = (float)(s[l] * inv);
            blk_zero_halo(out, i, cb, cb + 1, 0, 1);
        }
}

/* Output channels per work item: 4 blocks.  The packed weights are
 * [out_c / 64][in_c][64], so an item streams one contiguous in_c x 64 slab
 * and every image of the batch reuses it from cache; out_c is padded to a
 * whole number of slabs, so the inner loop has no tail. */
#define DENSE_COLS (4 * BLK)

static int dense_stride(int out_c)
{
    return (out_c + DENSE_COLS - 1) / DENSE_COLS * DENSE_COLS;
}

size_t ops_dense_floats(int out_c, int in_c)
{
    return (size_t)in_c * dense_stride(out_c);
}

void ops_dense_pack(float *dst, const float *w, int out_c, int in_c)
{
    for (int g = 0; g < dense_stride(out_c) / DENSE_COLS; g++)
        for (int j = 0; j < in_c; j++)
            for (int c = 0; c < DENSE_COLS; c++) {
                int o = g * DENSE_COLS + c;
                *dst++ = o < out_c ? w[(size_t)o * in_c + j] : 0.0f;
            }
}

void ops_dense(const struct blk *in, const struct blk *out, const float *w, const float *b,
               int n, int relu)
{
    const int in_c = in->c, ocp = dense_stride(out->c), groups = ocp / DENSE_COLS;
    const int out_lanes = blk_cb(out) * BLK;
#pragma omp parallel for schedule(static)
    for (int g = 0; g < groups; g++) {
        const int o0 = g * DENSE_COLS;
        const int cols = out_lanes - o0 < DENSE_COLS ? out_lanes - o0 : DENSE_COLS;
        for (int i = 0; i < n; i++) {
            float acc[DENSE_COLS];
            for (int o = 0; o < DENSE_COLS; o++)
                acc[o] = b && o < cols ? b[o0 + o] : 0.0f;
            for (int cb = 0; cb * BLK < in_c; cb++) {
                const float *x = blk_at(in, i, cb, 0, 0);
                const int lanes = in_c - cb * BLK < BLK ? in_c - cb * BLK : BLK;
                for (int l = 0; l < lanes; l++) {
                    const float *row = w + ((size_t)g * in_c + cb * BLK + l) * DENSE_COLS;
                    const float xv = x[l];
#pragma GCC unroll 64
                    for (int o = 0; o < DENSE_COLS; o++)
                        acc[o] += xv * row[o];
                }
            }
            for (int o = 0; o < cols; o++) {
                float *y = blk_at(out, i, (o0 + o) / BLK, 0, 0) + (o0 + o) % BLK;
                *y = relu && acc[o] < 0 ? 0.0f : acc[o];
            }
        }
    }
    for (int i = 0; i < n; i++)
        blk_zero_halo(out, i, 0, blk_cb(out), 0, 1);
}

void ops_softmax(float *x, int n, int classes)
{
    for (int i = 0; i < n; i++) {
        float *row = x + (size_t)i * classes;
        float m = row[0];
        for (int j = 1; j < classes; j++)
            m = row[j] > m ? row[j] : m;
        double sum = 0;
        for (int j = 0; j < classes; j++)
            sum += exp((double)row[j] - m);
        for (int j = 0; j < classes; j++)
            row[j] = (float)(exp((double)row[j] - m) / sum);
    }
}

void ops_affine(const struct blk *in, const struct blk *out, const float *scale,
                const float *shift, int n, int relu)
{
    const int cb_n = blk_cb(out);
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int y = 0; y < out->h; y++) {
                const float *x = blk_at(in, i, cb, y, 0), *sc = scale + cb * BLK,
                            *sh = shift + cb * BLK;
                float *o = blk_at(out, i, cb, y, 0);
                for (int p = 0; p < out->w * BLK; p++) {
                    float v = x[p] * sc[p % BLK] + sh[p % BLK];
                    o[p] = relu && v < 0 ? 0.0f : v;
                }
                blk_zero_halo(out, i, cb, cb + 1, y, y + 1);
            }
}

void ops_add(const struct blk *a, const struct blk *b, const struct blk *out, int n, int relu)
{
    const int cb_n = blk_cb(out);
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int y = 0; y < out->h; y++) {
                const float *x = blk_at(a, i, cb, y, 0), *z = blk_at(b, i, cb, y, 0);
                float *o = blk_at(out, i, cb, y, 0);
                for (int p = 0; p < out->w * BLK; p++) {
                    float v = x[p] + z[p];
                    o[p] = relu && v < 0 ? 0.0f : v;
                }
                blk_zero_halo(out, i, cb, cb + 1, y, y + 1);
            }
}

void ops_relu(const struct blk *in, const struct blk *out, int n)
{
    const int cb_n = blk_cb(out);
#pragma omp parallel for collapse(3) schedule(static)
    for (int i = 0; i < n; i++)
        for (int cb = 0; cb < cb_n; cb++)
            for (int y = 0; y < out->h; y++) {
                const float *x = blk_at(in, i, cb, y, 0);
                float *o = blk_at(out, i, cb, y, 0);
                for (int p = 0; p < out->w * BLK; p++)
                    o[p] = x[p] > 0 ? x[p] : 0.0f;
                blk_zero_halo(out, i, cb, cb + 1, y, y + 1);
            }
}
