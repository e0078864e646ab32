/* conv.h -- direct convolution over the channel-blocked layout (blk.h),
 * with BatchNorm already folded into its weights and bias, and the residual
 * add and ReLU done as it writes.
 *
 * conv_forward_c is the portable kernel, the specification; the SIMD ones
 * are entries of the kernel tables (kernels.h). */
#ifndef RESNET_CONV_H
#define RESNET_CONV_H

#include <stddef.h>

#include "blk.h"

/* How a SIMD kernel cuts a layer's work (conv_simd.inc); a 0 field is the
 * kernel's own choice.  No cut changes a result: every output's sums run
 * in the same order whichever is taken, so tune.h is free to measure which
 * is fastest on the machine at hand. */
struct conv_tiling {
    int ocb;     /* output blocks per register tile */
    int chunk;   /* input blocks per chunk, whose weights stay in L2 */
    int bands;   /* bands of output rows per image */
    int order;   /* CUT_BAND_MAJOR or CUT_GROUP_MAJOR: the items' order */
};
enum { CUT_BAND_MAJOR = 1, CUT_GROUP_MAJOR = 2 };

struct conv_args {
    struct blk in;      /* [n][cb(in_c)][in_h][in_w][16]; its halo covers the padding */
    struct blk out;     /* [n][cb(out_c)][out_h][out_w][16]; its halo is written as zeros */
    struct blk res;     /* res.p NULL, or shaped like out (any halo): added before the ReLU */
    const float *w;     /* [cb(out_c)][cb(in_c)][k][k][16 in][16 out], conv_pack's layout */
    const float *b;     /* [cb(out_c) * 16], zero past out_c */
    int n, k, stride;
    int pad_t, pad_l;   /* zero padding; bottom/right follow from out_h/out_w */
    int relu;
    struct conv_tiling tiling;   /* all 0: the kernel's own cut */
};

/* Floats of a packed weight array for out_c x in_c x k x k. */
size_t conv_packed_floats(int out_c, int in_c, int k);

/* dst (conv_packed_floats) = w [out_c][in_c][k][k] times scale[out_c], in
 * the order the kernels read it; lanes past in_c or out_c are zero. */
void conv_pack(float *dst, const float *w, const double *scale, int out_c, int in_c, int k);

void conv_forward_c(const struct conv_args *a);

/* conv_forward_c's work split, for bench --layers (kernels.h's conv_describe). */
void conv_describe_c(const struct conv_args *a, int threads, char *out, size_t len);

#endif
