/* conv_avx512.c -- the blocked convolution and max pool (conv_simd.inc) and
 * the Winograd convolution (winograd_simd.inc) on AVX-512: one zmm per
 * channel block, tiles of up to 4 blocks x 7 pixels or 3 blocks x 8 pixels
 * (28 or 24 accumulators of the 32 registers).
 * Built with -mavx512f...; only called when cpu.c found the CPU has it. */
#include "conv.h"
#include "ops.h"
#include "winograd.h"

#ifdef __AVX512F__
#include "simd_avx512.h"
#define CONV_ENTRY conv_forward_avx512
#define MAXPOOL_ENTRY ops_maxpool_avx512
#include "conv_simd.inc"
#define WINO_ENTRY wino_forward_avx512
#include "winograd_simd.inc"
#else
/* a compiler without the flags: cpu_supports() never picks this path */
void conv_forward_avx512(const struct conv_args *a) { conv_forward_c(a); }
void ops_maxpool_avx512(const struct blk *in, const struct blk *out, int n,
                        const struct pool_geo *g)
{
    ops_maxpool_c(in, out, n, g);
}
void wino_forward_avx512(const struct conv_args *a, const struct wino_plan *p, float *scratch)
{
    wino_forward_c(a, p, scratch);
}
#endif
