/* items.h -- a layer's work as numbered items shared by the threads of one
 * parallel region.
 *
 * Each thread owns an even, contiguous share of the items (a kernel numbers
 * them so that consecutive ones share weights or input rows) and takes them
 * in order; a thread that is done takes what is left of the others' shares,
 * so a thread the OS preempted does not hold the whole layer up. */
#ifndef RESNET_ITEMS_H
#define RESNET_ITEMS_H

#include <omp.h>
#include <stdatomic.h>

static inline void items_run(int items, void (*run)(const void *ctx, int item), const void *ctx)
{
    const int nt = omp_get_max_threads();
    atomic_int next[nt];
    int end[nt];
    for (int t = 0; t < nt; t++) {
        atomic_init(&next[t], (int)((long)items * t / nt));
        end[t] = (int)((long)items * (t + 1) / nt);
    }
#pragma omp parallel
    {
        const int me = omp_get_thread_num();
        for (int v = 0; v < nt; v++) {
            const int owner = (me + v) % nt;
            for (int item; (item = atomic_fetch_add(&next[owner], 1)) < end[owner];)
                run(ctx, item);
        }
    }
}

#endif
