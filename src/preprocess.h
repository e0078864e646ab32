/* preprocess.h -- decoded pixels in, network input tensors out.
 *
 * img_to_tensor applies a struct preprocess: shorter side to `resize`
 * (separable bilinear, antialiased when shrinking, as torchvision's
 * resize(antialias=True) on float tensors), centre crop, /255, normalise;
 * or Keras's stretch to the input size.  A spec holds one struct
 * preprocess (spec.h), but nothing here needs the spec module. */
#ifndef RESNET_PREPROCESS_H
#define RESNET_PREPROCESS_H

#include "err.h"

struct image;   /* image.h */

/* How an image becomes the network's input tensor.
 *
 * fit PRE_FIT_CROP (torchvision): shorter side resized to `resize`
 * (bilinear, antialiased when shrinking), centre crop to the input size.
 * fit PRE_FIT_STRETCH (Keras's load_img(target_size=...)): nearest-neighbour
 * resize straight to the input size, as Pillow does it; no crop.
 *
 * mode PRE_TORCH: value/255, then (x - mean) / std, RGB.
 * mode PRE_CAFFE (Keras "caffe"): BGR, value - [103.939, 116.779, 123.68].
 * mode PRE_TF (Keras "tf"): value / 127.5 - 1, RGB. */
enum pre_fit { PRE_FIT_CROP, PRE_FIT_STRETCH };
enum pre_mode { PRE_TORCH, PRE_CAFFE, PRE_TF };

struct preprocess {
    int resize;      /* target of the shorter side, pixels (PRE_FIT_CROP) */
    float mean[3];   /* per RGB channel, on the 0..1 scale (PRE_TORCH) */
    float std[3];
    enum pre_mode mode;
    enum pre_fit fit;
};

/* The min_short that preprocessing `p` to out_h x out_w needs: the resize
 * of the shorter side, the larger output side for a stretch (each axis then
 * shrinks on its own), 0 (full size) when nothing is resized. */
int img_min_short(const struct preprocess *p, int out_h, int out_w);

/* The smallest and largest value img_to_tensor can write (over the three
 * channels): the normalisation of a 0 and of a full-scale pixel. */
void img_value_range(const struct preprocess *p, float *lo, float *hi);

/* dst: [3][out_h][out_w], channel-planar, normalised as p->mode says (RGB;
 * BGR for Keras's "caffe").  p->fit PRE_FIT_CROP is torchvision's resize and
 * centre crop, PRE_FIT_STRETCH Keras's load_img(target_size=(out_h, out_w)). */
int img_to_tensor(const struct image *im, const struct preprocess *p,
                  int out_h, int out_w, float *dst, struct err *e);

/* An image file's tensor, as classify makes it: decoded (img_load_for) no
 * larger than img_min_short allows, then img_to_tensor. */
int img_file_to_tensor(const char *path, const struct preprocess *p, int out_h, int out_w,
                       float *dst, struct err *e);

#endif
