// Float32 <-> IEEE binary16 for the F16 KV cache. The portable loops define the bits; the F16C
// paths (vcvtps2ph with rounding immediate 0, vcvtph2ps) give the same bits.
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T512H __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define T2H __attribute__((target("avx2,fma,f16c")))

static T512H void to_f16_avx512(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

static T512H void to_f32_avx512(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
    }
}

static T2H void to_f16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

static T2H void to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}
#endif

void ck_f32_to_f16(int isa, const float *src, uint16_t *dst, size_t n) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) { to_f16_avx512(src, dst, n); return; }
    if (isa >= CK_ISA_AVX2) { to_f16_f16c(src, dst, n); return; }
#endif
    (void)isa;
    for (size_t i = 0; i < n; i++) dst[i] = ck_f16_from_f32(src[i]);
}

void ck_f16_to_f32(int isa, const uint16_t *src, float *dst, size_t n) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) { to_f32_avx512(src, dst, n); return; }
    if (isa >= CK_ISA_AVX2) { to_f32_f16c(src, dst, n); return; }
#endif
    (void)isa;
    for (size_t i = 0; i < n; i++) dst[i] = ck_f16(src[i]);
}
