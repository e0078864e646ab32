/* conv_avx2.c -- the blocked convolution and max pool (conv_simd.inc) and
 * the Winograd convolution (winograd_simd.inc) on AVX2 + FMA:
 * a channel block is two ymm halves, tiles of 1 block x 6 pixels (12 of the
 * 16 registers accumulate).  Built with -mavx2 -mfma; only called when
 * cpu.c found the CPU has them. */
#include "conv.h"
#include "ops.h"
#include "winograd.h"

#if defined(__AVX2__) && defined(__FMA__)
#include "simd_avx2.h"
#define CONV_ENTRY conv_forward_avx2
#define MAXPOOL_ENTRY ops_maxpool_avx2
#include "conv_simd.inc"
#define WINO_ENTRY wino_forward_avx2
#include "winograd_simd.inc"
#else
void conv_forward_avx2(const struct conv_args *a) { conv_forward_c(a); }
void ops_maxpool_avx2(const struct blk *in, const struct blk *out, int n, const struct pool_geo *g)
{
    ops_maxpool_c(in, out, n, g);
}
void wino_forward_avx2(const struct conv_args *a, const struct wino_plan *p, float *scratch)
{
    wino_forward_c(a, p, scratch);
}
#endif
