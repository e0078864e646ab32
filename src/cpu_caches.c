/* cpu_caches.c -- the sizes of this CPU's caches (see cpu_caches.h). */
#include "cpu_caches.h"

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

/* sysfs's cache `index` of cpu0 (on x86: 2 is the L2, 3 the L3), which is
 * what one core sees: sysconf may give a whole socket's L3, the sum over
 * chiplets that each see only their own. */
static long sysfs_bytes(int index)
{
    char path[64];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
    FILE *f = fopen(path, "r");
    long n = -1;
    if (f) {
        char unit = 0;
        if (fscanf(f, "%ld%c", &n, &unit) >= 1)
            n *= unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : 1;
        fclose(f);
    }
    return n;
}

static size_t cache_bytes(_Atomic size_t *known, int index, int sysconf_name, size_t fallback)
{
    size_t bytes = atomic_load_explicit(known, memory_order_relaxed);
    if (bytes)
        return bytes;
    long n = sysfs_bytes(index);
    if (n <= 0 && sysconf_name >= 0)
        n = sysconf(sysconf_name);
    bytes = n >= 64 * 1024 && n <= 4096L * 1024 * 1024 ? (size_t)n : fallback;
    atomic_store_explicit(known, bytes, memory_order_relaxed);
    return bytes;
}

#ifndef _SC_LEVEL2_CACHE_SIZE
#define _SC_LEVEL2_CACHE_SIZE -1
#define _SC_LEVEL3_CACHE_SIZE -1
#endif

size_t cpu_l2_bytes(void)
{
    static _Atomic size_t known;   /* read once per process */
    return cache_bytes(&known, 2, _SC_LEVEL2_CACHE_SIZE, 1024 * 1024);
}

size_t cpu_l3_bytes(void)
{
    static _Atomic size_t known;
    return cache_bytes(&known, 3, _SC_LEVEL3_CACHE_SIZE, 32 * 1024 * 1024);
}
