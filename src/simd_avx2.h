/* simd_avx2.h -- the vector operations the blocked kernels need, AVX2 + FMA.
 *
 * A v16 (one channel block of one pixel) is two ymm halves; a broadcast
 * input channel is one ymm used by both.  16 ymm registers: 6 pixels x 1
 * block is 12 accumulators, plus two weight halves and a broadcast. */
#ifndef RESNET_SIMD_AVX2_H
#define RESNET_SIMD_AVX2_H

#include <immintrin.h>

typedef struct {
    __m256 lo, hi;
} v16;
typedef __m256 vb;

#define SIMD_ACC 6
#define SIMD_OCB 1
#define SIMD_URW 6

static inline v16 v_load(const float *p)
{
    v16 r = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
    return r;
}
static inline void v_store(float *p, v16 v)
{
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
}
static inline vb v_bcast(const float *p) { return _mm256_broadcast_ss(p); }
static inline v16 v_fma(v16 w, vb x, v16 acc)
{
    acc.lo = _mm256_fmadd_ps(w.lo, x, acc.lo);
    acc.hi = _mm256_fmadd_ps(w.hi, x, acc.hi);
    return acc;
}
static inline v16 v_add(v16 a, v16 b)
{
    a.lo = _mm256_add_ps(a.lo, b.lo);
    a.hi = _mm256_add_ps(a.hi, b.hi);
    return a;
}
static inline v16 v_sub(v16 a, v16 b)
{
    a.lo = _mm256_sub_ps(a.lo, b.lo);
    a.hi = _mm256_sub_ps(a.hi, b.hi);
    return a;
}
static inline v16 v_max(v16 a, v16 b)
{
    a.lo = _mm256_max_ps(a.lo, b.lo);
    a.hi = _mm256_max_ps(a.hi, b.hi);
    return a;
}
static inline v16 v_set1(float x)
{
    v16 r = {_mm256_set1_ps(x), _mm256_set1_ps(x)};
    return r;
}
static inline v16 v_relu(v16 a)
{
    a.lo = _mm256_max_ps(a.lo, _mm256_setzero_ps());
    a.hi = _mm256_max_ps(a.hi, _mm256_setzero_ps());
    return a;
}

#define SIMD_TILES(X) X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 5) X(1, 6)

#endif
