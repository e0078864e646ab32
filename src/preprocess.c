/* preprocess.c -- 8-bit RGB pixels -> the network's input tensor.
 *
 * torchvision's and timm's published accuracies are measured on a PIL
 * image: Resize is Pillow's resampling, in fixed point, rounding to 8 bits
 * after each pass; CenterCrop, ToTensor and Normalize come after.  This file
 * does that arithmetic (read from Pillow's Resample.c and Geometry.c, not
 * copied), so the tensor equals torchvision's bit for bit; Keras's
 * load_img(target_size=...) is the same resize straight to the input size. */
#include "preprocess.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

struct img_draft img_draft_for(const struct preprocess *p, int out_h, int out_w)
{
    struct img_draft d = {0, 0, 0};
    if (p->full_decode)
        return d;
    if (p->fit == PRE_FIT_STRETCH)
        d.w = out_w, d.h = out_h;
    else
        d.shorter = p->resize > 0 ? p->resize : 0;
    return d;
}

/* Pillow's fixed point: 8 bits of result, 2 of headroom for the bicubic
 * filter's negative lobes and overshoot, 22 of fraction. */
#define PRECISION_BITS 22

/* The filter of one resize axis, for the run of outputs o0 .. o0+n-1:
 * output o0+i = round(sum over k < count[i] of w[i][k] * input[first[i] + k]),
 * w in units of 2^-PRECISION_BITS. */
struct taps {
    int o0, n;
    int n_max;      /* stride of w */
    int *first;     /* [n] */
    int *count;     /* [n] */
    int32_t *w;     /* [n][n_max] */
};

static void taps_free(struct taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Keys' cubic convolution with a = -0.5, Pillow's BICUBIC. */
static double cubic(double x)
{
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* Weights when `in` samples become `out`, as Pillow's precompute_coeffs
 * makes them: the filter centred on the output sample's centre mapped back
 * to the input, stretched by the shrink factor (so that shrinking averages
 * every input pixel it covers instead of aliasing), normalised to sum 1 in
 * double, then rounded half away from zero to fixed point. */
static int taps_make(struct taps *t, int in, int out, int o0, int n, enum pre_interp interp)
{
    double (*filter)(double) = interp == PRE_BICUBIC ? cubic : triangle;
    double support = interp == PRE_BICUBIC ? 2.0 : 1.0;
    double scale = (double)in / out;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double inv = 1.0 / filterscale;   /* Pillow multiplies by it; dividing rounds otherwise */
    support *= filterscale;   /* half-width, input pixels */
    t->o0 = o0;
    t->n = n;
    t->n_max = in == out ? 1 : (int)ceil(support) * 2 + 1;
    t->first = malloc((size_t)n * sizeof *t->first);
    t->count = malloc((size_t)n * sizeof *t->count);
    t->w = (size_t)t->n_max <= SIZE_MAX / sizeof *t->w / (size_t)n
               ? malloc((size_t)n * t->n_max * sizeof *t->w) : NULL;
    double *k = malloc((size_t)t->n_max * sizeof *k);
    if (!t->first || !t->count || !t->w || !k) {
        free(k);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int o = o0 + i;
        int32_t *w = t->w + (size_t)i * t->n_max;
        if (in == out) {   /* Pillow skips the axis; one tap of weight 1 is the same */
            t->first[i] = o;
            t->count[i] = 1;
            w[0] = 1 << PRECISION_BITS;
            continue;
        }
        double center = (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5);   /* truncated toward zero, as Pillow */
        int hi = (int)(center + support + 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = hi > in ? in : hi;
        double total = 0.0;
        for (int j = lo; j < hi; j++) {
            k[j - lo] = filter((j - center + 0.5) * inv);
            total += k[j - lo];
        }
        for (int j = lo; j < hi; j++) {
            double v = (total != 0.0 ? k[j - lo] / total : k[j - lo]) * (1 << PRECISION_BITS);
            w[j - lo] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
        }
        t->first[i] = lo;
        t->count[i] = hi - lo;
    }
    free(k);
    return 0;
}

/* Round a fixed-point sum (it holds the +0.5) to a byte, clamping what the
 * bicubic lobes push outside 0..255. */
static unsigned char clip8(int32_t ss)
{
    int32_t v = ss >> PRECISION_BITS;   /* arithmetic: floor for negative sums */
    return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Pillow's NEAREST resize of `in` samples to `out` (ImagingScaleAffine):
 * it walks from 0.5 * in / out in steps of in / out, summing in double, and
 * takes the integer part; the running sum (not (o + 0.5) * in / out) is what
 * picks the same pixel as Pillow where the product lands on an integer.
 * src[o] for o < n; -1 for a sample past the input (Pillow writes 0). */
static void nearest_make(int in, int out, int n, int *src)
{
    double step = (double)in / out, at = step * 0.5;
    for (int o = 0; o < n; o++, at += step)
        src[o] = (int)at < in ? (int)at : -1;
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

/* The resized image's columns [x0, x0+nx) and rows [y0, y0+ny) as bytes,
 * [ny][nx][3], by Pillow's NEAREST.  xs: [x0+nx], ys: [y0+ny] scratch. */
static void resize_nearest(const struct image *im, int rw, int rh, int x0, int nx, int y0, int ny,
                           int *xs, int *ys, unsigned char *out)
{
    nearest_make(im->w, rw, x0 + nx, xs);
    nearest_make(im->h, rh, y0 + ny, ys);
    for (int j = 0; j < ny; j++, out += (size_t)nx * 3) {
        if (ys[y0 + j] < 0) {
            memset(out, 0, (size_t)nx * 3);
            continue;
        }
        const unsigned char *row = im->rgb + (size_t)ys[y0 + j] * im->w * 3;
        for (int i = 0; i < nx; i++)
            for (int c = 0; c < 3; c++)
                out[3 * i + c] = xs[x0 + i] < 0 ? 0 : row[(size_t)xs[x0 + i] * 3 + c];
    }
}

/* The same by Pillow's two passes, horizontal first, each rounded to bytes.
 * Every output sample depends only on its own taps, so computing only the
 * kept part gives the full resize's bytes there.  tmp: [rows ht reads][nx][3];
 * acc: [nx][3]. */
static void resize_filtered(const struct image *im, const struct taps *ht, const struct taps *vt,
                            int row_lo, int row_hi, unsigned char *tmp, int32_t *acc,
                            unsigned char *out)
{
    size_t row_len = (size_t)ht->n * 3;
    for (int y = row_lo; y < row_hi; y++) {
        const unsigned char *src = im->rgb + (size_t)y * im->w * 3;
        unsigned char *row = tmp + (size_t)(y - row_lo) * row_len;
        for (int i = 0; i < ht->n; i++) {
            const unsigned char *s = src + (size_t)ht->first[i] * 3;
            const int32_t *w = ht->w + (size_t)i * ht->n_max;
            int32_t r = 1 << (PRECISION_BITS - 1), g = r, b = r;
            for (int k = 0; k < ht->count[i]; k++, s += 3) {
                r += s[0] * w[k];
                g += s[1] * w[k];
                b += s[2] * w[k];
            }
            row[3 * i + 0] = clip8(r);
            row[3 * i + 1] = clip8(g);
            row[3 * i + 2] = clip8(b);
        }
    }
    for (int j = 0; j < vt->n; j++, out += row_len) {
        const int32_t *w = vt->w + (size_t)j * vt->n_max;
        for (size_t q = 0; q < row_len; q++)
            acc[q] = 1 << (PRECISION_BITS - 1);
        for (int k = 0; k < vt->count[j]; k++) {
            const unsigned char *row = tmp + (size_t)(vt->first[j] + k - row_lo) * row_len;
            for (size_t q = 0; q < row_len; q++)
                acc[q] += row[q] * w[k];
        }
        for (size_t q = 0; q < row_len; q++)
            out[q] = clip8(acc[q]);
    }
}

/* The kept part [ny][nx][3] into the planar output, normalised; a crop
 * larger than the image is padded with 0 (torchvision's pad, before
 * ToTensor).  (off_x, off_y): crop sample 0 in resized pixels. */
static void write_tensor(const struct preprocess *p, const unsigned char *kept, int x0, int nx,
                         int y0, int ny, int off_x, int off_y, int out_h, int out_w, float *dst)
{
    float table[3][256];   /* normalise_byte of every value, per channel */
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            table[c][v] = normalise_byte(p, c, (unsigned char)v);
    size_t plane = (size_t)out_h * out_w;
    if (nx < out_w || ny < out_h)
        for (int c = 0; c < 3; c++)
            for (size_t q = 0; q < plane; q++)
                dst[out_channel(p, c) * plane + q] = table[c][0];
    for (int j = 0; j < ny; j++) {
        const unsigned char *row = kept + (size_t)j * nx * 3;
        size_t at = (size_t)(y0 + j - off_y) * out_w + (size_t)(x0 - off_x);
        for (int c = 0; c < 3; c++) {
            float *o = dst + out_channel(p, c) * plane + at;
            for (int i = 0; i < nx; i++)
                o[i] = table[c][row[3 * i + c]];
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

    /* The size after resizing, and where the crop starts in it. */
    int rw = im->w, rh = im->h, off_x = 0, off_y = 0;
    if (p->fit == PRE_FIT_STRETCH) {
        rw = out_w, rh = out_h;
    } else {
        if (p->resize > 0 && img_resized_size(im->w, im->h, p->resize, &rw, &rh, e) < 0)
            return err_prefix(e, "preprocess: ");
        off_x = crop_offset(rw, out_w), off_y = crop_offset(rh, out_h);
    }
    /* Only the resized pixels inside the crop are computed: columns
     * [x0, x0+nx) and rows [y0, y0+ny) of the resized image. */
    int x0 = off_x > 0 ? off_x : 0, y0 = off_y > 0 ? off_y : 0;
    int nx = (off_x + out_w < rw ? off_x + out_w : rw) - x0;
    int ny = (off_y + out_h < rh ? off_y + out_h : rh) - y0;
    size_t row_len = (size_t)nx * 3;

    unsigned char *kept = malloc((size_t)ny * row_len);   /* [ny][nx][3] */
    int ok = kept != NULL;
    if (ok && p->interp == PRE_NEAREST) {
        int *xs = malloc((size_t)(x0 + nx) * sizeof *xs);   /* [x0+nx] source column */
        int *ys = malloc((size_t)(y0 + ny) * sizeof *ys);   /* [y0+ny] source row */
        ok = xs && ys;
        if (ok)
            resize_nearest(im, rw, rh, x0, nx, y0, ny, xs, ys, kept);
        free(xs);
        free(ys);
    } else if (ok) {
        struct taps ht = {0}, vt = {0};
        unsigned char *tmp = NULL;   /* [row_hi - row_lo][nx][3]: rows filtered horizontally */
        int32_t *acc = NULL;         /* [nx][3]: one output row before rounding */
        ok = taps_make(&ht, im->w, rw, x0, nx, p->interp) == 0 &&
             taps_make(&vt, im->h, rh, y0, ny, p->interp) == 0;
        int row_lo = 0, row_hi = 0;   /* the input rows the kept output rows read */
        if (ok) {
            row_lo = vt.first[0];
            row_hi = vt.first[ny - 1] + vt.count[ny - 1];
            tmp = malloc((size_t)(row_hi - row_lo) * row_len);
            acc = malloc(row_len * sizeof *acc);
            ok = tmp && acc;
        }
        if (ok)
            resize_filtered(im, &ht, &vt, row_lo, row_hi, tmp, acc, kept);
        taps_free(&ht);
        taps_free(&vt);
        free(tmp);
        free(acc);
    }
    if (ok)
        write_tensor(p, kept, x0, nx, y0, ny, off_x, off_y, out_h, out_w, dst);
    free(kept);
    if (!ok)
        return err_set(e, "preprocess: out of memory resizing a %dx%d image to %dx%d",
                       im->w, im->h, rw, rh);
    return 0;
}

int img_file_to_tensor(const char *path, const struct preprocess *p, int out_h, int out_w,
                       float *dst, struct err *e)
{
    struct image im;
    struct img_draft d = img_draft_for(p, out_h, out_w);
    if (img_load_for(path, &d, &im, e))
        return -1;
    int rc = img_to_tensor(&im, p, out_h, out_w, dst, e);
    img_free(&im);
    return rc;
}
