/* preprocess.c -- 8-bit RGB pixels -> the network's input tensor.
 *
 * The tensor step mirrors torchvision's float pipeline (ToTensor,
 * Resize(antialias=True), CenterCrop, Normalize) to within float rounding,
 * or Keras's load_img(target_size=...) and its "caffe" and "tf" modes. */
#include "preprocess.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int img_min_short(const struct preprocess *p, int out_h, int out_w)
{
    if (p->fit == PRE_FIT_STRETCH)
        return out_h > out_w ? out_h : out_w;
    return p->resize > 0 ? p->resize : 0;
}

/* The filter of one resize axis, for the run of outputs o0 .. o0+n-1:
 * output o0+i = sum over k < count[i] of w[i][k] * input[first[i] + k]. */
struct taps {
    int o0, n;
    int n_max;      /* stride of w */
    int *first;     /* [n] */
    int *count;     /* [n] */
    float *w;       /* [n][n_max] */
};

static void taps_free(struct taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

/* The bilinear kernel; widened by the shrink factor, it is an area filter. */
static float triangle(float x)
{
    x = fabsf(x);
    return x < 1.0f ? 1.0f - x : 0.0f;
}

/* Weights when `in` samples become `out`, as PyTorch's
 * _upsample_bilinear2d_aa (and PIL's ImagingResample) computes them: a
 * triangle centred on the output sample's centre mapped back to the input,
 * stretched by the shrink factor so that shrinking averages every input
 * pixel it covers instead of aliasing, normalised to sum 1.  When the sizes
 * are equal torch skips the axis; one tap of weight 1 is the same.
 *
 * The arithmetic copies torch's for float tensors step by step (float
 * values, with the `+ 0.5` terms in double), not exact maths: at a thousand
 * pixels the float rounding of the centre alone moves weights by 1e-4. */
static int taps_make(struct taps *t, int in, int out, int o0, int n)
{
    float scale = (float)in / (float)out;
    float support = scale >= 1.0f ? scale : 1.0f;   /* triangle half-width, input pixels */
    float inv = scale >= 1.0f ? (float)(1.0 / scale) : 1.0f;
    t->o0 = o0;
    t->n = n;
    t->n_max = in == out ? 1 : (int)ceilf(support) * 2 + 1;
    t->first = malloc((size_t)n * sizeof *t->first);
    t->count = malloc((size_t)n * sizeof *t->count);
    t->w = (size_t)t->n_max <= SIZE_MAX / sizeof *t->w / (size_t)n
               ? malloc((size_t)n * t->n_max * sizeof *t->w) : NULL;
    if (!t->first || !t->count || !t->w)
        return -1;
    for (int i = 0; i < n; i++) {
        int o = o0 + i;
        float *w = t->w + (size_t)i * t->n_max;
        if (in == out) {
            t->first[i] = o;
            t->count[i] = 1;
            w[0] = 1.0f;
            continue;
        }
        float center = (float)(scale * (o + 0.5));
        /* torch truncates toward zero here, then clamps. */
        long lo = (long)((center - support) + 0.5);
        long hi = (long)((center + support) + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        if (hi - lo > t->n_max)
            hi = lo + t->n_max;
        if (hi <= lo) {   /* unreachable in exact arithmetic; keep one tap */
            lo = lo < in ? lo : in - 1;
            hi = lo + 1;
        }
        float total = 0.0f;
        for (long j = lo; j < hi; j++) {
            w[j - lo] = triangle((float)((((float)j - center) + 0.5) * inv));
            total += w[j - lo];
        }
        if (total != 0.0f)
            for (long j = lo; j < hi; j++)
                w[j - lo] /= total;
        t->first[i] = (int)lo;
        t->count[i] = (int)(hi - lo);
    }
    return 0;
}

/* torchvision's _compute_resized_output_size: the shorter side becomes
 * `resize`, the longer int(resize * long / short) (truncated), and an image
 * whose shorter side already matches is left alone. */
static int resized_size(int w, int h, int resize, int *rw, int *rh, struct err *e)
{
    int shorter = w <= h ? w : h, longer = w <= h ? h : w;
    if (shorter == resize) {
        *rw = w;
        *rh = h;
        return 0;
    }
    long long scaled = (long long)resize * longer / shorter;
    if (scaled > INT_MAX)
        return err_set(e, "preprocess: resizing a %dx%d image to %d on its shorter side "
                       "makes the other side %lld pixels", w, h, resize, scaled);
    *rw = w <= h ? resize : (int)scaled;
    *rh = w <= h ? (int)scaled : resize;
    return 0;
}

/* Where crop sample 0 falls on a resized axis of `size`.  A crop larger than
 * the image is zero-padded first, (crop - size) // 2 before it (a negative
 * offset); otherwise torchvision takes int(round((size - crop) / 2.0)), and
 * Python rounds halves to even: 3.5 -> 4 but 2.5 -> 2. */
static int crop_offset(int size, int crop)
{
    if (crop > size)
        return -((crop - size) / 2);
    int d = size - crop, q = d / 2;
    if ((d & 1) && (q & 1))
        q++;
    return q;
}

/* Keras's "caffe" means, subtracted from 0..255 values in BGR order. */
static const float caffe_mean[3] = {103.939f, 116.779f, 123.68f};

/* The output plane of RGB channel c: "caffe" networks read BGR. */
static int out_channel(const struct preprocess *p, int c)
{
    return p->mode == PRE_CAFFE ? 2 - c : c;
}

/* Channel c of a filtered pixel on ToTensor's 0..1 scale, normalised as
 * the mode says: torchvision's (x - mean) / std, or Keras's caffe or tf
 * modes, which work on the 0..255 scale. */
static float normalise(const struct preprocess *p, int c, float v)
{
    switch (p->mode) {
    case PRE_CAFFE: return v * 255.0f - caffe_mean[2 - c];
    case PRE_TF: return v * 2.0f - 1.0f;
    default: return (v - p->mean[c]) / p->std[c];
    }
}

void img_value_range(const struct preprocess *p, float *lo, float *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (int c = 0; c < 3; c++)
        for (int v = 0; v <= 1; v++) {
            const float x = normalise(p, c, (float)v);
            *lo = x < *lo ? x : *lo;
            *hi = x > *hi ? x : *hi;
        }
}

/* The same for an unfiltered byte, with Keras's float32 arithmetic
 * (x - mean, x / 127.5 - 1) or ToTensor's x / 255. */
static float normalise_byte(const struct preprocess *p, int c, unsigned char v)
{
    switch (p->mode) {
    case PRE_CAFFE: return (float)v - caffe_mean[2 - c];
    case PRE_TF: return (float)v / 127.5f - 1.0f;
    default: return ((float)v / 255.0f - p->mean[c]) / p->std[c];
    }
}

/* Keras's load_img(target_size=(out_h, out_w)): Pillow's NEAREST resize
 * straight to the target, no crop.  Pillow walks each axis from
 * (0.5 * in / out) in steps of in / out, summing in double, and takes the
 * integer part; the running sum (not (o + 0.5) * in / out) is what picks
 * the same pixel as Pillow where the product lands on an integer. */
static void stretch(const struct image *im, const struct preprocess *p, int out_h, int out_w,
                    int *xs, float *dst)
{
    double step = (double)im->w / out_w, at = step * 0.5;
    for (int x = 0; x < out_w; x++, at += step)
        xs[x] = (int)at < im->w ? (int)at : im->w - 1;
    size_t plane = (size_t)out_h * out_w;
    step = (double)im->h / out_h, at = step * 0.5;
    for (int y = 0; y < out_h; y++, at += step) {
        int sy = (int)at < im->h ? (int)at : im->h - 1;
        const unsigned char *row = im->rgb + (size_t)sy * im->w * 3;
        for (int c = 0; c < 3; c++) {
            float *out = dst + out_channel(p, c) * plane + (size_t)y * out_w;
            for (int x = 0; x < out_w; x++)
                out[x] = normalise_byte(p, c, row[(size_t)xs[x] * 3 + c]);
        }
    }
}

/* Filter the kept part of the image and normalise it into dst
 * [3][out_h][out_w]; (off_x, off_y) is crop sample 0 in resized pixels.
 * tmp: [rows ht reads ... ][ht.n][3], acc: [ht.n][3]. */
static void resample(const struct image *im, const struct preprocess *p,
                     const struct taps *ht, const struct taps *vt, int row_lo, int row_hi,
                     int off_x, int off_y, int out_h, int out_w,
                     float *tmp, float *acc, float *dst)
{
    size_t row_len = (size_t)ht->n * 3;

    /* ToTensor's x / 255 in float, as a table: filtering the bytes through
     * it is the same arithmetic as filtering a float copy of the image. */
    float unit[256];
    for (int v = 0; v < 256; v++)
        unit[v] = (float)v / 255.0f;

    /* Horizontal pass first, as torch does it, in float. */
    for (int y = row_lo; y < row_hi; y++) {
        const unsigned char *src = im->rgb + (size_t)y * im->w * 3;
        float *row = tmp + (size_t)(y - row_lo) * row_len;
        for (int i = 0; i < ht->n; i++) {
            const unsigned char *s = src + (size_t)ht->first[i] * 3;
            const float *w = ht->w + (size_t)i * ht->n_max;
            float r = 0.0f, g = 0.0f, b = 0.0f;
            for (int k = 0; k < ht->count[i]; k++, s += 3) {
                r += w[k] * unit[s[0]];
                g += w[k] * unit[s[1]];
                b += w[k] * unit[s[2]];
            }
            row[3 * i + 0] = r;
            row[3 * i + 1] = g;
            row[3 * i + 2] = b;
        }
    }

    size_t plane = (size_t)out_h * out_w;
    if (ht->n < out_w || vt->n < out_h)   /* torchvision pads with 0 before Normalize */
        for (int c = 0; c < 3; c++) {
            float pad = normalise(p, c, 0.0f);
            for (size_t q = 0; q < plane; q++)
                dst[out_channel(p, c) * plane + q] = pad;
        }

    /* Vertical pass, then Normalize's (x - mean) / std into the planar output. */
    for (int j = 0; j < vt->n; j++) {
        const float *w = vt->w + (size_t)j * vt->n_max;
        memset(acc, 0, row_len * sizeof *acc);
        for (int k = 0; k < vt->count[j]; k++) {
            const float *row = tmp + (size_t)(vt->first[j] + k - row_lo) * row_len;
            for (size_t q = 0; q < row_len; q++)
                acc[q] += w[k] * row[q];
        }
        size_t oy = (size_t)(vt->o0 + j - off_y), ox = (size_t)(ht->o0 - off_x);
        for (int c = 0; c < 3; c++) {
            float *out = dst + out_channel(p, c) * plane + oy * out_w + ox;
            for (int i = 0; i < ht->n; i++)
                out[i] = normalise(p, c, acc[3 * i + c]);
        }
    }
}

int img_to_tensor(const struct image *im, const struct preprocess *p,
                  int out_h, int out_w, float *dst, struct err *e)
{
    if (!im || !im->rgb || im->w <= 0 || im->h <= 0)
        return err_set(e, "preprocess: no image");
    if (!p || !dst)
        return err_set(e, "preprocess: no settings or no output buffer");
    if (out_h <= 0 || out_w <= 0)
        return err_set(e, "preprocess: crop size %dx%d must be positive", out_w, out_h);
    if (p->resize < 0)
        return err_set(e, "preprocess: resize %d must be 0 (none) or positive", p->resize);
    for (int c = 0; p->mode == PRE_TORCH && c < 3; c++)
        if (!(p->std[c] != 0.0f))
            return err_set(e, "preprocess: std[%d] is %g; it divides, so it cannot be 0",
                           c, p->std[c]);
    if (p->fit == PRE_FIT_STRETCH) {
        int *xs = malloc((size_t)out_w * sizeof *xs);   /* [out_w] source column of each */
        if (!xs)
            return err_set(e, "preprocess: out of memory");
        stretch(im, p, out_h, out_w, xs, dst);
        free(xs);
        return 0;
    }

    int rw = im->w, rh = im->h;   /* size after resizing */
    if (p->resize > 0 && resized_size(im->w, im->h, p->resize, &rw, &rh, e) < 0)
        return -1;
    int off_x = crop_offset(rw, out_w), off_y = crop_offset(rh, out_h);

    /* Only the resized pixels inside the crop are computed: columns
     * [x0, x0+nx) and rows [y0, y0+ny) of the resized image. */
    int x0 = off_x > 0 ? off_x : 0, y0 = off_y > 0 ? off_y : 0;
    int nx = (off_x + out_w < rw ? off_x + out_w : rw) - x0;
    int ny = (off_y + out_h < rh ? off_y + out_h : rh) - y0;

    struct taps ht = {0}, vt = {0};
    float *tmp = NULL;   /* [row_hi - row_lo][nx][3]: input rows filtered horizontally */
    float *acc = NULL;   /* [nx][3]: one output row before normalising */
    int ok = taps_make(&ht, im->w, rw, x0, nx) == 0 && taps_make(&vt, im->h, rh, y0, ny) == 0;
    int row_lo = 0, row_hi = 0;   /* the input rows the kept output rows read */
    if (ok) {
        row_lo = vt.first[0];
        row_hi = vt.first[ny - 1] + vt.count[ny - 1];
        size_t row_len = (size_t)nx * 3;
        if ((size_t)(row_hi - row_lo) <= SIZE_MAX / sizeof *tmp / row_len)
            tmp = malloc((size_t)(row_hi - row_lo) * row_len * sizeof *tmp);
        acc = malloc(row_len * sizeof *acc);
        ok = tmp && acc;
    }
    if (ok)
        resample(im, p, &ht, &vt, row_lo, row_hi, off_x, off_y, out_h, out_w, tmp, acc, dst);
    taps_free(&ht);
    taps_free(&vt);
    free(tmp);
    free(acc);
    if (!ok)
        return err_set(e, "preprocess: out of memory resizing a %dx%d image to %dx%d",
                       im->w, im->h, rw, rh);
    return 0;
}

int img_file_to_tensor(const char *path, const struct preprocess *p, int out_h, int out_w,
                       float *dst, struct err *e)
{
    struct image im;
    if (img_load_for(path, img_min_short(p, out_h, out_w), &im, e))
        return -1;
    int rc = img_to_tensor(&im, p, out_h, out_w, dst, e);
    img_free(&im);
    return rc;
}
