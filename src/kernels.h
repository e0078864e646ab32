/* kernels.h -- the table of kernel entry points, one table per instruction
 * set.
 *
 * The forward pass never names an ISA-specific function: fwd_plan takes a
 * table (cpu.c picks the widest this CPU runs), stores it, and each op keeps
 * the entry point it will call.  Each ISA's file (kernels_avx512.c,
 * kernels_avx2.c) defines its table and nothing else that is public; the
 * portable table lists the C kernels that specify them (conv.c, ops.c,
 * winograd.c, conv8.c).  A new ISA is one file and one row of kernels_for.
 * Kernels of other precisions are members of their own (int8: conv8, bf16:
 * conv16).
 *
 * Every kernel has the signature and the meaning of the portable one it
 * stands for; tests/test_conv.c and tests/test_winograd.c hold each table's
 * against it. */
#ifndef RESNET_KERNELS_H
#define RESNET_KERNELS_H

#include "conv.h"
#include "conv16.h"
#include "conv8.h"
#include "ops.h"
#include "winograd.h"

enum kernel_isa {
    ISA_C,        /* portable C: the specification */
    ISA_AVX2,     /* AVX2 + FMA */
    ISA_AVX512,   /* AVX-512 F/BW/VL/DQ */
    ISA_N
};

/* An instruction-set extension a member needs beyond its table's ISA (the
 * AVX-512 table's int8 kernel runs only where there is VNNI); cpu.c says
 * whether the CPU has it. */
enum isa_extra {
    EXTRA_NONE,
    EXTRA_AVX512VNNI,
    EXTRA_AVX512BF16,
    EXTRA_AVXVNNI,      /* the VEX-encoded vpdpbusd on ymm (AVX2 CPUs: Alder Lake, Zen 5) */
};

struct kernels {
    enum kernel_isa isa;
    const char *name;              /* "c", "avx2", "avx512": RESNET_ISA's values */

    /* conv_forward_c's contract, for the strides in conv_strides (bit s set:
     * stride s); fwd_plan gives other strides the portable kernel. */
    void (*conv)(const struct conv_args *a);
    unsigned conv_strides;
    /* How conv cuts a's work for `threads` threads, in a few words for
     * `bench --layers` ("tiles 4x7, chunks 2x32 in-blocks, items 8
     * band-major"); a's pointers are not used. */
    void (*conv_describe)(const struct conv_args *a, int threads, char *out, size_t len);
    /* The cuts worth timing for a's shape on `threads` threads (its own
     * choice first, then variations of one field each), at most max into
     * out; returns how many.  NULL: the kernel has one way (tune.h). */
    int (*conv_tilings)(const struct conv_args *a, int threads, struct conv_tiling *out, int max);

    /* ops_maxpool_c's contract */
    void (*maxpool)(const struct blk *in, const struct blk *out, int n, const struct pool_geo *g);

    /* wino_forward_c's contract */
    void (*wino)(const struct conv_args *a, const struct wino_plan *p, float *scratch);

    /* conv8_forward_c's contract, bit for bit, for the strides in
     * conv8_strides, on CPUs with conv8_needs; NULL where the table has no
     * int8 kernel (fwd_plan then gives int8 convolutions the portable one). */
    void (*conv8)(const struct conv8_args *a);
    unsigned conv8_strides;
    enum isa_extra conv8_needs;
    void (*conv8_describe)(const struct conv8_args *a, int threads, char *out, size_t len);
    /* conv8's contract, bit for bit, on CPUs without conv8_needs (the same
     * sums without VNNI); NULL: those get the portable kernel. */
    void (*conv8_plain)(const struct conv8_args *a);
    void (*conv8_plain_describe)(const struct conv8_args *a, int threads, char *out, size_t len);

    /* conv16_forward_c's contract, within conv16.h's bound (the order of
     * the fp32 sums), likewise for strides, CPU extension and fallback. */
    void (*conv16)(const struct conv16_args *a);
    unsigned conv16_strides;
    enum isa_extra conv16_needs;
    void (*conv16_describe)(const struct conv16_args *a, int threads, char *out, size_t len);
};

/* The tables, each defined in its own file: kernels.c (portable),
 * kernels_avx2.c, kernels_avx512.c.  Callers go through kernels_for. */
extern const struct kernels kernels_c, kernels_avx2, kernels_avx512;

/* The table of `isa`, or NULL when this build has none (an ISA file built
 * without its compiler flags, or an unknown isa).  Whether the CPU can run
 * it is cpu.c's question. */
const struct kernels *kernels_for(enum kernel_isa isa);

#endif
