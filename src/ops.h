/* ops.h -- the cheap layers around the convolutions: max pool, global
 * average pool, fully connected, softmax, and the element-wise ones that
 * could not be fused into a convolution. All tensors are NCHW. */
#ifndef RESNET_OPS_H
#define RESNET_OPS_H

#include <stddef.h>

/* Max over k x k windows; padded positions count as zeros (Keras's
 * ZeroPadding2D + MaxPooling2D).  in [n][c][in_h][in_w] -> out [n][c][out_h][out_w] */
void ops_maxpool(const float *in, float *out, int n, int c, int in_h, int in_w,
                 int out_h, int out_w, int k, int stride, int pad_t, int pad_l);

/* in [n][c][h][w] -> out [n][c] */
void ops_global_avgpool(const float *in, float *out, int n, int c, int h, int w);

/* in [n][in_c], w [out_c][in_c], b [out_c] -> out [n][out_c] */
void ops_dense(const float *in, float *out, const float *w, const float *b,
               int n, int in_c, int out_c);

/* In place over rows of `classes`; stable for large logits. */
void ops_softmax(float *x, int n, int classes);

/* out = x * scale[c] + shift[c] (an unfused BatchNorm), then ReLU if asked. */
void ops_affine(const float *in, float *out, const float *scale, const float *shift,
                int n, int c, size_t plane, int relu);

/* out = a + b, then ReLU if asked. */
void ops_add(const float *a, const float *b, float *out, size_t count, int relu);

/* out = max(in, 0) */
void ops_relu(const float *in, float *out, size_t count);

#endif
