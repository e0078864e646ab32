/* image.h -- photos in, network input tensors out.
 *
 * JPEG (libjpeg-turbo) and PNG (libpng) of every common flavour decode to
 * 8-bit RGB; a bad file is an error for that file only, never an exit.
 * img_to_tensor applies a struct preprocess: shorter side to `resize`
 * (separable bilinear, antialiased when shrinking, as torchvision's
 * resize(antialias=True) on float tensors), centre crop, /255, normalise. */
#ifndef RESNET_IMAGE_H
#define RESNET_IMAGE_H

#include <stddef.h>

#include "err.h"
#include "spec.h"

struct image {
    int w, h;
    unsigned char *rgb;   /* [h][w][3] */
};

/* Images whose header claims more pixels than the limit are refused before
 * any pixel buffer is allocated (decoded, every pixel costs 3 bytes; a
 * forged header can claim 4 G of them).  n <= 0 restores the default.  Set
 * it before decoding starts: the decoders only read it. */
#define IMG_DEFAULT_MAX_PIXELS 100000000LL
void img_set_max_pixels(long long n);
long long img_max_pixels(void);

/* Decode a whole file at full size, EXIF orientation applied (a photo taken
 * sideways comes out upright); the pixels are Pillow's
 * ImageOps.exif_transpose(Image.open(path)).convert('RGB'). */
int img_load(const char *path, struct image *im, struct err *e);

/* Decode for a network whose preprocessing shrinks the shorter side to
 * `min_short`: a JPEG is decoded by libjpeg-turbo at the smallest of 1/8,
 * 1/4, 1/2 or 1/1 of its size whose shorter side is still >= min_short
 * (never below it), which is up to ~10x faster and 64x smaller for a large
 * photo.  min_short 0 decodes at full size, like img_load. */
int img_load_for(const char *path, int min_short, struct image *im, struct err *e);

/* The min_short that preprocessing `p` to out_h x out_w needs: the resize
 * of the shorter side, the larger output side for a stretch (each axis then
 * shrinks on its own), 0 (full size) when nothing is resized. */
int img_min_short(const struct preprocess *p, int out_h, int out_w);

/* Decode from memory; `name` is used in error messages. */
int img_decode(const unsigned char *data, size_t size, const char *name,
               struct image *im, struct err *e);
int img_decode_for(const unsigned char *data, size_t size, const char *name, int min_short,
                   struct image *im, struct err *e);

void img_free(struct image *im);

/* dst: [3][out_h][out_w], channel-planar, normalised as p->mode says (RGB;
 * BGR for Keras's "caffe").  p->fit PRE_FIT_CROP is torchvision's resize and
 * centre crop, PRE_FIT_STRETCH Keras's load_img(target_size=(out_h, out_w)). */
int img_to_tensor(const struct image *im, const struct preprocess *p,
                  int out_h, int out_w, float *dst, struct err *e);

#endif
