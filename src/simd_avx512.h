/* simd_avx512.h -- the vector operations the blocked kernels need, AVX-512.
 *
 * A v16 holds one channel block of one pixel (16 floats) in one zmm; a vb
 * is one broadcast input channel.  32 zmm registers: a tile of up to 28
 * accumulators leaves room for its output blocks' weights. */
#ifndef RESNET_SIMD_AVX512_H
#define RESNET_SIMD_AVX512_H

#include <immintrin.h>

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

/* Every (output blocks, pixels) tile the kernels may pick: all shapes up to
 * SIMD_OCB x SIMD_URW with at most SIMD_ACC accumulators, so a layer's main
 * tile and the smaller ones at its edges all exist. */
#define SIMD_TILES(X)                                                                    \
    X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 5) X(1, 6) X(1, 7) X(1, 8)                      \
    X(2, 1) X(2, 2) X(2, 3) X(2, 4) X(2, 5) X(2, 6) X(2, 7) X(2, 8)                      \
    X(3, 1) X(3, 2) X(3, 3) X(3, 4) X(3, 5) X(3, 6) X(3, 7) X(3, 8)                      \
    X(4, 1) X(4, 2) X(4, 3) X(4, 4) X(4, 5) X(4, 6) X(4, 7)

#endif
