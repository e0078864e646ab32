/* simd_avx512.h -- the vector operations the blocked kernels need, AVX-512.
 *
 * A v16 holds one channel block of one pixel (16 floats) in one zmm; a vb
 * is one broadcast input channel.  32 zmm registers: a tile of up to 28
 * accumulators leaves room for its output blocks' weights. */
#ifndef RESNET_SIMD_AVX512_H
#define RESNET_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

typedef __m512 v16;
typedef __m512 vb;

#define SIMD_ACC 28     /* v16 accumulators one tile may hold */
#define SIMD_OCB 4      /* output-channel blocks per tile, at most */
#define SIMD_URW 8      /* output pixels per tile, at most: 16+ accumulators for any block
                         * count, enough to hide the FMA latency; wider tiles only grow the
                         * code */

static inline v16 v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, v16 v) { _mm512_storeu_ps(p, v); }
static inline vb v_bcast(const float *p) { return _mm512_set1_ps(*p); }
static inline v16 v_fma(v16 w, vb x, v16 acc) { return _mm512_fmadd_ps(w, x, acc); }
static inline v16 v_add(v16 a, v16 b) { return _mm512_add_ps(a, b); }
static inline v16 v_sub(v16 a, v16 b) { return _mm512_sub_ps(a, b); }
static inline v16 v_relu(v16 a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }
static inline v16 v_max(v16 a, v16 b) { return _mm512_max_ps(a, b); }
static inline v16 v_set1(float x) { return _mm512_set1_ps(x); }

/* --- for the epilogues of the int8 and bf16 kernels --- */
static inline v16 v_fmav(v16 a, v16 b, v16 c) { return _mm512_fmadd_ps(a, b, c); }
static inline v16 v_mul(v16 a, v16 b) { return _mm512_mul_ps(a, b); }
static inline v16 v_min(v16 a, v16 b) { return _mm512_min_ps(a, b); }

/* --- int8 (conv8_simd.inc) ---
 * A v16i is one block's 16 int32 sums; an x8 a pixel's 4 u8 channels in
 * every lane; a w8 a block's weights for those 4 channels (16 lanes x 4
 * s8).  vi_dot4 is vpdpbusd (VNNI); the plain kernel splits each lane's
 * bytes 0,2 and 1,3 into int16s (x8p, w8p) and sums their products with
 * vpmaddwd, as exactly and without VNNI. */
typedef __m512i v16i;
typedef __m512i x8;
typedef __m512i w8;
typedef struct { __m512i even, odd; } x8p;
typedef struct { __m512i even, odd; } w8p;

#define C8_ACC 24    /* sums a VNNI tile may hold (with 4 weight vectors and a broadcast) */
#define C8_OCB 4     /* output blocks per tile, at most */
#define C8_URW 8     /* pixels per tile, at most */
#define C8P_ACC 16   /* sums a plain tile may hold (its weights take twice the registers) */
#define TILES8(X)                                                                        \
    X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 5) X(1, 6) X(1, 7) X(1, 8)                      \
    X(2, 1) X(2, 2) X(2, 3) X(2, 4) X(2, 5) X(2, 6) X(2, 7) X(2, 8)                      \
    X(3, 1) X(3, 2) X(3, 3) X(3, 4) X(3, 5) X(3, 6) X(3, 7) X(3, 8)                      \
    X(4, 1) X(4, 2) X(4, 3) X(4, 4) X(4, 5) X(4, 6)

static inline v16i vi_zero(void) { return _mm512_setzero_si512(); }
static inline w8 w8_load(const int8_t *p) { return _mm512_loadu_si512(p); }
static inline x8 x8_bcast(const uint8_t *p) { return _mm512_broadcastd_epi32(_mm_loadu_si32(p)); }
/* As inline assembly with the sum as an in-out register: gcc 12's
 * intrinsic copies each sum to another register and to the stack around
 * every instruction, which costs a third of the kernel's speed. */
static inline __attribute__((always_inline)) v16i vi_dot4(v16i acc, x8 x, w8 w)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
    return acc;
}
static inline w8p w8p_split(w8 w)
{
    const w8p r = {_mm512_srai_epi16(_mm512_slli_epi16(w, 8), 8), _mm512_srai_epi16(w, 8)};
    return r;
}
static inline x8p x8p_split(x8 x)
{
    const x8p r = {_mm512_and_si512(x, _mm512_set1_epi16(0xff)), _mm512_srli_epi16(x, 8)};
    return r;
}
static inline v16i vi_dot4p(v16i acc, x8p x, w8p w)
{
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x.even, w.even));
    return _mm512_add_epi32(acc, _mm512_madd_epi16(x.odd, w.odd));
}
static inline v16 v_from_i32(v16i a) { return _mm512_cvtepi32_ps(a); }
/* 16 values already in [0, 255], rounded to nearest even, as bytes */
static inline void v_store_u8(uint8_t *p, v16 m)
{
    _mm_storeu_si128((__m128i *)p, _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(m)));
}

/* Every (output blocks, pixels) tile the kernels may pick: all shapes up to
 * SIMD_OCB x SIMD_URW with at most SIMD_ACC accumulators, so a layer's main
 * tile and the smaller ones at its edges all exist. */
#define SIMD_TILES(X)                                                                    \
    X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 5) X(1, 6) X(1, 7) X(1, 8)                      \
    X(2, 1) X(2, 2) X(2, 3) X(2, 4) X(2, 5) X(2, 6) X(2, 7) X(2, 8)                      \
    X(3, 1) X(3, 2) X(3, 3) X(3, 4) X(3, 5) X(3, 6) X(3, 7) X(3, 8)                      \
    X(4, 1) X(4, 2) X(4, 3) X(4, 4) X(4, 5) X(4, 6) X(4, 7)

#endif
