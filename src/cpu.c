/* cpu.c -- run-time choice of the kernels' instruction set (see cpu.h). */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[CPU_N_ISA] = {"c", "avx2", "avx512"};

/* -1 until the first call decides; plain int reads are fine because the
 * decision is the same whichever thread makes it. */
static int active = -1;

int cpu_supports(enum cpu_isa isa)
{
    switch (isa) {
    case CPU_C:
        return 1;
#if defined(__x86_64__) && defined(__GNUC__)
    case CPU_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CPU_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

enum cpu_isa cpu_isa(void)
{
    if (active < 0) {
        int best = CPU_C;
        for (int i = CPU_N_ISA - 1; i > CPU_C && best == CPU_C; i--)
            if (cpu_supports((enum cpu_isa)i))
                best = i;
        /* RESNET_ISA can only narrow the choice: asking for an ISA the CPU
         * lacks would crash on the first instruction. */
        const char *env = getenv("RESNET_ISA");
        for (int i = 0; env && i < CPU_N_ISA; i++)
            if (!strcmp(env, names[i]) && i < best)
                best = i;
        active = best;
    }
    return (enum cpu_isa)active;
}

int cpu_set_isa(enum cpu_isa isa)
{
    if ((int)isa < 0 || isa >= CPU_N_ISA || !cpu_supports(isa))
        return -1;
    active = isa;
    return 0;
}

const char *cpu_isa_name(enum cpu_isa isa)
{
    return (int)isa >= 0 && isa < CPU_N_ISA ? names[isa] : "?";
}
