/* simd_avx2.h -- the vector operations the blocked kernels need, AVX2 + FMA.
 *
 * A v16 (one channel block of one pixel) is two ymm halves; a broadcast
 * input channel is one ymm used by both.  16 ymm registers: 6 pixels x 1
 * block is 12 accumulators, plus two weight halves and a broadcast. */
#ifndef RESNET_SIMD_AVX2_H
#define RESNET_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

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
/* An operation of two v16s: the same ymm instruction on both halves. */
#define V16_BINARY(name, op)                                                             \
    static inline v16 name(v16 a, v16 b)                                                 \
    {                                                                                    \
        a.lo = op(a.lo, b.lo);                                                           \
        a.hi = op(a.hi, b.hi);                                                           \
        return a;                                                                        \
    }
V16_BINARY(v_add, _mm256_add_ps)
V16_BINARY(v_sub, _mm256_sub_ps)
V16_BINARY(v_max, _mm256_max_ps)
V16_BINARY(v_mul, _mm256_mul_ps)   /* these two for the int8 epilogue */
V16_BINARY(v_min, _mm256_min_ps)
#undef V16_BINARY
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

/* --- for the epilogues of the int8 kernels --- */
static inline v16 v_fmav(v16 a, v16 b, v16 c)
{
    a.lo = _mm256_fmadd_ps(a.lo, b.lo, c.lo);
    a.hi = _mm256_fmadd_ps(a.hi, b.hi, c.hi);
    return a;
}

/* --- int8 (conv8_simd.inc), as in simd_avx512.h on ymm halves ---
 * vi_dot4 is AVX-VNNI's vpdpbusd (VEX-encoded, ymm0-15), written as
 * assembly so that the file needs no -mavxvnni: the table runs on AVX2
 * CPUs without it, which get the plain kernel (vpmaddwd) instead. */
typedef struct { __m256i lo, hi; } v16i;
typedef __m256i x8;
typedef struct { __m256i lo, hi; } w8;
typedef struct { __m256i even, odd; } x8p;
typedef struct { __m256i even_lo, odd_lo, even_hi, odd_hi; } w8p;

#define C8_ACC 6     /* 12 ymm of sums, 2 of weights, a broadcast */
#define C8_OCB 1
#define C8_URW 6
#define C8P_ACC 3    /* 6 of sums, 4 of weights, 2 of the split broadcast */
#define TILES8(X) X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 5) X(1, 6)

static inline v16i vi_zero(void)
{
    const v16i r = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    return r;
}
static inline w8 w8_load(const int8_t *p)
{
    const w8 r = {_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 32))};
    return r;
}
static inline x8 x8_bcast(const uint8_t *p) { return _mm256_broadcastd_epi32(_mm_loadu_si32(p)); }
static inline __attribute__((always_inline)) v16i vi_dot4(v16i acc, x8 x, w8 w)
{
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc.lo) : "x"(x), "x"(w.lo));
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc.hi) : "x"(x), "x"(w.hi));
    return acc;
}
static inline w8p w8p_split(w8 w)
{
    const w8p r = {_mm256_srai_epi16(_mm256_slli_epi16(w.lo, 8), 8), _mm256_srai_epi16(w.lo, 8),
                   _mm256_srai_epi16(_mm256_slli_epi16(w.hi, 8), 8), _mm256_srai_epi16(w.hi, 8)};
    return r;
}
static inline x8p x8p_split(x8 x)
{
    const x8p r = {_mm256_and_si256(x, _mm256_set1_epi16(0xff)), _mm256_srli_epi16(x, 8)};
    return r;
}
static inline v16i vi_dot4p(v16i acc, x8p x, w8p w)
{
    acc.lo = _mm256_add_epi32(acc.lo, _mm256_madd_epi16(x.even, w.even_lo));
    acc.lo = _mm256_add_epi32(acc.lo, _mm256_madd_epi16(x.odd, w.odd_lo));
    acc.hi = _mm256_add_epi32(acc.hi, _mm256_madd_epi16(x.even, w.even_hi));
    acc.hi = _mm256_add_epi32(acc.hi, _mm256_madd_epi16(x.odd, w.odd_hi));
    return acc;
}
static inline v16 v_from_i32(v16i a)
{
    const v16 r = {_mm256_cvtepi32_ps(a.lo), _mm256_cvtepi32_ps(a.hi)};
    return r;
}
/* 16 values already in [0, 255], rounded to nearest even, as bytes */
static inline void v_store_u8(uint8_t *p, v16 m)
{
    __m256i w16 = _mm256_packus_epi32(_mm256_cvtps_epi32(m.lo), _mm256_cvtps_epi32(m.hi));
    w16 = _mm256_permute4x64_epi64(w16, 0xd8);   /* packus works within 128-bit lanes */
    _mm_storeu_si128((__m128i *)p, _mm_packus_epi16(_mm256_castsi256_si128(w16),
                                                    _mm256_extracti128_si256(w16, 1)));
}

#endif
