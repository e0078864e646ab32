/* cpu.c -- run-time choice of the kernel table (see cpu.h). */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

int cpu_supports(enum kernel_isa isa)
{
    switch (isa) {
    case ISA_C:
        return 1;
#if defined(__x86_64__) && defined(__GNUC__)
    case ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

int cpu_has_extra(enum isa_extra x)
{
    switch (x) {
    case EXTRA_NONE:
        return 1;
#if defined(__x86_64__) && defined(__GNUC__)
    case EXTRA_AVX512VNNI:
        return __builtin_cpu_supports("avx512vnni");
    case EXTRA_AVX512BF16:
        return __builtin_cpu_supports("avx512bf16");
    case EXTRA_AVXVNNI:
        return __builtin_cpu_supports("avxvnni");
#endif
    default:
        return 0;
    }
}

int cpu_kernel_tables(const struct kernels *out[ISA_N])
{
    int n = 0;
    for (int i = ISA_N - 1; i >= 0; i--) {
        const struct kernels *k = kernels_for((enum kernel_isa)i);
        if (k && cpu_supports((enum kernel_isa)i))
            out[n++] = k;
    }
    return n;
}

const struct kernels *cpu_kernels(void)
{
    const struct kernels *t[ISA_N];
    const int n = cpu_kernel_tables(t);
    const char *env = getenv("RESNET_ISA");
    for (int i = 0; env && i < n; i++)
        if (!strcmp(env, t[i]->name))
            return t[i];
    return t[0];
}
