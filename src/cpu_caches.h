/* cpu_caches.h -- the sizes of this CPU's caches, which the kernels block
 * their weights and inputs for (conv_simd.inc): read from the system, not
 * assumed from one model of CPU. */
#ifndef RESNET_CPU_CACHES_H
#define RESNET_CPU_CACHES_H

#include <stddef.h>

/* One core's L2 in bytes: sysconf, else sysfs; 1 MiB when neither says. */
size_t cpu_l2_bytes(void);

#endif
