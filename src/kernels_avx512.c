/* kernels_avx512.c -- the AVX-512 kernel table: the blocked convolution
 * (conv_simd.inc), the max pool (pool_simd.inc) and the Winograd
 * convolution (winograd_simd.inc) over simd_avx512.h, one zmm per channel
 * block, tiles of up to 4 blocks x 7 pixels or 3 blocks x 8 pixels (28 or
 * 24 accumulators of the 32 registers).  Built with -mavx512f...; cpu.c
 * hands the table out only when the CPU has the instructions. */
#include "kernels.h"

#ifdef __AVX512F__
#include "simd_avx512.h"
#include "conv_simd.inc"
#include "pool_simd.inc"
#include "winograd_simd.inc"

const struct kernels kernels_avx512 = {
    .isa = ISA_AVX512,
    .name = "avx512",
    .conv = conv_simd,
    .conv_strides = CONV_SIMD_STRIDES,
    .conv_describe = conv_simd_describe,
    .maxpool = maxpool_simd,
    .wino = wino_simd,
};
#else
/* a compiler without the flags: no entry points, so kernels_for has no table */
const struct kernels kernels_avx512 = {.isa = ISA_AVX512, .name = "avx512"};
#endif
