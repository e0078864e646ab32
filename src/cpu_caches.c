/* cpu_caches.c -- the sizes of this CPU's caches (see cpu_caches.h). */
#include "cpu_caches.h"

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

size_t cpu_l2_bytes(void)
{
    static _Atomic size_t known;   /* read once per process */
    size_t bytes = atomic_load_explicit(&known, memory_order_relaxed);
    if (bytes)
        return bytes;
    long n = -1;
#ifdef _SC_LEVEL2_CACHE_SIZE
    n = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    FILE *f = n > 0 ? NULL : fopen("/sys/devices/system/cpu/cpu0/cache/index2/size", "r");
    if (f) {
        char unit = 0;
        if (fscanf(f, "%ld%c", &n, &unit) >= 1)
            n *= unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : 1;
        fclose(f);
    }
    bytes = n >= 64 * 1024 && n <= 64L * 1024 * 1024 ? (size_t)n : 1024 * 1024;
    atomic_store_explicit(&known, bytes, memory_order_relaxed);
    return bytes;
}
