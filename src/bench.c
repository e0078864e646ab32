/* bench.c -- the FP32 peak of this CPU, and the timing of forward passes.
 *
 * The peak loop is the best case of the conv kernels' inner loop: fused
 * multiply-adds on registers only, no loads, enough independent chains that
 * every FMA pipe starts one every cycle.  It is compiled per ISA with
 * target attributes, so this file builds with the default flags and runs
 * on any x86-64; the caller names the ISA whose peak it wants. */
#include "bench.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

/* OpenMP's wall clock (monotonic), in milliseconds. */
static double now_ms(void)
{
    return omp_get_wtime() * 1e3;
}

/* --- peak --- */

/* The kernels compute acc = acc * m + c.  m and c come from memory the
 * compiler cannot see through, so it can neither fold the chain nor drop it;
 * with m < 1 the accumulators settle near c / (1 - m), far from overflow and
 * denormals, which would slow the loop down. */
static volatile float peak_m = 0.999f, peak_c = 0.001f;
static volatile float peak_sink;

typedef float (*peak_kernel)(long iters, float m, float c);

#ifdef BENCH_X86
/* 16 chains: FMA latency (4 cycles on Zen 4/5 and Skylake-X) x 2 pipes
 * needs 8 in flight; 16 leaves room for slower parts and stays well inside
 * the 32 zmm registers. */
#define CHAINS16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                    X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define AVX512_FLOPS_PER_ITER (16 * 16 * 2)

__attribute__((target("avx512f")))
static float peak_avx512(long iters, float m, float c)
{
    const __m512 vm = _mm512_set1_ps(m), vc = _mm512_set1_ps(c);
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)(i));
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, vm, vc);
#define SUM(i) s = _mm512_add_ps(s, a##i);
    CHAINS16(DECL)
    for (long it = 0; it < iters; it++) {
        CHAINS16(STEP)
    }
    __m512 s = _mm512_setzero_ps();
    CHAINS16(SUM)
#undef DECL
#undef STEP
#undef SUM
    return _mm512_reduce_add_ps(s);
}

/* int8 multiply-adds (vpdpbusd: 64 per instruction, counted as 2 ops each)
 * in 16 chains, as the FMA loop; m and c only seed the operands. */
#define VNNI_OPS_PER_ITER (16 * 64 * 2)

__attribute__((target("avx512f,avx512vnni")))
static float peak_vnni(long iters, float m, float c)
{
    const __m512i x = _mm512_set1_epi32((int)(m * 100)), y = _mm512_set1_epi32((int)(c * 1000) | 1);
#define DECL(i) __m512i a##i = _mm512_set1_epi32(i);
#define STEP(i) a##i = _mm512_dpbusd_epi32(a##i, x, y);
#define SUM(i) s = _mm512_xor_si512(s, a##i);
    CHAINS16(DECL)
    for (long it = 0; it < iters; it++) {
        CHAINS16(STEP)
    }
    /* xor, not a sum: the wrapped int32 sums would overflow a C int */
    __m512i s = _mm512_setzero_si512();
    CHAINS16(SUM)
#undef DECL
#undef STEP
#undef SUM
    return (float)_mm_cvtsi128_si32(_mm512_castsi512_si128(s));
}

/* The same on AVX2 CPUs with AVX-VNNI: vpdpbusd on ymm (32 per
 * instruction), as assembly as in simd_avx2.h, in 12 chains (the VEX form
 * reaches only ymm0-15, and x and y take two). */
#define AVXVNNI_OPS_PER_ITER (12 * 32 * 2)

#define CHAINS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx2")))
static float peak_avxvnni(long iters, float m, float c)
{
    const __m256i x = _mm256_set1_epi32((int)(m * 100)), y = _mm256_set1_epi32((int)(c * 1000) | 1);
#define DECL(i) __m256i a##i = _mm256_set1_epi32(i);
#define STEP(i) __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(a##i) : "x"(x), "x"(y));
#define SUM(i) s = _mm256_xor_si256(s, a##i);
    CHAINS12(DECL)
    for (long it = 0; it < iters; it++) {
        CHAINS12(STEP)
    }
    __m256i s = _mm256_setzero_si256();   /* xor: the wrapped sums would overflow an int */
    CHAINS12(SUM)
#undef DECL
#undef STEP
#undef SUM
    return (float)_mm_cvtsi128_si32(_mm256_castsi256_si128(s));
}

/* bf16 multiply-adds (vdpbf16ps: 32 per instruction) in 16 chains; the
 * operands are small bf16 values that keep the sums finite. */
#define BF16_OPS_PER_ITER (16 * 32 * 2)

__attribute__((target("avx512f,avx512bf16")))
static float peak_bf16(long iters, float m, float c)
{
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f7f3f7f), y = (__m512bh)_mm512_set1_epi32(0x3a833a83);
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)(i) * m + c);
#define STEP(i) a##i = _mm512_dpbf16_ps(a##i, x, y);
#define SUM(i) s = _mm512_add_ps(s, a##i);
    CHAINS16(DECL)
    for (long it = 0; it < iters; it++) {
        CHAINS16(STEP)
    }
    __m512 s = _mm512_setzero_ps();
    CHAINS16(SUM)
#undef DECL
#undef STEP
#undef SUM
    return _mm512_reduce_add_ps(s);
}

/* 12 chains: latency 4-5 x 2 pipes needs 8-10 in flight, and 12 plus the
 * two constants fit the 16 ymm registers. */
#define CHAINS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define AVX2_FLOPS_PER_ITER (12 * 8 * 2)

__attribute__((target("avx2,fma")))
static float peak_avx2(long iters, float m, float c)
{
    const __m256 vm = _mm256_set1_ps(m), vc = _mm256_set1_ps(c);
#define DECL(i) __m256 a##i = _mm256_set1_ps((float)(i));
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, vm, vc);
#define SUM(i) s = _mm256_add_ps(s, a##i);
    CHAINS12(DECL)
    for (long it = 0; it < iters; it++) {
        CHAINS12(STEP)
    }
    __m256 s = _mm256_setzero_ps();
    CHAINS12(SUM)
#undef DECL
#undef STEP
#undef SUM
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}
#endif

/* Without FMA hardware a multiply and an add are two flops, as an FMA is. */
#define SCALAR_FLOPS_PER_ITER (8 * 2)

static float peak_scalar(long iters, float m, float c)
{
    float a0 = 0, a1 = 1, a2 = 2, a3 = 3, a4 = 4, a5 = 5, a6 = 6, a7 = 7;
    for (long it = 0; it < iters; it++) {
        a0 = a0 * m + c, a1 = a1 * m + c, a2 = a2 * m + c, a3 = a3 * m + c;
        a4 = a4 * m + c, a5 = a5 * m + c, a6 = a6 * m + c, a7 = a7 * m + c;
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

/* Wall ms for `threads` threads (0: the calling thread alone, no team) to
 * each run `iters` iterations. */
static double peak_run(peak_kernel k, long iters, int threads)
{
    const float m = peak_m, c = peak_c;
    float sink = 0;
    double t0 = now_ms();
    if (threads == 0) {
        sink = k(iters, m, c);
    } else {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += k(iters, m, c);
    }
    double ms = now_ms() - t0;
    peak_sink = sink;
    return ms;
}

void bench_peak(int threads, enum kernel_isa isa, int lowp, struct bench_peak *p)
{
    peak_kernel k = peak_scalar;
    double flops_per_iter = SCALAR_FLOPS_PER_ITER;
    p->isa = "scalar";
#ifdef BENCH_X86
    /* the caller's table runs here, so the CPU has its ISA */
    if (lowp == 8 && isa == ISA_AVX512 && __builtin_cpu_supports("avx512vnni")) {
        k = peak_vnni, flops_per_iter = VNNI_OPS_PER_ITER, p->isa = "avx512vnni";
    } else if (lowp == 8 && isa == ISA_AVX2 && __builtin_cpu_supports("avxvnni")) {
        k = peak_avxvnni, flops_per_iter = AVXVNNI_OPS_PER_ITER, p->isa = "avxvnni";
    } else if (lowp == 16 && isa == ISA_AVX512 && __builtin_cpu_supports("avx512bf16")) {
        k = peak_bf16, flops_per_iter = BF16_OPS_PER_ITER, p->isa = "avx512bf16";
    } else if (isa == ISA_AVX512) {
        k = peak_avx512, flops_per_iter = AVX512_FLOPS_PER_ITER, p->isa = "avx512";
    } else if (isa == ISA_AVX2) {
        k = peak_avx2, flops_per_iter = AVX2_FLOPS_PER_ITER, p->isa = "avx2";
    }
#else
    (void)isa;
#endif
    if (threads < 1)
        threads = 1;
    p->threads = threads;

    /* Size the loop to ~10 ms on the calling thread alone, which a busy
     * machine disturbs less than a team that waits for its slowest thread:
     * double it until a run takes 1 ms (this also wakes the vector units),
     * then scale. */
    long iters = 1 << 10;
    double ms;
    while ((ms = peak_run(k, iters, 0)) < 1.0 && iters < (1L << 40))
        iters *= 2;
    iters = (long)(iters * (10.0 / ms)) + 1;

    /* One run to start the team, then the best of five: another process
     * can only make a run slower. */
    peak_run(k, iters, threads);
    double best = 0;
    for (int r = 0; r < 5; r++) {
        ms = peak_run(k, iters, threads);
        double gflops = flops_per_iter * iters * threads / (ms * 1e6);
        if (gflops > best)
            best = gflops;
    }
    p->gflops = best;
}

/* --- forward-pass timing --- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of x[n]; sorts x. */
static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

int bench_forward(struct fwd *f, const float *in, int runs, double *layer_ms,
                  struct bench_times *t, struct err *e)
{
    if (runs < 1)
        return err_set(e, "bench: need at least one timed run");
    const int n_ops = fwd_op_count(f);
    double *ms = malloc((size_t)runs * sizeof *ms);
    double *op_ms = layer_ms ? calloc((size_t)runs * n_ops, sizeof *op_ms) : NULL; /* [runs][n_ops] */
    if (!ms || (layer_ms && !op_ms)) {
        free(ms), free(op_ms);
        return err_set(e, "bench: out of memory for %d runs", runs);
    }

    /* The first pass pages in the weights and buffers; the later ones let
     * the clocks and caches settle. */
    int warm = 0;
    double start = now_ms();
    do {
        fwd_run(f, in);
        warm++;
    } while (now_ms() - start < BENCH_WARMUP_MS);

    for (int r = 0; r < runs; r++) {
        if (op_ms)
            fwd_profile(f, op_ms + (size_t)r * n_ops);
        double t0 = now_ms();
        fwd_run(f, in);
        ms[r] = now_ms() - t0;
    }
    fwd_profile(f, NULL);

    t->ms_median = median(ms, runs);
    t->ms_min = ms[0];
    t->runs = runs;
    t->warmup = warm;
    /* Per op, the median of its column (ms is free again to sort it in). */
    for (int i = 0; op_ms && i < n_ops; i++) {
        for (int r = 0; r < runs; r++)
            ms[r] = op_ms[(size_t)r * n_ops + i];
        layer_ms[i] = median(ms, runs);
    }
    free(ms), free(op_ms);
    return 0;
}
