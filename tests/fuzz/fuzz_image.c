/* fuzz_image.c -- bytes -> img_decode_for -> img_to_tensor, as classify runs them.
 *
 * The last 4 bytes also choose the preprocessing (resize 0..510, crop 1..48
 * by 1..48, torchvision/caffe/tf values, crop or stretch) and the
 * scaled-decoding target (0 = full decode, else 1..255):
 * both decoders ignore bytes after the end of the image, so the seeds stay
 * valid images.  A decode either gives a picture within the pixel limit or
 * one error line naming the file with nothing allocated; a tensor is either
 * all finite or an error.  The pixel limit is lowered to 1 megapixel so
 * that a forged header cannot make one input take seconds.
 * Seeds: tests/fuzz/seeds/image (every decoder path, EXIF orientations). */
#include "fuzz.h"

#include <math.h>

#include "image.h"
#include "preprocess.h"

#define FUZZ_MAX_PIXELS (1LL << 20)

static void fuzz_image(const uint8_t *data, size_t size)
{
    const uint8_t *p = size >= 4 ? data + size - 4 : (const uint8_t *)"\0\0\0\0";
    struct preprocess pre;
    memset(&pre, 0, sizeof pre);
    pre.resize = 2 * p[0];
    int out_h = 1 + (p[1] & 63) % 48, out_w = 1 + (p[2] & 127) % 48;
    pre.mode = (enum pre_mode)((p[1] >> 6) % 3);
    pre.fit = p[2] >> 7 ? PRE_FIT_STRETCH : PRE_FIT_CROP;
    pre.interp = (enum pre_interp)(p[3] % 3);
    /* the draft of the resize, or of another shorter side (p[3] / 3) */
    struct img_draft d = p[3] / 3 ? (struct img_draft){p[3] / 3, 0, 0} : img_draft_for(&pre, out_h, out_w);
    for (int c = 0; c < 3; c++) {
        pre.mean[c] = 0.5f;
        pre.std[c] = 0.25f;
    }

    img_set_max_pixels(FUZZ_MAX_PIXELS);
    struct image im;
    struct err e = {{0}};
    int rc = img_decode_for(data, size, "fuzz.img", &d, &im, &e);
    img_set_max_pixels(0);
    if (rc != 0) {
        FUZZ_PROMISE(rc == -1 && fuzz_one_line(e.msg, "fuzz.img") && !im.rgb && !im.w && !im.h,
                     "img_decode_for: %d \"%s\", %dx%d", rc, e.msg, im.w, im.h);
        return;
    }
    FUZZ_PROMISE(im.rgb && im.w > 0 && im.h > 0 && (long long)im.w * im.h <= FUZZ_MAX_PIXELS,
                 "decoded %dx%d", im.w, im.h);
    /* Touch every pixel, so a short buffer shows under ASan. */
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)im.w * im.h * 3; i++)
        sum += im.rgb[i];
    (void)sum;

    float *t = malloc((size_t)3 * out_h * out_w * sizeof *t);   /* [3][out_h][out_w] */
    if (t) {
        rc = img_to_tensor(&im, &pre, out_h, out_w, t, &e);
        if (rc == 0) {
            /* torchvision's values with mean 0.5, std 0.25 lie in [-2, 2];
             * caffe's (0..255 less the mean) and tf's ([-1, 1]) within 256. */
            float bound = pre.mode == PRE_TORCH ? 2.0f + 1e-3f : 256.0f;
            for (int i = 0; i < 3 * out_h * out_w; i++)
                FUZZ_PROMISE(isfinite(t[i]) && fabsf(t[i]) <= bound,
                             "tensor[%d] = %g from a %dx%d image, resize %d, crop %dx%d", i, t[i],
                             im.w, im.h, pre.resize, out_w, out_h);
        } else {
            FUZZ_PROMISE(rc == -1 && fuzz_one_line(e.msg, NULL), "img_to_tensor: %d \"%s\"", rc, e.msg);
        }
        free(t);
    }
    img_free(&im);
}

FUZZ_ENTRY(fuzz_image)
