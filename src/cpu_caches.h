/* cpu_caches.h -- the sizes of this CPU's caches, which the kernels block
 * their weights and inputs for (conv_simd.inc): read from the system, not
 * assumed from one model of CPU. */
#ifndef RESNET_CPU_CACHES_H
#define RESNET_CPU_CACHES_H

#include <stddef.h>

/* One core's L2 in bytes, and the L3 it shares with its neighbours: sysfs,
 * else sysconf; 1 MiB and 32 MiB when neither says. */
size_t cpu_l2_bytes(void);
size_t cpu_l3_bytes(void);

#endif
