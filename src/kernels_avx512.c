/* kernels_avx512.c -- the AVX-512 kernel table: the blocked convolution
 * (conv_simd.inc), the max pool (pool_simd.inc) and the Winograd
 * convolution (winograd_simd.inc) over simd_avx512.h, one zmm per channel
 * block, tiles of up to 4 blocks x 7 pixels or 3 blocks x 8 pixels (28 or
 * 24 accumulators of the 32 registers), and the int8 convolution
 * (conv8_simd.inc) with VNNI, the bf16 one (conv16_simd.inc) with
 * AVX512-BF16.  Built with -mavx512f... -mavx512vnni -mavx512bf16; cpu.c
 * hands the table out only when the CPU has AVX-512, and fwd_plan the int8
 * and bf16 kernels only when it also has VNNI or BF16 (the fp32 kernels use
 * neither). */
#include "kernels.h"

#ifdef __AVX512F__
#include "simd_avx512.h"
#include "conv_simd.inc"
#include "pool_simd.inc"
#include "winograd_simd.inc"
#if defined __AVX512VNNI__ && defined __AVX512BF16__
#include "conv8_simd.inc"
#include "conv16_simd.inc"
#endif

const struct kernels kernels_avx512 = {
    .isa = ISA_AVX512,
    .name = "avx512",
    .conv = conv_simd,
    .conv_strides = CONV_SIMD_STRIDES,
    .conv_describe = conv_simd_describe,
    .conv_tilings = conv_simd_tilings,
    .maxpool = maxpool_simd,
    .wino = wino_simd,
#if defined __AVX512VNNI__ && defined __AVX512BF16__
    .conv8 = conv8_simd,
    .conv8_strides = CONV8_SIMD_STRIDES,
    .conv8_needs = EXTRA_AVX512VNNI,
    .conv8_describe = conv8_simd_describe,
    .conv8_plain = conv8_plain,
    .conv8_plain_describe = conv8_plain_describe,
    .conv16 = conv16_simd,
    .conv16_strides = CONV16_SIMD_STRIDES,
    .conv16_needs = EXTRA_AVX512BF16,
    .conv16_describe = conv16_simd_describe,
#endif
};
#else
/* a compiler without the flags: no entry points, so kernels_for has no table */
const struct kernels kernels_avx512 = {.isa = ISA_AVX512, .name = "avx512"};
#endif
