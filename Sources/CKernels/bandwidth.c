#include "ck_bandwidth.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static uint64_t read_avx512(const void *p, size_t bytes) {
    const __m512i *v = (const __m512i *)p;
    size_t n = bytes / 64;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 = _mm512_xor_si512(a0, _mm512_load_si512(v + i));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512(v + i + 1));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512(v + i + 2));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512(v + i + 3));
    }
    for (; i < n; i++) a0 = _mm512_xor_si512(a0, _mm512_load_si512(v + i));
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    return (uint64_t)_mm512_reduce_add_epi64(a0);
}

__attribute__((target("avx2")))
static uint64_t read_avx2(const void *p, size_t bytes) {
    const __m256i *v = (const __m256i *)p;
    size_t n = bytes / 32;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256(v + i));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256(v + i + 1));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256(v + i + 2));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256(v + i + 3));
    }
    for (; i < n; i++) a0 = _mm256_xor_si256(a0, _mm256_load_si256(v + i));
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    uint64_t out[4];
    _mm256_storeu_si256((__m256i *)out, a0);
    return out[0] ^ out[1] ^ out[2] ^ out[3];
}
#endif

static uint64_t read_portable(const void *p, size_t bytes) {
    const uint64_t *v = (const uint64_t *)p;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t n = bytes / 8, i = 0;
    for (; i + 4 <= n; i += 4) { a ^= v[i]; b ^= v[i + 1]; c ^= v[i + 2]; d ^= v[i + 3]; }
    for (; i < n; i++) a ^= v[i];
    return a ^ b ^ c ^ d;
}

uint64_t ck_read_stream(const void *p, size_t bytes) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return read_avx512(p, bytes);
    if (__builtin_cpu_supports("avx2")) return read_avx2(p, bytes);
#endif
    return read_portable(p, bytes);
}
