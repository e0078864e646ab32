/* cpu.h -- which vector instruction set the kernels use.
 *
 * The widest ISA the CPU supports is chosen at the first call, unless the
 * environment variable RESNET_ISA (avx512, avx2 or c) forces a narrower one;
 * tests switch ISAs within one process with cpu_set_isa. */
#ifndef RESNET_CPU_H
#define RESNET_CPU_H

enum cpu_isa {
    CPU_C,       /* portable C: the specification */
    CPU_AVX2,    /* AVX2 + FMA */
    CPU_AVX512,  /* AVX-512 F/BW/VL/DQ */
    CPU_N_ISA
};

/* The ISA in use. */
enum cpu_isa cpu_isa(void);

/* Whether this CPU (and this build) can run `isa`. */
int cpu_supports(enum cpu_isa isa);

/* Use `isa` from now on; -1 (and no change) if the CPU cannot run it. */
int cpu_set_isa(enum cpu_isa isa);

/* "c", "avx2", "avx512" */
const char *cpu_isa_name(enum cpu_isa isa);

#endif
