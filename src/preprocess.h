/* preprocess.h -- decoded pixels in, network input tensors out.
 *
 * img_to_tensor applies a struct preprocess: shorter side to `resize` by
 * Pillow's resampling (as torchvision's Resize on a PIL image), centre
 * crop, /255, normalise; or Keras's load_img stretch to the input size.
 * A spec holds one struct preprocess (spec.h), but nothing here needs the
 * spec module. */
#ifndef RESNET_PREPROCESS_H
#define RESNET_PREPROCESS_H

#include "err.h"
#include "image.h"

/* How an image becomes the network's input tensor.
 *
 * fit PRE_FIT_CROP (torchvision, timm): shorter side resized to `resize`,
 * centre crop to the input size.  fit PRE_FIT_STRETCH (Keras's
 * load_img(target_size=...)): resized straight to the input size; no crop.
 * Either resize is Pillow's Image.resize with `interp`: PRE_BILINEAR and
 * PRE_BICUBIC (antialiased when shrinking, in 8-bit fixed point),
 * PRE_NEAREST.
 *
 * mode PRE_TORCH: value/255, then (x - mean) / std, RGB.
 * mode PRE_CAFFE (Keras "caffe"): BGR, value - [103.939, 116.779, 123.68].
 * mode PRE_TF (Keras "tf"): value / 127.5 - 1, RGB. */
enum pre_fit { PRE_FIT_CROP, PRE_FIT_STRETCH };
enum pre_mode { PRE_TORCH, PRE_CAFFE, PRE_TF };
enum pre_interp { PRE_BILINEAR, PRE_BICUBIC, PRE_NEAREST };

struct preprocess {
    int resize;      /* target of the shorter side, pixels (PRE_FIT_CROP) */
    float mean[3];   /* per RGB channel, on the 0..1 scale (PRE_TORCH) */
    float std[3];
    enum pre_mode mode;
    enum pre_fit fit;
    enum pre_interp interp;
    int full_decode;   /* 1: decode JPEGs at full size, never as Image.draft would */
};

/* What to tell img_load_for (image.h) so that a JPEG is decoded no larger
 * than preprocessing `p` to out_h x out_w needs, as Pillow's Image.draft
 * decodes it for that resize: the resize of the shorter side, or the
 * stretch's size; {0} (full size) when nothing is resized or
 * p->full_decode. */
struct img_draft img_draft_for(const struct preprocess *p, int out_h, int out_w);

/* The smallest and largest value img_to_tensor can write (over the three
 * channels): the normalisation of a 0 and of a full-scale pixel. */
void img_value_range(const struct preprocess *p, float *lo, float *hi);

/* dst: [3][out_h][out_w], channel-planar, normalised as p->mode says (RGB;
 * BGR for Keras's "caffe").  p->fit PRE_FIT_CROP is torchvision's resize and
 * centre crop, PRE_FIT_STRETCH Keras's load_img(target_size=(out_h, out_w)). */
int img_to_tensor(const struct image *im, const struct preprocess *p,
                  int out_h, int out_w, float *dst, struct err *e);

/* An image file's tensor, as classify makes it: decoded (img_load_for) as
 * img_draft_for allows, then img_to_tensor. */
int img_file_to_tensor(const char *path, const struct preprocess *p, int out_h, int out_w,
                       float *dst, struct err *e);

#endif
