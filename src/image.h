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

int img_load(const char *path, struct image *im, struct err *e);

/* Decode from memory; `name` is used in error messages. */
int img_decode(const unsigned char *data, size_t size, const char *name,
               struct image *im, struct err *e);

void img_free(struct image *im);

/* dst: [3][out_h][out_w], channel-planar RGB, normalised. */
int img_to_tensor(const struct image *im, const struct preprocess *p,
                  int out_h, int out_w, float *dst, struct err *e);

#endif
