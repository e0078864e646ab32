/* bench.h -- measuring the forward pass and what the CPU could do.
 *
 * `resnet bench` reports its speed as a share of this machine's FP32 peak,
 * so the peak is measured here rather than looked up: a short loop of
 * independent FMAs on every thread, in the widest vector ISA the CPU has.
 * The forward-pass timing follows the same recipe as the peer scripts in
 * bench/ (warm-up, then the median and minimum of the timed runs), so the
 * numbers compare. */
#ifndef RESNET_BENCH_H
#define RESNET_BENCH_H

#include "err.h"
#include "forward.h"
#include "kernels.h"

struct bench_peak {
    double gflops;      /* FP32 GFLOP/s, an FMA counted as 2 (int8: GOP/s, bf16 GFLOP/s) */
    const char *isa;    /* "avx512", "avx2", "scalar", "avx512vnni" (int8) or
                         * "avx512bf16" (bf16) */
    int threads;
};

/* Measure the FP32 peak of `isa`'s vector unit on `threads` threads (a few
 * tens of ms): the ISA of the kernels being timed, so that a run forced to
 * AVX2 on an AVX-512 CPU is compared with what AVX2 can do.  ISA_C gets the
 * scalar loop.  lowp 8 (int8), where the int8 kernels use VNNI: the int8
 * multiply-add peak instead (vpdpbusd, 2 ops per multiply-add); lowp 16
 * (bf16) where they use AVX512-BF16: vdpbf16ps's. */
void bench_peak(int threads, enum kernel_isa isa, int lowp, struct bench_peak *p);

struct bench_times {
    double ms_median, ms_min;   /* per forward pass (one batch) */
    int runs;                   /* timed runs */
    int warmup;                 /* untimed runs before them */
};

/* Warm up, then time `runs` forward passes of f on `in` ([batch][c][h][w]).
 * Warm-up runs until at least one pass and BENCH_WARMUP_MS have gone by, so
 * a fast net also reaches steady clocks and caches.  When layer_ms is set
 * ([fwd_op_count(f)]), it receives each op's median ms over the timed runs
 * (timing an op costs two clock reads, little next to any op).  Fails
 * only when out of memory. */
#define BENCH_WARMUP_MS 200.0
int bench_forward(struct fwd *f, const float *in, int runs, double *layer_ms,
                  struct bench_times *t, struct err *e);

#endif
