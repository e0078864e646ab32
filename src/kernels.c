/* kernels.c -- the portable kernel table, and the lookup of every ISA's
 * (see kernels.h). */
#include "kernels.h"

const struct kernels kernels_c = {
    .isa = ISA_C,
    .name = "c",
    .conv = conv_forward_c,
    .conv_strides = ~0u,   /* any stride */
    .conv_describe = conv_describe_c,
    .maxpool = ops_maxpool_c,
    .wino = wino_forward_c,
    .conv8 = conv8_forward_c,
    .conv8_strides = ~0u,
    .conv8_needs = EXTRA_NONE,
    .conv8_describe = conv8_describe_c,
    .conv16 = conv16_forward_c,
    .conv16_strides = ~0u,
    .conv16_needs = EXTRA_NONE,
    .conv16_describe = conv16_describe_c,
};

const struct kernels *kernels_for(enum kernel_isa isa)
{
    static const struct kernels *const table[ISA_N] = {
        [ISA_C] = &kernels_c, [ISA_AVX2] = &kernels_avx2, [ISA_AVX512] = &kernels_avx512};
    /* an ISA file compiled without its flags has a table with no entry points */
    return (int)isa >= 0 && isa < ISA_N && table[isa]->conv ? table[isa] : NULL;
}
