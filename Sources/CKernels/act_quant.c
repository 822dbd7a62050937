// Quantization of float activations to 8-bit blocks. One implementation for every ISA,
// so quantized activations never depend on the dispatch level.
#pragma clang fp contract(off)
#include <math.h>
#include "ck_internal.h"

/* Round to nearest even using the 1.5*2^23 trick: pure IEEE float ops, |v| <= 127 here. */
CK_AI int ck_round127(float v) {
    float r = (v + 12582912.0f) - 12582912.0f;
    int i = (int)r;
    if (i > 127) i = 127;
    if (i < -127) i = -127;
    return i;
}

static void act32_portable(const float *x, int cols, int8_t *q, float *d, float *s, int32_t *isum) {
    int nb = cols / 32;
    for (int b = 0; b < nb; b++) {
        const float *xb = x + 32 * b;
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) {
            float a = fabsf(xb[i]);
            amax = a > amax ? a : amax;
        }
        float dd = amax / 127.0f;
        float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        if (!(id <= 3.0e38f)) id = 0.0f; /* denormal scale: quantize to zeros */
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            int v = ck_round127(xb[i] * id);
            q[32 * b + i] = (int8_t)v;
            sum += v;
        }
        d[b] = dd;
        s[b] = dd * (float)sum;
        if (isum) isum[b] = sum;
    }
}

static void act256_portable(const float *x, int cols, int8_t *q, float *d, int16_t *bsums) {
    int nb = cols / 256;
    for (int b = 0; b < nb; b++) {
        const float *xb = x + 256 * b;
        float amax = 0.0f;
        for (int i = 0; i < 256; i++) {
            float a = fabsf(xb[i]);
            amax = a > amax ? a : amax;
        }
        float dd = amax / 127.0f;
        float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        if (!(id <= 3.0e38f)) id = 0.0f; /* denormal scale: quantize to zeros */
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                int v = ck_round127(xb[16 * g + i] * id);
                q[256 * b + 16 * g + i] = (int8_t)v;
                sum += v;
            }
            bsums[16 * b + g] = (int16_t)sum;
        }
        d[b] = dd;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define T512Q __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

/* 16 values -> int32 lanes rounded exactly as ck_round127 */
CK_AI T512Q __m512i q16(__m512 x, __m512 id) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 r = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, id), magic), magic);
    __m512i i = _mm512_cvttps_epi32(r);
    i = _mm512_min_epi32(i, _mm512_set1_epi32(127));
    return _mm512_max_epi32(i, _mm512_set1_epi32(-127));
}

CK_AI T512Q float amax_n(const float *x, int n16) {
    __m512 m = _mm512_setzero_ps();
    for (int k = 0; k < n16; k++) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)));
    return _mm512_reduce_max_ps(m);
}

CK_AI T512Q __m512 addi_as_ps(__m512 a, __m512 b) {
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)));
}

/* 16 blocks of 32 at once: the block maxima, scales and sums as vectors (the same IEEE
   operations per block as one block at a time, so the same bytes). */
CK_AI T512Q void act32_x16(const float *x, int8_t *q, float *d, float *s, int32_t *isum) {
    __m512 v[16];
    for (int b = 0; b < 16; b++)
        v[b] = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + 32 * b)), _mm512_abs_ps(_mm512_loadu_ps(x + 32 * b + 16)));
    __m512 amax;
    CK_T16(_mm512_max_ps, v, amax);
    const __m512 dd = _mm512_div_ps(amax, _mm512_set1_ps(127.0f));
    __m512 id = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(dd, _mm512_setzero_ps(), _CMP_NEQ_UQ), _mm512_set1_ps(1.0f), dd);
    id = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(id, _mm512_set1_ps(3.0e38f), _CMP_LE_OQ), id); /* denormal scale: zeros */
    for (int b = 0; b < 16; b++) {
        const __m512 idv = _mm512_permutexvar_ps(_mm512_set1_epi32(b), id);
        const __m512i i0 = q16(_mm512_loadu_ps(x + 32 * b), idv), i1 = q16(_mm512_loadu_ps(x + 32 * b + 16), idv);
        _mm_storeu_si128((__m128i *)(q + 32 * b), _mm512_cvtepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(q + 32 * b + 16), _mm512_cvtepi32_epi8(i1));
        v[b] = _mm512_castsi512_ps(_mm512_add_epi32(i0, i1));
    }
    __m512 sumv;
    CK_T16(addi_as_ps, v, sumv);
    const __m512i sum = _mm512_castps_si512(sumv);
    _mm512_storeu_ps(d, dd);
    _mm512_storeu_ps(s, _mm512_mul_ps(dd, _mm512_cvtepi32_ps(sum)));
    if (isum) _mm512_storeu_si512((void *)isum, sum);
}

static T512Q void act32_avx512(const float *x, int cols, int8_t *q, float *d, float *s, int32_t *isum) {
    int nb = cols / 32;
    int b = 0;
    for (; b + 16 <= nb; b += 16) act32_x16(x + 32 * b, q + 32 * b, d + b, s + b, isum ? isum + b : NULL);
    for (; b < nb; b++) {
        const float *xb = x + 32 * b;
        float amax = amax_n(xb, 2);
        float dd = amax / 127.0f;
        float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        if (!(id <= 3.0e38f)) id = 0.0f; /* denormal scale: quantize to zeros */
        __m512 idv = _mm512_set1_ps(id);
        __m512i i0 = q16(_mm512_loadu_ps(xb), idv), i1 = q16(_mm512_loadu_ps(xb + 16), idv);
        _mm_storeu_si128((__m128i *)(q + 32 * b), _mm512_cvtepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(q + 32 * b + 16), _mm512_cvtepi32_epi8(i1));
        int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
        d[b] = dd;
        s[b] = dd * (float)sum;
        if (isum) isum[b] = sum;
    }
}

static T512Q void act256_avx512(const float *x, int cols, int8_t *q, float *d, int16_t *bsums) {
    int nb = cols / 256;
    for (int b = 0; b < nb; b++) {
        const float *xb = x + 256 * b;
        float amax = amax_n(xb, 16);
        float dd = amax / 127.0f;
        float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        if (!(id <= 3.0e38f)) id = 0.0f; /* denormal scale: quantize to zeros */
        __m512 idv = _mm512_set1_ps(id);
        for (int g = 0; g < 16; g++) {
            __m512i i0 = q16(_mm512_loadu_ps(xb + 16 * g), idv);
            _mm_storeu_si128((__m128i *)(q + 256 * b + 16 * g), _mm512_cvtepi32_epi8(i0));
            bsums[16 * b + g] = (int16_t)_mm512_reduce_add_epi32(i0);
        }
        d[b] = dd;
    }
}
#endif

void ck_quantize_act32(int isa, const float *x, int cols, int8_t *q, float *d, float *s, int32_t *isum) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) { act32_avx512(x, cols, q, d, s, isum); return; }
#endif
    (void)isa;
    act32_portable(x, cols, q, d, s, isum);
}

void ck_quantize_act256(int isa, const float *x, int cols, int8_t *q, float *d, int16_t *bsums) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) { act256_avx512(x, cols, q, d, bsums); return; }
#endif
    (void)isa;
    act256_portable(x, cols, q, d, bsums);
}

int ck_type_act_block(int type) {
    switch (type) {
    case CK_Q4_0: case CK_Q4_1: case CK_Q5_0: case CK_Q5_1: case CK_Q8_0: return 32;
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K: return 256;
    default: return 0;
    }
}
