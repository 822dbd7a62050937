// Run-time selection of the per-ISA kernels.
#pragma clang fp contract(off)
#include <stdatomic.h>
#include <time.h>
#include "ck_internal.h"

static _Atomic int g_isa_override = -1;
static _Atomic int g_isa_detected = -1;

int ck_detect_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c") &&
        __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return CK_ISA_AVX2;
#endif
    return CK_ISA_PORTABLE;
}

void ck_gemm_q(int isa, int type, const void *w, size_t rowBytes, int r0, int r1, int cols,
               const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    ck_gemm_qx(isa, type, w, NULL, r1, rowBytes, r0, r1, cols, a, t0, t1, y, ldy);
}

void ck_gemm_qx(int isa, int type, const void *w, const void *wx, int rows, size_t rowBytes, int r0, int r1, int cols,
                const ck_act *a, int t0, int t1, float *y, size_t ldy) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) { ck_gemm_qx_avx512(type, (const uint8_t *)w, (const uint8_t *)wx, rows, rowBytes, r0, r1, cols, a, t0, t1, y, ldy); return; }
    if (isa == CK_ISA_AVX2) {
        int gs, ge;
        /* K-quants and 32-block types: 16-row groups from the row-interleaved copy, the rows outside them directly */
        if (wx != NULL && (ck_gemm_xk_avx2(type, (const uint8_t *)wx, rows, r0, r1, cols, a, t0, t1, y, ldy, &gs, &ge) ||
                           ck_gemm_x32_avx2(type, (const uint8_t *)wx, rows, r0, r1, cols, a, t0, t1, y, ldy, &gs, &ge))) {
            if (r0 < gs) ck_gemm_q_avx2(type, (const uint8_t *)w, rowBytes, r0, gs, cols, a, t0, t1, y, ldy);
            if (ge < r1) ck_gemm_q_avx2(type, (const uint8_t *)w, rowBytes, ge, r1, cols, a, t0, t1, y, ldy);
            return;
        }
        ck_gemm_q_avx2(type, (const uint8_t *)w, rowBytes, r0, r1, cols, a, t0, t1, y, ldy);
        return;
    }
#endif
    (void)isa; (void)wx; (void)rows;
#if defined(__aarch64__)
    /* NEON/dotprod is bitwise identical to the portable kernel, so it serves the portable level */
    if (ck_neon_dot_available()) { ck_gemm_q_neon(type, (const uint8_t *)w, rowBytes, r0, r1, cols, a, t0, t1, y, ldy); return; }
#endif
    ck_gemm_q_portable(type, (const uint8_t *)w, rowBytes, r0, r1, cols, a, t0, t1, y, ldy);
}

void ck_gemm_f(int isa, int type, const void *w, size_t rowBytes, int r0, int r1, int cols,
               const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) { ck_gemm_f_avx512(type, (const uint8_t *)w, rowBytes, r0, r1, cols, x, ldx, t0, t1, y, ldy); return; }
    if (isa == CK_ISA_AVX2) { ck_gemm_f_avx2(type, (const uint8_t *)w, rowBytes, r0, r1, cols, x, ldx, t0, t1, y, ldy); return; }
#endif
    (void)isa;
    ck_gemm_f_portable(type, (const uint8_t *)w, rowBytes, r0, r1, cols, x, ldx, t0, t1, y, ldy);
}

static size_t al64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Packed token-interleaved copy (8 tokens or more), at the AVX-512 level. */
static size_t packed_copy_bytes(int isa, int cols, int nTokens) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512 && nTokens >= 8 && cols % 32 == 0)
        return al64((size_t)cols * (size_t)nTokens) + 2 * al64((size_t)ck_grp_count(nTokens) * (size_t)(cols / 32) * 64);
#endif
    (void)isa; (void)cols; (void)nTokens;
    return 0;
}

/* Block sums (one int32 per token per block, with the activations' dStride = cols / 32). */
static size_t sums_bytes(int isa, int cols, int nTokens) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX2 && nTokens >= 1 && cols % 32 == 0) return al64((size_t)nTokens * (size_t)(cols / 32) * 4);
#endif
    (void)isa; (void)cols; (void)nTokens;
    return 0;
}

size_t ck_pack_act32_bytes(int isa, int cols, int nTokens, int what) {
    return ((what & CK_PACK_COPY) ? packed_copy_bytes(isa, cols, nTokens) : 0) +
           ((what & CK_PACK_SUMS) ? sums_bytes(isa, cols, nTokens) : 0);
}

void ck_pack_act32(int isa, ck_act *a, int cols, int nTokens, void *buf) {
    a->pq = NULL; a->pd = NULL; a->ps = NULL; a->pn = 0;
#if defined(__x86_64__)
    if (packed_copy_bytes(isa, cols, nTokens) > 0) ck_pack_act32_avx512(a, cols, nTokens, buf);
#endif
    (void)buf;
}

void ck_quantize_act_range(int isa, int actBlock, const float *x, size_t ldx, int cols, int t0, int t1,
                           const ck_act *a, int32_t *sums) {
    for (int t = t0; t < t1; t++) {
        int8_t *q = (int8_t *)(a->q + (size_t)t * a->qStride);
        float *d = (float *)(a->d + (size_t)t * a->dStride);
        if (actBlock == 32) {
            ck_quantize_act32(isa, x + (size_t)t * ldx, cols, q, d, (float *)(a->s + (size_t)t * a->dStride),
                              sums ? sums + (size_t)t * a->dStride : NULL);
        } else {
            ck_quantize_act256(isa, x + (size_t)t * ldx, cols, q, d, (int16_t *)(a->bsums + (size_t)t * a->bStride));
        }
    }
}

float ck_dot_f32(int isa, const float *a, const float *b, int n) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) return ck_dot_f32_avx512(a, b, n);
    if (isa == CK_ISA_AVX2) return ck_dot_f32_avx2(a, b, n);
#endif
    (void)isa;
    return ck_dot_f32_portable(a, b, n);
}

int ck_active_isa(void) {
    int det = atomic_load_explicit(&g_isa_detected, memory_order_relaxed);
    if (det < 0) {
        det = ck_detect_isa();
        atomic_store_explicit(&g_isa_detected, det, memory_order_relaxed);
    }
    int ov = atomic_load_explicit(&g_isa_override, memory_order_relaxed);
    return (ov >= 0 && ov < det) ? ov : det;
}

void ck_set_isa_override(int level) { atomic_store(&g_isa_override, level); }
int ck_get_isa_override(void) { return atomic_load(&g_isa_override); }

uint64_t ck_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
