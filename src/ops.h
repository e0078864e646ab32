/* ops.h -- the cheap layers around the convolutions, over the blocked
 * layout of blk.h: layout conversion, max pool, global average pool, fully
 * connected, softmax, and the element-wise ones that could not be fused into
 * a convolution.  A vector (the output of a pool or a dense layer) is a
 * blocked tensor of 1 x 1 pixels.  Every op writes its output's halo. */
#ifndef RESNET_OPS_H
#define RESNET_OPS_H

#include <stddef.h>

#include "blk.h"

/* in [n][out->c][out->h][out->w] (planar, as img_to_tensor makes it) -> out */
void ops_from_planar(const float *in, const struct blk *out, int n);

/* in -> out [n][in->c][in->h][in->w] (planar) */
void ops_to_planar(const struct blk *in, float *out, int n);

/* A pooling window: output pixel (oy, ox) covers input rows oy*stride - pad_t
 * + [0, k) and columns likewise.  Cells of the input or of its zero padding
 * (rows [-zero_t, h + zero_b), columns [-zero_l, w + zero_r): a Keras
 * ZeroPadding2D, provided by the input's zero halo) take part, zeros
 * included; cells beyond, the pool's own padding (torch's pool padding, TF's
 * 'same'), do not: they never win a max and are left out of a mean. */
struct pool_geo {
    int k, stride, pad_t, pad_l;
    int zero_t, zero_b, zero_l, zero_r;
};

/* The portable max pool; the SIMD ones are entries of the kernel tables
 * (kernels.h). */
void ops_maxpool_c(const struct blk *in, const struct blk *out, int n, const struct pool_geo *g);
void ops_avgpool(const struct blk *in, const struct blk *out, int n, const struct pool_geo *g);

/* in [n][c][h][w] -> out [n][h * w * c] (1 x 1 pixels), Keras's Flatten of
 * NHWC: feature (y * w + x) * c + channel. */
void ops_flatten(const struct blk *in, const struct blk *out, int n);

/* in [n][c][h][w] -> out [n][c] (1 x 1 pixels) */
void ops_global_avgpool(const struct blk *in, const struct blk *out, int n);

/* Floats of a dense layer's packed weights. */
size_t ops_dense_floats(int out_c, int in_c);

/* dst [ceil(out_c/64)][in_c][64] = w [out_c][in_c] transposed in slabs of
 * 64 outputs, zero past out_c: a row of a slab is what one input value
 * multiplies. */
void ops_dense_pack(float *dst, const float *w, int out_c, int in_c);

/* in [n][in_c] (1 x 1) -> out [n][out_c] (1 x 1); w from ops_dense_pack,
 * b [cb(out_c)*16] or NULL; ReLU if asked. */
void ops_dense(const struct blk *in, const struct blk *out, const float *w, const float *b,
               int n, int relu);

/* In place over rows of `classes` (planar [n][classes]); stable for large logits. */
void ops_softmax(float *x, int n, int classes);

/* out = in * scale + shift per channel (an unfused BatchNorm), then ReLU if
 * asked; scale and shift [cb*16], zero past c so the spare lanes stay 0. */
void ops_affine(const struct blk *in, const struct blk *out, const float *scale,
                const float *shift, int n, int relu);

/* out = a + b, then ReLU if asked (any halos). */
void ops_add(const struct blk *a, const struct blk *b, const struct blk *out, int n, int relu);

/* out = max(in, 0) */
void ops_relu(const struct blk *in, const struct blk *out, int n);

#endif
