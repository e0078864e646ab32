/* kernels_avx2.c -- the AVX2 + FMA kernel table: the blocked convolution
 * (conv_simd.inc), the max pool (pool_simd.inc) and the Winograd
 * convolution (winograd_simd.inc) over simd_avx2.h, a channel block being
 * two ymm halves, tiles of 1 block x 6 pixels (12 of the 16 registers
 * accumulate), and the int8 convolution (conv8_simd.inc): with AVX-VNNI
 * where the CPU has it (as assembly: the file is built without -mavxvnni,
 * so nothing else uses it), else by vpmaddwd.  Built with -mavx2 -mfma;
 * cpu.c hands the table out only when the CPU has the instructions. */
#include "kernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#include "simd_avx2.h"
#include "conv_simd.inc"
#include "pool_simd.inc"
#include "winograd_simd.inc"
#include "conv8_simd.inc"

const struct kernels kernels_avx2 = {
    .isa = ISA_AVX2,
    .name = "avx2",
    .conv = conv_simd,
    .conv_strides = CONV_SIMD_STRIDES,
    .conv_describe = conv_simd_describe,
    .conv_tilings = conv_simd_tilings,
    .maxpool = maxpool_simd,
    .wino = wino_simd,
    .conv8 = conv8_simd,
    .conv8_strides = CONV8_SIMD_STRIDES,
    .conv8_needs = EXTRA_AVXVNNI,
    .conv8_describe = conv8_simd_describe,
    .conv8_plain = conv8_plain,
    .conv8_plain_describe = conv8_plain_describe,
};
#else
/* a compiler without the flags: no entry points, so kernels_for has no table */
const struct kernels kernels_avx2 = {.isa = ISA_AVX2, .name = "avx2"};
#endif
