/* test_image.c -- decoding against Pillow, bad files, and preprocessing
 * against torchvision.
 *
 * The fixtures in tests/images/ come from tests/make_image_fixtures.py; the
 * three manifests there (decode.txt, bad.txt, tensor.txt) list the cases.
 * Run from the repository root. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>
#include <zlib.h>

#include "check.h"
#include "testutil.h"
#include "image.h"
#include "preprocess.h"

#define DIR "tests/images/"

/* Manifest lines, skipping comments; returns NULL at the end. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- good files: every pixel as Pillow decodes it ------------------------- */

static void test_decode(void)
{
    FILE *f = fopen(DIR "decode.txt", "r");
    CHECK(f != NULL, "open " DIR "decode.txt");
    if (!f)
        return;
    char line[512], file[256], path[512], exp_path[512];
    int w, h, tol;
    while (next_line(f, line, sizeof line)) {
        if (sscanf(line, "%255s %d %d %d", file, &w, &h, &tol) != 4)
            continue;
        snprintf(path, sizeof path, DIR "%s", file);
        snprintf(exp_path, sizeof exp_path, DIR "%.*s.rgb", (int)(strrchr(file, '.') - file), file);
        size_t exp_size = 0;
        unsigned char *exp = read_all(exp_path, &exp_size);
        struct image im;
        struct err e = {{0}};
        int rc = img_load(path, &im, &e);
        int max_diff = -1;
        if (rc == 0 && exp && im.w == w && im.h == h && exp_size == (size_t)w * h * 3) {
            max_diff = 0;
            for (size_t i = 0; i < exp_size; i++) {
                int d = abs(im.rgb[i] - exp[i]);
                max_diff = d > max_diff ? d : max_diff;
            }
        }
        CHECK(max_diff >= 0 && max_diff <= tol, "decode %s (%dx%d) equals Pillow: max diff %d (allowed %d)%s%s",
              file, w, h, max_diff, tol, rc ? ", error: " : "", rc ? e.msg : "");
        img_free(&im);
        free(exp);
    }
    fclose(f);
}

/* ---- YCCK: Pillow cannot write it, so libjpeg does, here -------------------- */

/* Encode [16][16][4] stored CMYK samples in the given JPEG colour space. */
static unsigned char *encode_cmyk(const unsigned char *cmyk, J_COLOR_SPACE space, unsigned long *size)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *out = NULL;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, size);
    c.image_width = c.image_height = 16;
    c.input_components = 4;
    c.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, space);
    jpeg_set_quality(&c, 100, TRUE);
    for (int i = 0; i < 4; i++)
        c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < 16) {
        JSAMPROW row = (JSAMPROW)cmyk + c.next_scanline * 16 * 4;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return out;
}

static void test_ycck(void)
{
    /* Flat 8x8 quadrants: a lossless-enough round trip through the DCT. */
    static const unsigned char colours[4][4] = {
        {255, 255, 255, 255}, {40, 200, 120, 230}, {200, 30, 90, 180}, {128, 128, 128, 60}};
    unsigned char cmyk[16 * 16 * 4];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            memcpy(cmyk + (y * 16 + x) * 4, colours[(y / 8) * 2 + x / 8], 4);
    static const J_COLOR_SPACE spaces[2] = {JCS_YCCK, JCS_CMYK};
    static const char *const names[2] = {"YCCK", "CMYK"};
    for (int s = 0; s < 2; s++) {
        unsigned long size = 0;
        unsigned char *jpg = encode_cmyk(cmyk, spaces[s], &size);
        struct image im;
        struct err e = {{0}};
        int rc = img_decode(jpg, size, "ycck.jpg", &im, &e);
        int max_diff = -1;
        if (rc == 0 && im.w == 16 && im.h == 16) {
            max_diff = 0;
            for (int i = 0; i < 16 * 16; i++)
                for (int c = 0; c < 3; c++) {
                    /* Pillow's conversion of inverted ("Adobe") CMYK */
                    int sc = cmyk[i * 4 + c], sk = cmyk[i * 4 + 3];
                    int t = (255 - sc) * sk + 128;
                    int want = sk - (((t >> 8) + t) >> 8);
                    int d = abs(im.rgb[i * 3 + c] - want);
                    max_diff = d > max_diff ? d : max_diff;
                }
        }
        CHECK(max_diff >= 0 && max_diff <= 3, "decode %s JPEG written by libjpeg: max diff %d from the "
              "exact CMYK->RGB of its source (allowed 3 for q100 rounding)%s", names[s], max_diff, e.msg);
        img_free(&im);
        free(jpg);
    }
}

/* ---- bad files: -1, one line naming the file, nothing allocated ----------- */

static int bad_result_ok(int rc, const struct image *im, const struct err *e, const char *name,
                         const char *word)
{
    return rc == -1 && im->rgb == NULL && im->w == 0 && im->h == 0 && strstr(e->msg, name) &&
           strstr(e->msg, word) && !strchr(e->msg, '\n');
}

static void test_bad(void)
{
    FILE *f = fopen(DIR "bad.txt", "r");
    CHECK(f != NULL, "open " DIR "bad.txt");
    if (!f)
        return;
    char line[512], file[256], path[512];
    while (next_line(f, line, sizeof line)) {
        char *word = line;
        if (sscanf(line, "%255s", file) != 1)
            continue;
        word += strlen(file) + 1;
        word[strcspn(word, "\n")] = 0;
        snprintf(path, sizeof path, DIR "%s", file);
        struct image im = {7, 7, (unsigned char *)"x"};   /* must be cleared */
        struct err e = {{0}};
        int rc = img_load(path, &im, &e);
        CHECK(bad_result_ok(rc, &im, &e, path, word), "reject %s (\"%s\"): %s", file, word, e.msg);
        if (rc == 0)
            img_free(&im);
    }
    fclose(f);

    struct {
        const char *path, *word;
    } paths[] = {
        {DIR "no_such_photo.jpg", "cannot open: No such file or directory"},
        {DIR "bad", "cannot read"},   /* a directory opens but does not read */
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct image im;
        struct err e = {{0}};
        int rc = img_load(paths[i].path, &im, &e);
        CHECK(bad_result_ok(rc, &im, &e, paths[i].path, paths[i].word), "reject %s: %s", paths[i].path, e.msg);
    }

    /* From memory, a name is still in the message. */
    struct image im;
    struct err e = {{0}};
    int rc = img_decode((const unsigned char *)"\x89PN", 3, "short.png", &im, &e);
    CHECK(bad_result_ok(rc, &im, &e, "short.png", "truncated PNG"), "reject a 3-byte PNG signature: %s", e.msg);
    rc = img_decode((const unsigned char *)"\xff\xd8", 2, "short.jpg", &im, &e);
    CHECK(bad_result_ok(rc, &im, &e, "short.jpg", "truncated JPEG"), "reject a 2-byte JPEG start: %s", e.msg);
}

/* Every prefix of a good file is an error (for PNG, until only IEND is
 * missing), and decoding it never crashes. */
static void test_every_cut(const char *file, size_t tail_ok)
{
    char path[512];
    snprintf(path, sizeof path, DIR "%s", file);
    size_t size = 0;
    unsigned char *data = read_all(path, &size);
    int wrong = 0;
    size_t first_wrong = 0;
    for (size_t cut = 0; data && cut < size; cut++) {
        struct image im;
        struct err e = {{0}};
        int rc = img_decode(data, cut, file, &im, &e);
        int want = cut + tail_ok >= size ? 0 : -1;
        if (rc != want || (rc < 0 && !strstr(e.msg, file))) {
            if (!wrong++)
                first_wrong = cut;
        }
        img_free(&im);
    }
    CHECK(data && !wrong, "all %zu prefixes of %s rejected%s (%d wrong, first at %zu bytes)", size, file,
          tail_ok ? " until only IEND is missing" : "", wrong, first_wrong);
    free(data);
}

/* Random byte damage to each good fixture: decoded or rejected, never a crash
 * (run this under SANITIZE=1 to mean it). */
static void test_corruption(void)
{
    FILE *f = fopen(DIR "decode.txt", "r");
    if (!f)
        return;
    uint32_t rng = 12345;
    int runs = 0, bad_msg = 0, decoded = 0;
    char line[512], file[256], path[512];
    while (next_line(f, line, sizeof line)) {
        if (sscanf(line, "%255s", file) != 1)
            continue;
        snprintf(path, sizeof path, DIR "%s", file);
        size_t size = 0;
        unsigned char *orig = read_all(path, &size);
        unsigned char *data = orig ? malloc(size) : NULL;
        for (int r = 0; data && r < 150; r++) {
            memcpy(data, orig, size);
            int flips = 1 + r % 4;
            for (int k = 0; k < flips; k++) {
                rng = rng * 1664525u + 1013904223u;
                /* Skip the signature so the decoders, not the sniffer, see it. */
                size_t at = 8 + (rng >> 8) % (size - 8);
                data[at] ^= (unsigned char)(1u << (rng & 7));
            }
            struct image im;
            struct err e = {{0}};
            int rc = img_decode(data, size, file, &im, &e);
            runs++;
            if (rc == 0)
                decoded++;
            else if (!strstr(e.msg, file))
                bad_msg++;
            img_free(&im);
        }
        free(data);
        free(orig);
    }
    fclose(f);
    CHECK(runs > 0 && bad_msg == 0, "%d damaged variants of the fixtures: %d decoded, %d rejected naming the file, "
          "%d rejected without the name, no crash", runs, decoded, runs - decoded - bad_msg, bad_msg);
}

/* ---- preprocessing against torchvision ------------------------------------ */

/* make_image_fixtures.py's hash_pixels(): [h][w][3] noise too big to commit. */
static unsigned char *hash_pixels(int w, int h)
{
    unsigned char *pix = malloc((size_t)w * h * 3);
    for (uint32_t y = 0; pix && y < (uint32_t)h; y++)
        for (uint32_t x = 0; x < (uint32_t)w; x++)
            for (uint32_t c = 0; c < 3; c++) {
                uint32_t v = (x * 73856093u) ^ (y * 19349663u) ^ (c * 83492791u);
                pix[((size_t)y * w + x) * 3 + c] = (unsigned char)((v * 2654435761u) >> 24);
            }
    return pix;
}

static void test_tensor(void)
{
    FILE *f = fopen(DIR "tensor.txt", "r");
    CHECK(f != NULL, "open " DIR "tensor.txt");
    if (!f)
        return;
    char line[512], stem[128], input[16], interp[16], path[512];
    int w, h, oh, ow;
    struct preprocess p = {0};
    static const char *const interps[] = {"bilinear", "bicubic", "nearest"};   /* enum pre_interp */
    while (next_line(f, line, sizeof line)) {
        if (sscanf(line, "%127s %15s %d %d %d %d %d %f %f %f %f %f %f %15s", stem, input, &w, &h, &p.resize,
                   &oh, &ow, &p.mean[0], &p.mean[1], &p.mean[2], &p.std[0], &p.std[1], &p.std[2], interp) != 14)
            continue;
        p.interp = PRE_BILINEAR;
        for (int i = 0; i < 3; i++)
            if (!strcmp(interp, interps[i]))
                p.interp = (enum pre_interp)i;
        size_t in_size = (size_t)w * h * 3, exp_size = 0;
        unsigned char *pix = NULL;
        snprintf(path, sizeof path, DIR "%s.u8", stem);
        if (!strcmp(input, "hash"))
            pix = hash_pixels(w, h);
        else
            pix = read_all(path, &in_size);
        snprintf(path, sizeof path, DIR "%s.f32", stem);
        unsigned char *exp = read_all(path, &exp_size);
        size_t n = (size_t)3 * oh * ow;
        float *out = malloc(n * sizeof *out);
        struct image im = {w, h, pix};
        struct err e = {{0}};
        double max_diff = -1;
        if (pix && exp && out && in_size == (size_t)w * h * 3 && exp_size == n * 4 &&
            img_to_tensor(&im, &p, oh, ow, out, &e) == 0) {
            max_diff = 0;
            for (size_t i = 0; i < n; i++) {
                double d = fabs((double)out[i] - le_f32(exp + 4 * i));
                max_diff = d > max_diff || d != d ? d : max_diff;
            }
        }
        /* Pillow's integer arithmetic, then the same float steps: equal to float rounding. */
        CHECK(max_diff >= 0 && max_diff <= 1e-6, "tensor %s: %dx%d, %s resize %d, crop %dx%d vs torchvision "
              "on the PIL image: max diff %.3g%s", stem, w, h, interp, p.resize, ow, oh, max_diff, e.msg);
        free(pix);
        free(exp);
        free(out);
    }
    fclose(f);
}

/* A flat image stays flat through any resize, crop and pad (the weights of
 * every output sum to 1), and only the crop is computed, so extreme resizes
 * cost nothing. */
static void test_tensor_flat(int w, int h, int resize, int oh, int ow, int padded)
{
    unsigned char *pix = malloc((size_t)w * h * 3);
    float *out = malloc((size_t)3 * oh * ow * sizeof *out);
    for (size_t i = 0; i < (size_t)w * h; i++)
        memcpy(pix + 3 * i, "\x10\x80\xf0", 3);
    struct image im = {w, h, pix};
    struct preprocess p = {resize, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}, PRE_TORCH, PRE_FIT_CROP,
                         PRE_BILINEAR, 0};
    struct err e = {{0}};
    double t0 = now_ms();
    int rc = img_to_tensor(&im, &p, oh, ow, out, &e);
    double ms = now_ms() - t0, max_diff = 0;
    int pads = 0;
    for (int c = 0; rc == 0 && c < 3; c++)
        for (int i = 0; i < oh * ow; i++) {
            float v = out[c * oh * ow + i], want = ((float)pix[c] / 255.0f - 0.5f) / 0.25f;
            if (v == (0.0f - 0.5f) / 0.25f) {
                pads++;
                continue;
            }
            double d = fabs(v - want);
            max_diff = d > max_diff || d != d ? d : max_diff;
        }
    CHECK(rc == 0 && max_diff < 1e-5 && (pads > 0) == padded, "flat %dx%d image, resize %d, crop %dx%d: "
          "max deviation %.3g, %d padded samples, %.1f ms%s", w, h, resize, ow, oh, max_diff, pads, ms, e.msg);
    free(pix);
    free(out);
}

static void test_tensor_errors(void)
{
    unsigned char pix[12] = {0};
    struct image im = {2, 2, pix};
    float out[3 * 4];
    struct err e = {{0}};
    struct preprocess p = {2, {0.5f, 0.5f, 0.5f}, {0.25f, 0.0f, 0.25f}, PRE_TORCH, PRE_FIT_CROP, PRE_BILINEAR, 0};
    CHECK(img_to_tensor(&im, &p, 2, 2, out, &e) == -1 && strstr(e.msg, "std[1]"), "std 0 refused: %s", e.msg);
    p.std[1] = 0.25f;
    CHECK(img_to_tensor(&im, &p, 0, 2, out, &e) == -1, "crop height 0 refused: %s", e.msg);
    p.resize = -1;
    CHECK(img_to_tensor(&im, &p, 2, 2, out, &e) == -1, "negative resize refused: %s", e.msg);
    struct image none = {0, 0, NULL};
    p.resize = 2;
    CHECK(img_to_tensor(&none, &p, 2, 2, out, &e) == -1, "empty image refused: %s", e.msg);
}

/* The common case at full size: a 12-megapixel photo to 224x224. */
static void test_tensor_speed(void)
{
    int w = 4000, h = 3000;
    unsigned char *pix = malloc((size_t)w * h * 3);
    float *out = malloc(3 * 224 * 224 * sizeof *out);
    uint32_t rng = 1;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        rng = rng * 1664525u + 1013904223u;
        pix[i] = (unsigned char)(rng >> 24);
    }
    struct image im = {w, h, pix};
    struct preprocess p = {256, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, PRE_TORCH,
                           PRE_FIT_CROP, PRE_BILINEAR, 0};
    struct err e = {{0}};
    double best = 1e9;
    int rc = 0;
    for (int r = 0; r < 3 && rc == 0; r++) {
        double t0 = now_ms();
        rc = img_to_tensor(&im, &p, 224, 224, out, &e);
        double ms = now_ms() - t0;
        best = ms < best ? ms : best;
    }
    /* The figure is for the reader; timings are never a pass mark. */
    CHECK(rc == 0, "12 MP (4000x3000) -> resize 256 -> crop 224: %.1f ms single-threaded%s",
          best, e.msg);
    free(pix);
    free(out);
}

/* ---- EXIF orientation and scaled decoding, against Pillow ------------------ */

/* exif/exif.txt: file shorter width height expected.rgb|-.  Pillow's
 * exif_transpose, after draft() for a resize of the shorter side to
 * `shorter` (0: none), on the same libjpeg-turbo gives the expected pixels,
 * so they must match exactly. */
static void test_exif(void)
{
    FILE *f = fopen(DIR "exif/exif.txt", "r");
    CHECK(f != NULL, "open " DIR "exif/exif.txt");
    if (!f)
        return;
    char line[512], file[256], exp_file[256], path[512];
    int shorter, w, h;
    while (next_line(f, line, sizeof line)) {
        if (sscanf(line, "%255s %d %d %d %255s", file, &shorter, &w, &h, exp_file) != 5)
            continue;
        snprintf(path, sizeof path, DIR "exif/%s", file);
        struct image im;
        struct err e = {{0}};
        struct img_draft d = {shorter, 0, 0};
        int rc = img_load_for(path, &d, &im, &e);
        int size_ok = rc == 0 && im.w == w && im.h == h;
        if (!strcmp(exp_file, "-")) {
            CHECK(size_ok, "exif/%s, for a resize to %d: decoded %dx%d, want %dx%d%s", file, shorter,
                  im.w, im.h, w, h, e.msg);
            img_free(&im);
            continue;
        }
        snprintf(path, sizeof path, DIR "exif/%s", exp_file);
        size_t exp_size = 0;
        unsigned char *exp = read_all(path, &exp_size);
        int max_diff = -1;
        if (size_ok && exp && exp_size == (size_t)w * h * 3) {
            max_diff = 0;
            for (size_t i = 0; i < exp_size; i++) {
                int d = abs(im.rgb[i] - exp[i]);
                max_diff = d > max_diff ? d : max_diff;
            }
        }
        CHECK(max_diff == 0, "exif/%s, for a resize to %d: %dx%d upright equals Pillow's exif_transpose%s "
              "(max diff %d)%s", file, shorter, im.w, im.h, shorter ? " of draft()" : "", max_diff, e.msg);
        img_free(&im);
        free(exp);
    }
    fclose(f);
}

/* An eXIf chunk whose CRC fails is ignored, as libpng ignores it: the
 * picture comes out as stored. */
static void test_exif_bad_crc(void)
{
    size_t size = 0, exp_size = 0;
    unsigned char *png = read_all(DIR "exif/o6.png", &size);
    unsigned char *exp = read_all(DIR "exif/bad_exif_png.rgb", &exp_size);
    unsigned char *chunk = NULL;
    for (size_t i = 8; png && i + 8 <= size && !chunk; i++)
        if (!memcmp(png + i, "eXIf", 4))
            chunk = png + i;
    struct image im = {0, 0, NULL};
    struct err e = {{0}};
    int rc = -1;
    if (chunk && exp) {
        size_t len = (size_t)chunk[-4] << 24 | (size_t)chunk[-3] << 16 | (size_t)chunk[-2] << 8 | chunk[-1];
        chunk[4 + len] ^= 0x01;   /* the first byte of its CRC */
        rc = img_decode(png, size, "badcrc.png", &im, &e);
    }
    CHECK(rc == 0 && im.w == 22 && im.h == 36 && exp_size == (size_t)22 * 36 * 3 && !memcmp(im.rgb, exp, exp_size),
          "eXIf with a bad CRC is ignored: %dx%d as stored%s", im.w, im.h, e.msg);
    img_free(&im);
    free(png);
    free(exp);
}

/* img_load_for never scales a PNG, and 0 means a full decode. */
static void test_scaled_png(void)
{
    struct image im;
    struct err e = {{0}};
    struct img_draft tiny = {1, 0, 0};
    int rc = img_load_for(DIR "png_rgb8.png", &tiny, &im, &e);
    CHECK(rc == 0 && im.w == 13 && im.h == 11, "PNG with a target of 1 pixel is decoded at full size "
          "(%dx%d)%s", im.w, im.h, e.msg);
    img_free(&im);
    rc = img_load_for(DIR "exif/scaled_o6.jpg", NULL, &im, &e);
    CHECK(rc == 0 && im.w == 97 && im.h == 161, "JPEG without a target is decoded at full size (%dx%d)%s",
          im.w, im.h, e.msg);
    img_free(&im);
}

/* What classify asks img_load_for for: the resize that follows. */
static void test_draft_for(void)
{
    struct preprocess p;
    memset(&p, 0, sizeof p);
    p.resize = 256;
    struct img_draft d = img_draft_for(&p, 224, 224);
    CHECK(d.shorter == 256 && !d.w && !d.h, "crop after resize 256: a draft for a shorter side of 256");
    p.full_decode = 1;
    d = img_draft_for(&p, 224, 224);
    CHECK(!d.shorter && !d.w && !d.h, "full_decode: no draft");
    p.full_decode = 0;
    p.resize = 0;
    d = img_draft_for(&p, 224, 224);
    CHECK(!d.shorter && !d.w && !d.h, "crop without resize: full size");
    p.fit = PRE_FIT_STRETCH;
    d = img_draft_for(&p, 224, 300);
    CHECK(!d.shorter && d.w == 300 && d.h == 224, "stretch to 300x224: a draft for 300x224");
}

/* A stretch's draft: Pillow's min(W // w, H // h) on the upright size. */
static void test_draft_stretch(void)
{
    struct image im;
    struct err e = {{0}};
    /* scaled_o6.jpg is 97x161 upright: 97 // 24 = 4, 161 // 40 = 4 -> 1/4 */
    struct img_draft d = {0, 24, 40};
    int rc = img_load_for(DIR "exif/scaled_o6.jpg", &d, &im, &e);
    CHECK(rc == 0 && im.w == 25 && im.h == 41, "stretch draft 24x40 of 97x161: 1/4, %dx%d%s", im.w, im.h, e.msg);
    img_free(&im);
    /* 161 // 81 = 1: no reduction, though 97 // 24 = 4 */
    d = (struct img_draft){0, 24, 81};
    rc = img_load_for(DIR "exif/scaled_o6.jpg", &d, &im, &e);
    CHECK(rc == 0 && im.w == 97 && im.h == 161, "stretch draft 24x81: the tighter axis decides, %dx%d%s",
          im.w, im.h, e.msg);
    img_free(&im);
}

/* A photo's metadata (here 3 MB of iTXt, then an ICC profile) is skipped,
 * not read into memory, and does not change the pixels. */
static void test_png_metadata(void)
{
    size_t size = 0;
    unsigned char *png = read_all(DIR "png_rgb8.png", &size);
    struct image plain, big;
    struct err e = {{0}};
    int rc = png ? img_decode(png, size, "plain.png", &plain, &e) : -1;
    size_t meta = 3u << 20, n = size + 2 * (12 + meta);
    unsigned char *out = png ? malloc(n) : NULL;
    if (rc == 0 && out) {
        size_t at = 8 + 25;   /* after the signature and IHDR */
        memcpy(out, png, at);
        unsigned char *p = out + at;
        static const char *const kinds[2] = {"iTXt", "iCCP"};
        for (int k = 0; k < 2; k++) {
            p[0] = (unsigned char)(meta >> 24), p[1] = (unsigned char)(meta >> 16);
            p[2] = (unsigned char)(meta >> 8), p[3] = (unsigned char)meta;
            memcpy(p + 4, kinds[k], 4);
            memset(p + 8, 'x', meta);
            uint32_t crc = (uint32_t)crc32(0, p + 4, 4 + meta);   /* the PNG chunk CRC */
            unsigned char *c = p + 8 + meta;
            c[0] = (unsigned char)(crc >> 24), c[1] = (unsigned char)(crc >> 16);
            c[2] = (unsigned char)(crc >> 8), c[3] = (unsigned char)crc;
            p += 12 + meta;
        }
        memcpy(p, png + at, size - at);
        double t0 = now_ms();
        rc = img_decode(out, n, "metadata.png", &big, &e);
        double ms = now_ms() - t0;
        CHECK(rc == 0 && big.w == plain.w && big.h == plain.h &&
              !memcmp(big.rgb, plain.rgb, (size_t)plain.w * plain.h * 3),
              "PNG with 3 MB of iTXt and a 3 MB iCCP decodes to the same pixels, %.1f ms%s", ms, e.msg);
        img_free(&big);
        img_free(&plain);
    } else {
        CHECK(0, "PNG metadata case could not be built%s", e.msg);
    }
    free(out);
    free(png);
}

/* ---- limits ------------------------------------------------------------------- */

static void test_max_pixels(void)
{
    CHECK(img_max_pixels() == IMG_DEFAULT_MAX_PIXELS, "default pixel limit is %lld",
          img_max_pixels());
    struct image im;
    struct err e = {{0}};
    img_set_max_pixels(143);   /* png_rgb8.png is 13x11 = 143 pixels */
    int rc = img_load(DIR "png_rgb8.png", &im, &e);
    CHECK(rc == 0, "a 13x11 PNG passes a limit of 143 pixels%s", e.msg);
    img_free(&im);
    img_set_max_pixels(142);
    rc = img_load(DIR "png_rgb8.png", &im, &e);
    CHECK(bad_result_ok(rc, &im, &e, "png_rgb8.png", "too large") && strstr(e.msg, "142"),
          "a 13x11 PNG is refused by a limit of 142: %s", e.msg);
    /* The limit is on the header's size, not on the scaled decode. */
    img_set_max_pixels(97 * 161 - 1);
    struct img_draft eighth = {12, 0, 0};
    rc = img_load_for(DIR "exif/scaled_o6.jpg", &eighth, &im, &e);
    CHECK(bad_result_ok(rc, &im, &e, "scaled_o6.jpg", "too large"),
          "a 161x97 JPEG decoded at 1/8 still counts its full size: %s", e.msg);
    img_set_max_pixels(0);
    CHECK(img_max_pixels() == IMG_DEFAULT_MAX_PIXELS, "a limit of 0 restores the default");

    /* Headers that claim 100000x100000 (PNG) and 65500x65500 (JPEG): refused
     * from the header, without allocating or reading on. */
    static const char *const huge[] = {DIR "mixed/bad_huge.png", DIR "mixed/bad_huge.jpg"};
    for (int i = 0; i < 2; i++) {
        double t0 = now_ms();
        rc = img_load(huge[i], &im, &e);
        double ms = now_ms() - t0;
        CHECK(bad_result_ok(rc, &im, &e, huge[i], "too large"),
              "%s refused in %.1f ms: %s", huge[i], ms, e.msg);
    }
}

/* A progressive JPEG with hundreds of repeated scans: refused past the scan
 * limit instead of decoding for minutes; a few extra scans still decode. */
static void test_scan_limit(void)
{
    size_t size = 0;
    unsigned char *jpg = read_all(DIR "jpg_progressive.jpg", &size);
    size_t last_sos = 0;
    for (size_t i = 0; jpg && i + 1 < size; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xda)
            last_sos = i;
    CHECK(last_sos > 0 && jpg[size - 2] == 0xff && jpg[size - 1] == 0xd9, "jpg_progressive.jpg has scans");
    if (!last_sos) {
        free(jpg);
        return;
    }
    size_t seg = size - 2 - last_sos;   /* the last scan: SOS header and its data */
    static const int repeats[2] = {20, 600};
    for (int r = 0; r < 2; r++) {
        size_t n = size + seg * repeats[r];
        unsigned char *many = malloc(n), *p = many;
        memcpy(p, jpg, size - 2);
        p += size - 2;
        for (int k = 0; k < repeats[r]; k++, p += seg)
            memcpy(p, jpg + last_sos, seg);
        memcpy(p, "\xff\xd9", 2);
        struct image im;
        struct err e = {{0}};
        int rc = img_decode(many, n, "scans.jpg", &im, &e);
        if (r == 0)
            CHECK(rc == 0, "progressive JPEG with %d repeated scans decodes%s", repeats[r], e.msg);
        else
            CHECK(bad_result_ok(rc, &im, &e, "scans.jpg", "scans"), "progressive JPEG with %d repeated "
                  "scans is refused: %s", repeats[r], e.msg);
        img_free(&im);
        free(many);
    }
    free(jpg);
}

/* ---- Keras's preprocessing: load_img(target_size) and the caffe / tf modes -- */

/* Pillow's NEAREST resize picks, for each output column, the source column
 * below the running sum 0.5 * in/out + k * in/out (lists made with Pillow
 * 9.4; 64 -> 7 and 8 -> 7 are where (k + 0.5) * in / out would differ). */
static void test_keras_stretch(void)
{
    static const struct {
        int in, out, want[8];
    } axes[] = {
        {64, 7, {4, 13, 22, 31, 41, 50, 59}},
        {8, 7, {0, 1, 2, 3, 5, 6, 7}},
        {7, 3, {1, 3, 5}},
        {3, 7, {0, 0, 1, 1, 1, 2, 2}},
    };
    for (size_t t = 0; t < sizeof axes / sizeof *axes; t++) {
        /* The same axis both ways: pixel (x, y) holds x in R, y in G, 7 in B. */
        int n = axes[t].in, m = axes[t].out;
        unsigned char *pix = malloc((size_t)n * n * 3);
        float *out = malloc((size_t)3 * m * m * sizeof *out);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                unsigned char *q = pix + ((size_t)y * n + x) * 3;
                q[0] = (unsigned char)x, q[1] = (unsigned char)y, q[2] = 7;
            }
        struct image im = {n, n, pix};
        struct preprocess p = {0, {0, 0, 0}, {1, 1, 1}, PRE_TF, PRE_FIT_STRETCH, PRE_NEAREST, 0};
        struct err e = {{0}};
        int ok = img_to_tensor(&im, &p, m, m, out, &e) == 0;
        for (int y = 0; ok && y < m; y++)
            for (int x = 0; x < m; x++) {
                float r = out[(size_t)y * m + x], g = out[(size_t)m * m + (size_t)y * m + x];
                ok &= r == (float)axes[t].want[x] / 127.5f - 1.0f &&
                      g == (float)axes[t].want[y] / 127.5f - 1.0f;
            }
        CHECK(ok, "load_img nearest %dx%d -> %dx%d picks Pillow's pixels%s", n, n, m, m, e.msg);
        free(pix);
        free(out);
    }
}

/* caffe: BGR planes, value - [103.939, 116.779, 123.68]; tf: value / 127.5 - 1;
 * through the stretch (exact bytes) and the crop path (filtered, 0..1 scale). */
static void test_keras_modes(void)
{
    unsigned char pix[4 * 4 * 3];
    for (int i = 0; i < 16; i++)
        memcpy(pix + 3 * i, "\x0a\x80\xff", 3);
    struct image im = {4, 4, pix};
    float out[3 * 2 * 2];
    struct err e = {{0}};
    const float bgr[3] = {255.0f - 103.939f, 128.0f - 116.779f, 10.0f - 123.68f};
    for (int fit = 0; fit < 2; fit++) {
        struct preprocess p = {2, {0, 0, 0}, {0, 0, 0}, PRE_CAFFE, (enum pre_fit)fit,
                               fit ? PRE_NEAREST : PRE_BILINEAR, 0};
        int rc = img_to_tensor(&im, &p, 2, 2, out, &e);
        double d = 0;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 4; i++)
                d = fmax(d, fabs(out[c * 4 + i] - bgr[c]));
        CHECK(rc == 0 && d <= (fit ? 0 : 1e-4), "caffe (%s): BGR planes minus the ImageNet means, "
              "max diff %.3g (std 0 is no error here)%s", fit ? "stretch" : "crop", d, e.msg);
        p.mode = PRE_TF;
        rc = img_to_tensor(&im, &p, 2, 2, out, &e);
        CHECK(rc == 0 && fabs(out[0] - (10.0f / 127.5f - 1.0f)) < (fit ? 1e-7 : 1e-6) &&
                  fabs(out[8] - 1.0f) < 1e-6 && fabs(out[4] - (128.0f / 127.5f - 1.0f)) < 1e-6,
              "tf (%s): RGB scaled to [-1, 1]: %g %g %g%s", fit ? "stretch" : "crop", out[0],
              out[4], out[8], e.msg);
    }
}

/* img_format_of is the one test of "JPEG or PNG", the decoder's and the
 * directory listing's: a whole signature, never a part of one. */
static void test_format_of(void)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpg[4] = {0xff, 0xd8, 0xff, 0xe0};
    CHECK(img_format_of(jpg, 4) == IMG_JPEG && img_format_of(jpg, 3) == IMG_JPEG,
          "img_format_of: FF D8 FF is a JPEG");
    CHECK(img_format_of(png, 8) == IMG_PNG && sizeof png <= IMG_FORMAT_BYTES,
          "img_format_of: the 8-byte PNG signature is a PNG, within IMG_FORMAT_BYTES");
    CHECK(img_format_of(jpg, 2) == IMG_UNKNOWN && img_format_of(png, 7) == IMG_UNKNOWN &&
              img_format_of(png, 0) == IMG_UNKNOWN &&
              img_format_of((const unsigned char *)"GIF89a\1\0\1\0", 10) == IMG_UNKNOWN,
          "img_format_of: part of a signature, nothing, or a GIF is neither");
}

int main(void)
{
    test_format_of();
    test_decode();
    test_ycck();
    test_bad();
    test_every_cut("png_rgb8.png", 12);
    test_every_cut("png_rgb8_interlaced.png", 12);
    test_every_cut("jpg_baseline420.jpg", 0);
    test_every_cut("jpg_progressive.jpg", 0);
    test_corruption();
    test_tensor();
    test_tensor_flat(3, 2, 5000, 8, 8, 0);      /* huge upscale, crop only */
    test_tensor_flat(1000, 2, 1, 4, 4, 1);      /* 500x1 after resize: padded */
    test_tensor_flat(257, 1031, 64, 56, 48, 0); /* shrink by 4 */
    test_tensor_errors();
    test_tensor_speed();
    test_keras_stretch();
    test_keras_modes();
    test_exif();
    test_exif_bad_crc();
    test_scaled_png();
    test_draft_for();
    test_draft_stretch();
    test_png_metadata();
    test_max_pixels();
    test_scan_limit();
    return CHECK_DONE();
}
