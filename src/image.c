/* image.c -- JPEG/PNG decoding to 8-bit RGB, and torchvision's preprocessing.
 *
 * Decoded pixels are meant to equal what Pillow's Image.open().convert('RGB')
 * gives, because the networks were trained (and are checked) on images read
 * by Pillow; the tensor step mirrors torchvision's float pipeline (ToTensor,
 * Resize(antialias=True), CenterCrop, Normalize) to within float rounding. */
#include "image.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>   /* needs stdio.h first */
#include <jerror.h>
#include <png.h>

/* Larger images are refused before any pixel buffer is allocated: a 100 MP
 * photo already needs 300 MB decoded, and a forged header could claim 4 G. */
#define IMG_MAX_PIXELS 100000000LL

/* ---- shared helpers ------------------------------------------------------ */

static int check_size(const char *name, long long w, long long h, struct err *e)
{
    if (w <= 0 || h <= 0)
        return err_set(e, "%s: image has zero width or height (%lldx%lld)", name, w, h);
    if (w > IMG_MAX_PIXELS / h)
        return err_set(e, "%s: image is too large (%lldx%lld pixels; the limit is %lld million)",
                       name, w, h, IMG_MAX_PIXELS / 1000000);
    return 0;
}

/* [h][w][3] bytes; check_size() has bounded w*h, the checks keep it honest
 * where size_t is 32 bits. */
static unsigned char *alloc_rgb(int w, int h)
{
    if ((size_t)w > SIZE_MAX / 3 / (size_t)h)
        return NULL;
    return malloc((size_t)w * (size_t)h * 3);
}

static const unsigned char PNG_SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const unsigned char JPEG_SIG[3] = {0xff, 0xd8, 0xff};

/* Does `data` start with `sig`, or with as much of it as there is? */
static int has_prefix(const unsigned char *data, size_t size, const unsigned char *sig, size_t n)
{
    return memcmp(data, sig, size < n ? size : n) == 0;
}

/* Formats people feed a classifier by mistake, so the error can say what the
 * file is rather than only what it is not. */
static const char *other_format(const unsigned char *d, size_t n)
{
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
        return "GIF";
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
        return "WebP";
    if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4)))
        return "TIFF";
    if (n >= 12 && !memcmp(d + 4, "ftyp", 4)) {
        if (!memcmp(d + 8, "avif", 4) || !memcmp(d + 8, "avis", 4))
            return "AVIF";
        if (!memcmp(d + 8, "heic", 4) || !memcmp(d + 8, "heix", 4) || !memcmp(d + 8, "mif1", 4))
            return "HEIF";
    }
    /* "BM" alone would catch text files: also ask for the zero reserved
     * field and a known size of the header that follows. */
    if (n >= 18 && d[0] == 'B' && d[1] == 'M' && !memcmp(d + 6, "\0\0\0\0", 4) && !d[16] && !d[17] &&
        (d[14] == 12 || d[14] == 40 || d[14] == 52 || d[14] == 56 || d[14] == 108 || d[14] == 124) &&
        !d[15])
        return "BMP";
    return NULL;
}

/* ---- JPEG ---------------------------------------------------------------- */

struct jpeg_fail {
    struct jpeg_error_mgr mgr;   /* first: libjpeg hands us &mgr as cinfo->err */
    jmp_buf jump;
    int truncated;
    char msg[JMSG_LENGTH_MAX];
};

/* libjpeg's default error_exit calls exit(); come back to decode_jpeg instead. */
static void jpeg_error_exit(j_common_ptr cinfo)
{
    struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
    f->mgr.format_message(cinfo, f->msg);
    longjmp(f->jump, 1);
}

/* Warnings are recoverable oddities (stray bytes between markers) and stay
 * silent, except a premature end of data: libjpeg would fill the rest of the
 * picture with grey and we would classify half an image. */
static void jpeg_emit_message(j_common_ptr cinfo, int level)
{
    struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
    if (level >= 0)
        return;   /* trace messages */
    if (f->mgr.msg_code == JWRN_JPEG_EOF) {
        f->truncated = 1;
        longjmp(f->jump, 1);
    }
    f->mgr.num_warnings++;
}

static void jpeg_output_message(j_common_ptr cinfo)
{
    (void)cinfo;   /* library code never prints */
}

/* Adobe CMYK JPEGs store inverted ink; Pillow reads every CMYK JPEG that way
 * ("CMYK;I") and converts with R = (255-K) - C*(255-K)/255, the product
 * rounded by its MULDIV255 trick.  In the stored values s = 255 - ink that is
 * R = sK - (255-sC)*sK/255, and likewise for G and B. */
static unsigned char cmyk_to_channel(unsigned char stored_c, unsigned char stored_k)
{
    int t = (255 - stored_c) * stored_k + 128;
    return (unsigned char)(stored_k - (((t >> 8) + t) >> 8));
}

static int decode_jpeg(const unsigned char *data, size_t size, const char *name,
                       struct image *im, struct err *e)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_fail fail;
    /* Changed after setjmp and used after longjmp, hence volatile. */
    unsigned char *volatile rgb = NULL;   /* [h][w][3] */
    unsigned char *volatile cmyk = NULL;  /* [w][4], one scanline */

    if (size > ULONG_MAX)
        return err_set(e, "%s: file too large for libjpeg", name);
    cinfo.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_error_exit;
    fail.mgr.emit_message = jpeg_emit_message;
    fail.mgr.output_message = jpeg_output_message;
    fail.truncated = 0;
    if (setjmp(fail.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(cmyk);
        if (fail.truncated)
            return err_set(e, "%s: truncated JPEG data", name);
        return err_set(e, "%s: JPEG error: %s", name, fail.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (check_size(name, cinfo.image_width, cinfo.image_height, e) < 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    /* Grey, YCbCr and RGB JPEGs all come out as RGB from libjpeg; CMYK and
     * YCCK come out as (inverted) CMYK, converted below as Pillow does. */
    int is_cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);

    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    rgb = alloc_rgb(w, h);
    if (is_cmyk && rgb)
        cmyk = malloc((size_t)w * 4);
    if (!rgb || (is_cmyk && !cmyk)) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        return err_set(e, "%s: out of memory for a %dx%d image", name, w, h);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *out = rgb + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW row = is_cmyk ? cmyk : out;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (is_cmyk) {
            const unsigned char *s = cmyk;
            for (int x = 0; x < w; x++, s += 4, out += 3) {
                out[0] = cmyk_to_channel(s[0], s[3]);
                out[1] = cmyk_to_channel(s[1], s[3]);
                out[2] = cmyk_to_channel(s[2], s[3]);
            }
        }
    }
    /* Reads up to EOI, so a file cut after the last scan is caught too. */
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmyk);
    im->w = w;
    im->h = h;
    im->rgb = rgb;
    return 0;
}

/* ---- PNG ----------------------------------------------------------------- */

struct png_src {
    const unsigned char *data;
    size_t size, pos;
    int truncated;
    char msg[256];
};

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
    struct png_src *s = png_get_io_ptr(png);
    if (n > s->size - s->pos) {
        s->truncated = 1;
        png_error(png, "truncated PNG data");
    }
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

/* libpng's default would print and abort(); keep its reason and jump back. */
static void png_fail(png_structp png, png_const_charp msg)
{
    struct png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (a bad CRC on an ancillary chunk, which libpng then skips) do not
 * affect the pixels; library code never prints. */
static void png_quiet(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static int decode_png(const unsigned char *data, size_t size, const char *name,
                      struct image *im, struct err *e)
{
    struct png_src src = {.data = data, .size = size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return err_set(e, "%s: out of memory starting the PNG decoder", name);
    }
    /* Changed after setjmp and used after longjmp, hence volatile. */
    unsigned char *volatile rgb = NULL;   /* [h][w][3] */
    png_bytep *volatile rows = NULL;      /* [h] pointers into rgb */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rgb);
        free(rows);
        if (src.truncated)
            return err_set(e, "%s: truncated PNG data", name);
        return err_set(e, "%s: PNG error: %s", name, src.msg);
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_read_info(png, info);

    png_uint_32 w32, h32;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w32, &h32, &depth, &color, &interlace, NULL, NULL);
    if (check_size(name, w32, h32, e) < 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    int w = (int)w32, h = (int)h32;

    /* Everything to 8-bit RGB.  16-bit samples keep their high byte
     * (strip_16, not the rounding scale_16) because Pillow does the same for
     * RGB, RGBA and LA, so decoded pixels match the reference pipeline
     * exactly; rounding would differ from it by 1 for no gain.  Alpha and
     * tRNS are dropped as convert('RGB') drops them, not composited. */
    if (depth == 16)
        png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if ((color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
        png_get_rowbytes(png, info) != (size_t)w * 3) {
        png_destroy_read_struct(&png, &info, NULL);
        return err_set(e, "%s: unsupported PNG layout (colour type %d, %d-bit)", name, color, depth);
    }

    rgb = alloc_rgb(w, h);
    rows = malloc((size_t)h * sizeof *rows);
    if (!rgb || !rows) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rgb);
        free(rows);
        return err_set(e, "%s: out of memory for a %dx%d image", name, w, h);
    }
    for (int y = 0; y < h; y++)
        rows[y] = rgb + (size_t)y * w * 3;
    /* The CRC of the last IDAT is checked as its last row is read.  The
     * chunks after it (IEND) are not read: a file with all of its pixels is
     * accepted, as Pillow accepts it. */
    png_read_image(png, rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    im->w = w;
    im->h = h;
    im->rgb = rgb;
    return 0;
}

/* ---- public decoding ----------------------------------------------------- */

int img_decode(const unsigned char *data, size_t size, const char *name,
               struct image *im, struct err *e)
{
    if (!name)
        name = "(memory)";
    if (!im)
        return err_set(e, "%s: no image to decode into", name);
    im->w = im->h = 0;
    im->rgb = NULL;
    if (size == 0)
        return err_set(e, "%s: empty file", name);
    if (!data)
        return err_set(e, "%s: no data", name);
    /* By content, not extension: photos are often misnamed. */
    if (has_prefix(data, size, JPEG_SIG, sizeof JPEG_SIG)) {
        if (size < sizeof JPEG_SIG)
            return err_set(e, "%s: truncated JPEG data", name);
        return decode_jpeg(data, size, name, im, e);
    }
    if (has_prefix(data, size, PNG_SIG, sizeof PNG_SIG)) {
        if (size < sizeof PNG_SIG)
            return err_set(e, "%s: truncated PNG data", name);
        return decode_png(data, size, name, im, e);
    }
    const char *other = other_format(data, size);
    if (other)
        return err_set(e, "%s: %s images are not supported (only JPEG and PNG)", name, other);
    return err_set(e, "%s: not a JPEG or PNG image", name);
}

/* Enough to tell the format, so a huge non-image (or /dev/zero) is refused
 * before it is read whole. */
#define SNIFF_BYTES 32

int img_load(const char *path, struct image *im, struct err *e)
{
    if (im) {
        im->w = im->h = 0;
        im->rgb = NULL;
    }
    if (!path)
        return err_set(e, "(null): no image path");
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, "%s: cannot open: %s", path, strerror(errno));

    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return err_set(e, "%s: out of memory reading the file", path);
    }
    for (;;) {
        if (n == cap) {
            unsigned char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                fclose(f);
                return err_set(e, "%s: out of memory reading the file", path);
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int saved = errno;
                free(buf);
                fclose(f);
                return err_set(e, "%s: cannot read: %s", path, strerror(saved));
            }
            break;
        }
        if (n >= SNIFF_BYTES && !has_prefix(buf, n, JPEG_SIG, sizeof JPEG_SIG) &&
            !has_prefix(buf, n, PNG_SIG, sizeof PNG_SIG))
            break;   /* img_decode says what it is */
    }
    fclose(f);
    int rc = img_decode(buf, n, path, im, e);
    free(buf);
    return rc;
}

void img_free(struct image *im)
{
    if (!im)
        return;
    free(im->rgb);
    im->rgb = NULL;
    im->w = im->h = 0;
}

/* ---- preprocessing ------------------------------------------------------- */

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
            float pad = (0.0f - p->mean[c]) / p->std[c];
            for (size_t q = 0; q < plane; q++)
                dst[c * plane + q] = pad;
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
            float *out = dst + c * plane + oy * out_w + ox;
            for (int i = 0; i < ht->n; i++)
                out[i] = (acc[3 * i + c] - p->mean[c]) / p->std[c];
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
    for (int c = 0; c < 3; c++)
        if (!(p->std[c] != 0.0f))
            return err_set(e, "preprocess: std[%d] is %g; it divides, so it cannot be 0",
                           c, p->std[c]);

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
