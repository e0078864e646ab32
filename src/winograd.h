/* winograd.h -- 3x3 stride-1 convolution by Winograd's F(4x4, 3x3), an
 * opt-in alternative to conv_forward over the same arguments (conv.h): the
 * same blocked layout, bias, residual add, ReLU and zero-halo writes.
 *
 * Each 4x4 block of output pixels (a "tile") comes from the 6x6 input
 * pixels under it (Lavin & Gray, 2015):
 *     V = B^T d B             per input channel (the input transform)
 *     M = sum_ic U .* V       U = G g G^T, the filter transformed once at load
 *     Y = A^T M A             (the output transform)
 * The sum over input channels is, for each of the 36 positions of a
 * transformed tile, a matrix product [tiles x in_c] x [in_c x out_c]:
 * 36 multiply-adds per 16 outputs where the direct convolution does 144.
 * The price is rounding: the transforms scale values by up to 8 and 1/24,
 * so results differ from the direct path by a few 1e-6 relative to the
 * outputs' scale instead of 1e-7 (tests/test_winograd.c measures it).
 *
 * A layer is cut into items of a group of tiles (across the batch) and a
 * chunk of output blocks; each thread transforms its group's input into
 * scratch planned at fwd_plan, multiplies, and writes its outputs. */
#ifndef RESNET_WINOGRAD_H
#define RESNET_WINOGRAD_H

#include <stddef.h>

#include "conv.h"

#define WINO_M 4                    /* output pixels per tile side */
#define WINO_A (WINO_M + 2)         /* input pixels per tile side */
#define WINO_POS (WINO_A * WINO_A)  /* positions of a transformed tile */
#define WINO_OCB 4                  /* output blocks the SIMD kernels multiply at once, at most */
#define WINO_MIN_PIXELS 128         /* output pixels over the batch below which the
                                     * transformed weights cost more than they save */

/* How one layer's work is cut, and the scratch that needs; from wino_plan. */
struct wino_plan {
    int tiles_h, tiles_w;   /* tiles per image: ceil(out / 4) */
    int tiles;              /* of the whole batch, numbered (image, row, column) */
    int group, groups;      /* tiles per item; groups of them */
    int ocb_chunk, chunks;  /* output blocks per item; chunks of them */
    int items;              /* groups x chunks */
    int threads;            /* the parallel region the scratch is planned for */
    size_t scratch_floats;  /* per thread: V [36][cb(in_c)][group][16] then
                             * M [36][WINO_OCB][group][16] */
};

/* Whether the convolution is one Winograd computes: 3x3, stride 1. */
int wino_applies(int k, int stride);

/* Cut a layer of a's shapes (a->in, a->out, a->n; no pointers needed) for
 * `threads` threads.  Returns 1 when Winograd is expected to beat the
 * direct kernels on it, else 0 (the plan is still valid). */
int wino_plan(const struct conv_args *a, int threads, struct wino_plan *p);

/* Floats of transformed weights U for out_c x in_c 3x3 filters. */
size_t wino_packed_floats(int out_c, int in_c);

/* dst (wino_packed_floats) = U = G (w [out_c][in_c][3][3] * scale[out_c]) G^T
 * computed in double, as [36 pos][cb(out_c)][cb(in_c)][16 in][16 out]; lanes
 * past in_c or out_c are zero. */
void wino_pack(float *dst, const float *w, const double *scale, int out_c, int in_c);

/* conv_forward_c's result by Winograd, portable C (the specification; the
 * SIMD ones are entries of the kernel tables, kernels.h): a->w holds
 * wino_pack's U, a->k 3, a->stride 1; scratch holds p->threads x
 * p->scratch_floats floats. */
void wino_forward_c(const struct conv_args *a, const struct wino_plan *p, float *scratch);

#endif
