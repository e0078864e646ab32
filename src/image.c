/* image.c -- JPEG/PNG files decoded to 8-bit RGB.
 *
 * Decoded pixels are meant to equal what Pillow's Image.open().convert('RGB')
 * gives, because the networks were trained (and are checked) on images read
 * by Pillow.  Two steps go beyond that reference: EXIF orientation is
 * applied (as ImageOps.exif_transpose does), and img_load_for lets
 * libjpeg-turbo decode a JPEG at 1/2, 1/4 or 1/8 size when the resize
 * (preprocess.c) would shrink it anyway. */
#include "image.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>   /* needs stdio.h first */
#include <jerror.h>
#include <png.h>
#include <zlib.h>

/* ---- limits -------------------------------------------------------------- */

/* Larger images are refused before any pixel buffer is allocated: a 100 MP
 * photo already needs 300 MB decoded, and a forged header could claim 4 G.
 * Set once by the caller before decoding, then only read (the decoding
 * threads never write it). */
static long long max_pixels = IMG_DEFAULT_MAX_PIXELS;

void img_set_max_pixels(long long n)
{
    max_pixels = n > 0 ? n : IMG_DEFAULT_MAX_PIXELS;
}

long long img_max_pixels(void)
{
    return max_pixels;
}

/* A progressive JPEG makes a pass over the whole image per scan; real
 * encoders write about ten, and a forged file of thousands of tiny scans
 * would take minutes to decode. */
#define JPEG_MAX_SCANS 500

/* ---- shared helpers ------------------------------------------------------ */

/* The limit is on the size the header claims, before any scaled decoding:
 * it is what the user sees in an image viewer, and what the decoder reads. */
static int check_size(const char *name, long long w, long long h, struct err *e)
{
    if (w <= 0 || h <= 0)
        return err_set(e, "%s: image has zero width or height (%lldx%lld)", name, w, h);
    if (w > max_pixels / h)
        return err_set(e, "%s: image is too large (%lldx%lld = %lld pixels; the limit is %lld, "
                       "see --max-pixels)", name, w, h, w * h, max_pixels);
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

_Static_assert(sizeof PNG_SIG <= IMG_FORMAT_BYTES && sizeof JPEG_SIG <= IMG_FORMAT_BYTES,
               "img_format_of must tell the formats apart in IMG_FORMAT_BYTES");

enum img_format img_format_of(const unsigned char *head, size_t n)
{
    if (n >= sizeof JPEG_SIG && !memcmp(head, JPEG_SIG, sizeof JPEG_SIG))
        return IMG_JPEG;
    if (n >= sizeof PNG_SIG && !memcmp(head, PNG_SIG, sizeof PNG_SIG))
        return IMG_PNG;
    return IMG_UNKNOWN;
}

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

/* ---- EXIF orientation ---------------------------------------------------- */

/* Phones store photos as the sensor saw them and record in EXIF tag 0x0112
 * how to turn them upright: 1 as stored, 2 mirrored, 3 rotated 180, 4
 * flipped, 5 transposed, 6 rotated 90 clockwise, 7 transversed, 8 rotated 90
 * counter-clockwise (TIFF 6.0, "Orientation"). */

static unsigned tiff_u16(const unsigned char *p, int le)
{
    return le ? (unsigned)p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | p[1];
}

static uint32_t tiff_u32(const unsigned char *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The orientation in a TIFF structure (what follows "Exif\0\0" in a JPEG's
 * APP1, or a PNG's eXIf chunk), from IFD0 as Pillow reads it; 1 when it is
 * absent, out of range or the structure is damaged, since a photo shown as
 * stored beats one refused.  Every read is bounded by n. */
static int exif_orientation(const unsigned char *t, size_t n)
{
    if (n < 8 || !((t[0] == 'I' && t[1] == 'I') || (t[0] == 'M' && t[1] == 'M')))
        return 1;
    int le = t[0] == 'I';
    if (tiff_u16(t + 2, le) != 42)
        return 1;
    uint32_t ifd = tiff_u32(t + 4, le);
    if (ifd > n || n - ifd < 2)
        return 1;
    size_t count = tiff_u16(t + ifd, le);
    if (count > (n - ifd - 2) / 12)
        count = (n - ifd - 2) / 12;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *entry = t + ifd + 2 + 12 * i;   /* tag, type, count, value */
        if (tiff_u16(entry, le) != 0x0112)
            continue;
        unsigned type = tiff_u16(entry + 2, le);
        uint32_t v = type == 3 ? tiff_u16(entry + 8, le) : type == 4 ? tiff_u32(entry + 8, le) : 0;
        return tiff_u32(entry + 4, le) >= 1 && v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

/* Turn im upright for orientation o.  Output pixel (X, Y) is stored pixel
 * base + X*dx + Y*dy (in pixels); 5..8 swap width and height. */
static int orient(struct image *im, int o, const char *name, struct err *e)
{
    if (o <= 1 || o > 8)
        return 0;
    ptrdiff_t w = im->w, h = im->h, base, dx, dy;
    switch (o) {
    case 2: base = w - 1, dx = -1, dy = w; break;
    case 3: base = (h - 1) * w + w - 1, dx = -1, dy = -w; break;
    case 4: base = (h - 1) * w, dx = 1, dy = -w; break;
    case 5: base = 0, dx = w, dy = 1; break;
    case 6: base = (h - 1) * w, dx = -w, dy = 1; break;
    case 7: base = (h - 1) * w + w - 1, dx = -w, dy = -1; break;
    default: base = w - 1, dx = w, dy = -1; break;   /* 8 */
    }
    int ow = o >= 5 ? im->h : im->w, oh = o >= 5 ? im->w : im->h;
    unsigned char *out = malloc((size_t)ow * oh * 3);   /* [oh][ow][3] */
    if (!out)
        return err_set(e, "%s: out of memory turning a %dx%d image upright", name, im->w, im->h);
    unsigned char *d = out;
    for (ptrdiff_t y = 0; y < oh; y++)
        for (ptrdiff_t x = 0; x < ow; x++, d += 3) {
            const unsigned char *s = im->rgb + 3 * (base + x * dx + y * dy);
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
    free(im->rgb);
    im->rgb = out;
    im->w = ow;
    im->h = oh;
    return 0;
}

/* ---- JPEG ---------------------------------------------------------------- */

struct jpeg_fail {
    struct jpeg_error_mgr mgr;   /* first: libjpeg hands us &mgr as cinfo->err */
    jmp_buf jump;
    int truncated;
    int too_many_scans;
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

/* Called between chunks of work; the only way to stop a long decode. */
static void jpeg_progress(j_common_ptr cinfo)
{
    struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        f->too_many_scans = 1;
        longjmp(f->jump, 1);
    }
}

/* The orientation in the first APP1 marker that holds EXIF, as Pillow picks it. */
static int jpeg_orientation(j_decompress_ptr cinfo)
{
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && !memcmp(m->data, "Exif", 5))
            return exif_orientation(m->data + 6, m->data_length - 6);
    return 1;
}

int img_resized_size(int w, int h, int shorter, int *rw, int *rh, struct err *e)
{
    int small = w <= h ? w : h, large = w <= h ? h : w;
    if (small == shorter) {
        *rw = w;
        *rh = h;
        return 0;
    }
    long long scaled = (long long)shorter * large / small;
    if (scaled > INT_MAX)
        return err_set(e, "resizing a %dx%d image to %d on its shorter side makes the other "
                       "side %lld pixels", w, h, shorter, scaled);
    *rw = w <= h ? shorter : (int)scaled;
    *rh = w <= h ? (int)scaled : shorter;
    return 0;
}

/* Pillow's draft() scale for a w x h picture (upright) resized to d: the
 * largest of 8, 4, 2 at most min(w // target_w, h // target_h), else 1. */
static int jpeg_scale_denom(int w, int h, const struct img_draft *d)
{
    int tw = 0, th = 0;
    if (d && d->shorter > 0) {
        if (img_resized_size(w, h, d->shorter, &tw, &th, NULL))
            return 1;
    } else if (d) {
        tw = d->w, th = d->h;
    }
    if (tw <= 0 || th <= 0)
        return 1;
    int scale = w / tw < h / th ? w / tw : h / th;
    for (int denom = 8; denom > 1; denom /= 2)
        if (scale >= denom)
            return denom;
    return 1;
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
                       const struct img_draft *d, struct image *im, struct err *e)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_fail fail;
    struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_progress};
    /* Changed after setjmp and used after longjmp, hence volatile. */
    unsigned char *volatile rgb = NULL;   /* [h][w][3] */
    unsigned char *volatile cmyk = NULL;  /* [w][4], one scanline */

    if (size > ULONG_MAX)
        return err_set(e, "%s: file too large for libjpeg", name);
    cinfo.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_error_exit;
    fail.mgr.emit_message = jpeg_emit_message;
    fail.mgr.output_message = jpeg_output_message;
    fail.truncated = fail.too_many_scans = 0;
    if (setjmp(fail.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(cmyk);
        if (fail.truncated)
            return err_set(e, "%s: truncated JPEG data", name);
        if (fail.too_many_scans)
            return err_set(e, "%s: JPEG has over %d scans, a corrupt or hostile file", name,
                           JPEG_MAX_SCANS);
        return err_set(e, "%s: JPEG error: %s", name, fail.msg);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&cinfo, TRUE);
    if (check_size(name, cinfo.image_width, cinfo.image_height, e) < 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    int orientation = jpeg_orientation(&cinfo);
    cinfo.scale_num = 1;
    /* Orientations 5-8 turn the picture a quarter: d is upright. */
    int turned = orientation >= 5 && orientation <= 8;
    int up_w = (int)(turned ? cinfo.image_height : cinfo.image_width);
    int up_h = (int)(turned ? cinfo.image_width : cinfo.image_height);
    cinfo.scale_denom = (unsigned)jpeg_scale_denom(up_w, up_h, d);
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
    return orient(im, orientation, name, e);
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

/* The orientation in the first eXIf chunk before IDAT (the PNG spec puts it
 * there), found by walking the chunks in memory: libpng would allocate the
 * length a chunk claims before finding out that the file is shorter.  A
 * chunk with a bad CRC is ignored, as libpng ignores it. */
static int png_orientation(const unsigned char *d, size_t n)
{
    for (size_t at = 8; n - at >= 12;) {   /* length, type, data, CRC */
        size_t len = tiff_u32(d + at, 0);
        const unsigned char *type = d + at + 4;
        if (len > n - at - 12 || !memcmp(type, "IDAT", 4))
            return 1;
        if (!memcmp(type, "eXIf", 4))
            return crc32(0, type, 4 + len) == tiff_u32(type + 4 + len, 0) ? exif_orientation(type + 4, len) : 1;
        at += 12 + len;
    }
    return 1;
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
    /* Chunks that cannot change 8-bit RGB as decoded here (no gamma, colour
     * management, background or shift is applied) are skipped unread, so a
     * photo's megabyte of text or ICC profile costs no allocation; eXIf is
     * read by png_orientation, tRNS is still handled. */
    static const png_byte unused_chunks[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0"
                                            "pCAL\0pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, unused_chunks, sizeof unused_chunks / 5);
    png_read_info(png, info);

    png_uint_32 w32, h32;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w32, &h32, &depth, &color, &interlace, NULL, NULL);
    if (check_size(name, w32, h32, e) < 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    int w = (int)w32, h = (int)h32;
    int orientation = png_orientation(data, size);

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
    return orient(im, orientation, name, e);
}

/* ---- public decoding ----------------------------------------------------- */

int img_decode(const unsigned char *data, size_t size, const char *name,
               struct image *im, struct err *e)
{
    return img_decode_for(data, size, name, NULL, im, e);
}

int img_decode_for(const unsigned char *data, size_t size, const char *name,
                   const struct img_draft *d, struct image *im, struct err *e)
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
    enum img_format format = img_format_of(data, size);
    if (format != IMG_UNKNOWN) {
        int rc = format == IMG_JPEG ? decode_jpeg(data, size, name, d, im, e)
                                    : decode_png(data, size, name, im, e);
        if (rc == 0)
            return 0;
        img_free(im);   /* orient() can fail after the pixels are in */
        return -1;
    }
    /* Fewer bytes than the signature they begin. */
    if (has_prefix(data, size, JPEG_SIG, sizeof JPEG_SIG))
        return err_set(e, "%s: truncated JPEG data", name);
    if (has_prefix(data, size, PNG_SIG, sizeof PNG_SIG))
        return err_set(e, "%s: truncated PNG data", name);
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
    return img_load_for(path, NULL, im, e);
}

int img_load_for(const char *path, const struct img_draft *d, struct image *im, struct err *e)
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
        if (n >= SNIFF_BYTES && img_format_of(buf, n) == IMG_UNKNOWN)
            break;   /* img_decode says what it is */
    }
    fclose(f);
    int rc = img_decode_for(buf, n, path, d, im, e);
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
