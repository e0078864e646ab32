/* cpu.h -- which kernel table (kernels.h) this CPU runs.
 *
 * The widest table the CPU and the build support is chosen, unless the
 * environment variable RESNET_ISA (avx512, avx2 or c) names a narrower
 * one.  Only the layers that pick the kernels (the forward plan, and the
 * tests that hold every table against the portable one) ask. */
#ifndef RESNET_CPU_H
#define RESNET_CPU_H

#include "kernels.h"

/* Whether this CPU can run the instructions of `isa`. */
int cpu_supports(enum kernel_isa isa);

/* Whether this CPU has the extension (EXTRA_NONE: yes). */
int cpu_has_extra(enum isa_extra x);

/* The tables this CPU and build can run, widest first, into out[ISA_N];
 * returns how many (at least 1: the portable one). */
int cpu_kernel_tables(const struct kernels *out[ISA_N]);

/* The table to use: the widest of cpu_kernel_tables, narrowed by RESNET_ISA
 * (a name of an ISA the CPU lacks, or no ISA at all, changes nothing:
 * asking for more than the CPU has would crash on the first instruction). */
const struct kernels *cpu_kernels(void);

#endif
