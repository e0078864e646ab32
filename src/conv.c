/* conv.c -- direct convolution, portable C.
 *
 * This is the specification every faster kernel is tested against: plain
 * loops over NCHW tensors, one output plane at a time so the inner loop runs
 * along a contiguous row and the compiler can vectorise it. */
#include "conv.h"

#include <string.h>

/* Output columns [lo, hi) whose input column ox*stride + kx - pad_l lies
 * inside the image, so the inner loop needs no bounds test. */
static void valid_range(int out_w, int in_w, int stride, int kx, int pad_l,
                        int *lo, int *hi)
{
    int off = kx - pad_l;
    int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int b = in_w - off <= 0 ? 0 : (in_w - off - 1) / stride + 1;
    *lo = a;
    *hi = b < out_w ? b : out_w;
}

static void conv_plane(const struct conv_args *a, int img, int oc)
{
    const int k = a->k, s = a->stride;
    const size_t in_plane = (size_t)a->in_h * a->in_w;
    const size_t out_plane = (size_t)a->out_h * a->out_w;
    const float *in = a->in + (size_t)img * a->in_c * in_plane;
    float *out = a->out + ((size_t)img * a->out_c + oc) * out_plane;
    const float *w = a->w + (size_t)oc * a->in_c * k * k;

    for (size_t i = 0; i < out_plane; i++)
        out[i] = a->b[oc];
    for (int ic = 0; ic < a->in_c; ic++) {
        const float *src = in + ic * in_plane;
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                const float wv = w[(ic * k + ky) * k + kx];
                int lo, hi;
                valid_range(a->out_w, a->in_w, s, kx, a->pad_l, &lo, &hi);
                for (int oy = 0; oy < a->out_h; oy++) {
                    int iy = oy * s + ky - a->pad_t;
                    if (iy < 0 || iy >= a->in_h)
                        continue;
                    const float *row = src + (size_t)iy * a->in_w + kx - a->pad_l;
                    float *o = out + (size_t)oy * a->out_w;
                    if (s == 1)
                        for (int ox = lo; ox < hi; ox++)
                            o[ox] += wv * row[ox];
                    else
                        for (int ox = lo; ox < hi; ox++)
                            o[ox] += wv * row[ox * s];
                }
            }
        }
    }
    if (a->res) {
        const float *r = a->res + ((size_t)img * a->out_c + oc) * out_plane;
        for (size_t i = 0; i < out_plane; i++)
            out[i] += r[i];
    }
    if (a->relu)
        for (size_t i = 0; i < out_plane; i++)
            out[i] = out[i] > 0 ? out[i] : 0;
}

void conv_forward(const struct conv_args *a)
{
    /* Output planes are independent: split them over the threads, so even
     * the 7x7 late layers of batch 1 keep every core busy. */
#pragma omp parallel for collapse(2) schedule(static)
    for (int img = 0; img < a->n; img++)
        for (int oc = 0; oc < a->out_c; oc++)
            conv_plane(a, img, oc);
}
