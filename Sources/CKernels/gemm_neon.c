// ARM NEON + dot-product (ARMv8.2-A dotprod, sdot) kernels, bitwise equal to gemm_portable.c.
// 32-element formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): each block's integer dot is exact (sdot);
// blocks are handled 4 at a time: blocks b..b+3 (b a multiple of 4) land in canonical lanes
// b%16..b%16+3, i.e. one float32x4 of the 16 lanes, so the per-lane float steps (dot term, then
// the min term) are the portable ones, lane for lane.
// 256-element formats (Q4_K, Q5_K, Q6_K): one sdot per 16-element sub-block gives the sums of its
// 4 groups, i.e. integer lanes 4(m%4)..+3, scaled by the sub-block's integer scale.
// Contraction off: the only fused steps are the canonical 32-block ones (vfmaq_f32 / fmaf).
// Other types go to the portable kernel.
#pragma clang fp contract(off)
#include <math.h>
#include "ck_internal.h"
#if defined(__aarch64__)
#include <arm_neon.h>
#include <stdatomic.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#endif

#if defined(__clang__)
#define TN __attribute__((target("dotprod")))
#else
#define TN __attribute__((target("+dotprod")))
#endif
#define AIN CK_AI TN

static _Atomic int g_neon_dot = -1;

int ck_neon_dot_available(void) {
    int v = atomic_load_explicit(&g_neon_dot, memory_order_relaxed);
    if (v < 0) {
#if defined(__linux__)
        v = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? 1 : 0;
#else
        v = 0;
#endif
        atomic_store_explicit(&g_neon_dot, v, memory_order_relaxed);
    }
    return v;
}

/* low nibbles (elements 0..15) and high nibbles (16..31) of 16 packed bytes */
AIN void nib(const uint8_t *p, uint8x16_t *lo, uint8x16_t *hi) {
    uint8x16_t x = vld1q_u8(p);
    *lo = vandq_u8(x, vdupq_n_u8(0x0F));
    *hi = vshrq_n_u8(x, 4);
}

/* 0x10 in byte j of lo when bit j of qh is set, of hi when bit j + 16 is set */
AIN void hbits(uint32_t qh, uint8x16_t *lo, uint8x16_t *hi) {
    static const uint8_t il[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t ih[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t bm[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t q = vreinterpretq_u8_u32(vdupq_n_u32(qh));
    uint8x16_t m = vld1q_u8(bm), s = vdupq_n_u8(0x10);
    *lo = vandq_u8(vtstq_u8(vqtbl1q_u8(q, vld1q_u8(il)), m), s);
    *hi = vandq_u8(vtstq_u8(vqtbl1q_u8(q, vld1q_u8(ih)), m), s);
}

/* one 32-block: weights in activation order (w0: elements 0..15, w1: 16..31), scale, min */
AIN void ld32(int type, const uint8_t *b, int8x16_t *w0, int8x16_t *w1, float *dw, float *mw) {
    uint8x16_t lo, hi, hl, hh;
    *mw = 0.0f;
    switch (type) {
    case CK_Q4_0:
        *dw = ck_f16(ck_rd16(b));
        nib(b + 2, &lo, &hi);
        *w0 = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(8));
        *w1 = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(8));
        break;
    case CK_Q4_1:
        *dw = ck_f16(ck_rd16(b)); *mw = ck_f16(ck_rd16(b + 2));
        nib(b + 4, &lo, &hi);
        *w0 = vreinterpretq_s8_u8(lo);
        *w1 = vreinterpretq_s8_u8(hi);
        break;
    case CK_Q5_0:
        *dw = ck_f16(ck_rd16(b));
        hbits(ck_rd32(b + 2), &hl, &hh);
        nib(b + 6, &lo, &hi);
        *w0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hl)), vdupq_n_s8(16));
        *w1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, hh)), vdupq_n_s8(16));
        break;
    case CK_Q5_1:
        *dw = ck_f16(ck_rd16(b)); *mw = ck_f16(ck_rd16(b + 2));
        hbits(ck_rd32(b + 4), &hl, &hh);
        nib(b + 8, &lo, &hi);
        *w0 = vreinterpretq_s8_u8(vorrq_u8(lo, hl));
        *w1 = vreinterpretq_s8_u8(vorrq_u8(hi, hh));
        break;
    default: /* CK_Q8_0 */
        *dw = ck_f16(ck_rd16(b));
        *w0 = vld1q_s8((const int8_t *)(b + 2));
        *w1 = vld1q_s8((const int8_t *)(b + 18));
        break;
    }
}

/* 4 int32 lanes whose sum is the exact block dot */
AIN int32x4_t bdot(int8x16_t w0, int8x16_t w1, const int8_t *a) {
    int32x4_t z = vdupq_n_s32(0);
    return vdotq_s32(vdotq_s32(z, w0, vld1q_s8(a)), w1, vld1q_s8(a + 16));
}

/* NT tokens (1..4) x one row; fully canonical order */
AIN void row32(int type, int NT, const uint8_t *row, int nb, const ck_act *a, int t, float *y, size_t ldy, int r) {
    const int bb = ck_bbytes(type);
    const int hasMin = (type == CK_Q4_1 || type == CK_Q5_1);
    const int8_t *aq[4];
    const float *ad[4], *as[4];
    for (int j = 0; j < NT; j++) {
        aq[j] = a->q + (size_t)(t + j) * a->qStride;
        ad[j] = a->d + (size_t)(t + j) * a->dStride;
        as[j] = hasMin ? a->s + (size_t)(t + j) * a->dStride : NULL;
    }
    float32x4_t acc[4][4];
    for (int j = 0; j < NT; j++)
        for (int q = 0; q < 4; q++) acc[j][q] = vdupq_n_f32(0.0f);
    int b = 0;
    for (; b + 16 <= nb; b += 16) {
        for (int q = 0; q < 4; q++) {
            const int b4 = b + 4 * q;
            float dw[4], mw[4];
            int32x4_t d[4][4];
            for (int k = 0; k < 4; k++) {
                int8x16_t w0, w1;
                ld32(type, row + (size_t)(b4 + k) * bb, &w0, &w1, &dw[k], &mw[k]);
                for (int j = 0; j < NT; j++) d[j][k] = bdot(w0, w1, aq[j] + 32 * (b4 + k));
            }
            float32x4_t dwv = vld1q_f32(dw), mwv = vld1q_f32(mw);
            for (int j = 0; j < NT; j++) {
                int32x4_t p = vpaddq_s32(vpaddq_s32(d[j][0], d[j][1]), vpaddq_s32(d[j][2], d[j][3]));
                float32x4_t D = vmulq_f32(dwv, vld1q_f32(ad[j] + b4));
                acc[j][q] = vfmaq_f32(acc[j][q], D, vcvtq_f32_s32(p));
                if (hasMin) acc[j][q] = vfmaq_f32(acc[j][q], mwv, vld1q_f32(as[j] + b4));
            }
        }
    }
    float lanes[4][16];
    for (int j = 0; j < NT; j++)
        for (int q = 0; q < 4; q++) vst1q_f32(lanes[j] + 4 * q, acc[j][q]);
    /* remaining blocks (fewer than 16), one at a time, same lane / step order */
    for (; b < nb; b++) {
        int8x16_t w0, w1;
        float dw, mw;
        ld32(type, row + (size_t)b * bb, &w0, &w1, &dw, &mw);
        const int l = b & 15;
        for (int j = 0; j < NT; j++) {
            int p = vaddvq_s32(bdot(w0, w1, aq[j] + 32 * b));
            float D = dw * ad[j][b];
            lanes[j][l] = fmaf(D, (float)p, lanes[j][l]);
            if (hasMin) lanes[j][l] = fmaf(mw, as[j][b], lanes[j][l]);
        }
    }
    for (int j = 0; j < NT; j++) y[(size_t)(t + j) * ldy + r] = ck_tree16(lanes[j]);
}


/* ---- 256-element super-blocks (Q4_K, Q5_K, Q6_K) ----
   Sub-block m (16 elements, 4 groups of 4) has groups 4m..4m+3, i.e. integer lanes 4(m%4)..+3:
   one sdot gives exactly those 4 group sums, scaled by the sub-block's integer scale. */
AIN void ldK(int type, const uint8_t *b, int8x16_t w[16], int32_t sc16[16], int32_t mn8[8], float *dw, float *dmin) {
    switch (type) {
    case CK_Q4_K:
    case CK_Q5_K: {
        *dw = ck_f16(ck_rd16(b));
        *dmin = ck_f16(ck_rd16(b + 2));
        for (int j = 0; j < 8; j++) {
            int sv, mv;
            ck_scale_min_k4(j, b + 4, &sv, &mv);
            sc16[2 * j] = sv; sc16[2 * j + 1] = sv;
            mn8[j] = mv;
        }
        const uint8_t *q = type == CK_Q4_K ? b + 16 : b + 48;
        uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
        if (type == CK_Q5_K) { h0 = vld1q_u8(b + 16); h1 = vld1q_u8(b + 32); }
        const uint8x16_t m4 = vdupq_n_u8(0x0F), s = vdupq_n_u8(0x10);
        for (int c = 0; c < 4; c++) {
            uint8x16_t x0 = vld1q_u8(q + 32 * c), x1 = vld1q_u8(q + 32 * c + 16);
            uint8x16_t l0 = vandq_u8(x0, m4), l1 = vandq_u8(x1, m4);
            uint8x16_t u0 = vshrq_n_u8(x0, 4), u1 = vshrq_n_u8(x1, 4);
            if (type == CK_Q5_K) {
                uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << (2 * c))), bh = vdupq_n_u8((uint8_t)(2u << (2 * c)));
                l0 = vorrq_u8(l0, vandq_u8(vtstq_u8(h0, bl), s));
                l1 = vorrq_u8(l1, vandq_u8(vtstq_u8(h1, bl), s));
                u0 = vorrq_u8(u0, vandq_u8(vtstq_u8(h0, bh), s));
                u1 = vorrq_u8(u1, vandq_u8(vtstq_u8(h1, bh), s));
            }
            w[4 * c + 0] = vreinterpretq_s8_u8(l0);
            w[4 * c + 1] = vreinterpretq_s8_u8(l1);
            w[4 * c + 2] = vreinterpretq_s8_u8(u0);
            w[4 * c + 3] = vreinterpretq_s8_u8(u1);
        }
        break;
    }
    default: { /* CK_Q6_K */
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        *dw = ck_f16(ck_rd16(b + 208));
        *dmin = 0.0f;
        for (int j = 0; j < 16; j++) sc16[j] = sc[j];
        for (int j = 0; j < 8; j++) mn8[j] = 0;
        const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3);
        const int8x16_t o = vdupq_n_s8(32);
        for (int n = 0; n < 2; n++)
            for (int h = 0; h < 2; h++) {
                uint8x16_t A = vld1q_u8(ql + 64 * n + 16 * h), B = vld1q_u8(ql + 64 * n + 32 + 16 * h);
                uint8x16_t H = vld1q_u8(qh + 32 * n + 16 * h);
                uint8x16_t e0 = vorrq_u8(vandq_u8(A, m4), vshlq_n_u8(vandq_u8(H, m3), 4));
                uint8x16_t e1 = vorrq_u8(vandq_u8(B, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(H, 2), m3), 4));
                uint8x16_t e2 = vorrq_u8(vshrq_n_u8(A, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(H, 4), m3), 4));
                uint8x16_t e3 = vorrq_u8(vshrq_n_u8(B, 4), vshlq_n_u8(vshrq_n_u8(H, 6), 4));
                w[8 * n + 0 + h] = vsubq_s8(vreinterpretq_s8_u8(e0), o);
                w[8 * n + 2 + h] = vsubq_s8(vreinterpretq_s8_u8(e1), o);
                w[8 * n + 4 + h] = vsubq_s8(vreinterpretq_s8_u8(e2), o);
                w[8 * n + 6 + h] = vsubq_s8(vreinterpretq_s8_u8(e3), o);
            }
        break;
    }
    }
}

AIN void rowK(int type, int NT, const uint8_t *row, int nsb, const ck_act *a, int t, float *y, size_t ldy, int r) {
    const int bb = ck_bbytes(type);
    const int8_t *aq[4];
    const float *ad[4];
    const int16_t *bs[4];
    for (int j = 0; j < NT; j++) {
        aq[j] = a->q + (size_t)(t + j) * a->qStride;
        ad[j] = a->d + (size_t)(t + j) * a->dStride;
        bs[j] = a->bsums + (size_t)(t + j) * a->bStride;
    }
    float32x4_t acc[4][4];
    float macc[4];
    for (int j = 0; j < NT; j++) {
        macc[j] = 0.0f;
        for (int q = 0; q < 4; q++) acc[j][q] = vdupq_n_f32(0.0f);
    }
    for (int sb = 0; sb < nsb; sb++) {
        int8x16_t w[16];
        int32_t sc16[16], mn8[8];
        float dw, dmin;
        ldK(type, row + (size_t)sb * bb, w, sc16, mn8, &dw, &dmin);
        for (int j = 0; j < NT; j++) {
            const int8_t *ab = aq[j] + 256 * sb;
            int32x4_t is[4];
            for (int q = 0; q < 4; q++) is[q] = vdupq_n_s32(0);
            for (int m = 0; m < 16; m++) {
                int32x4_t p = vdotq_s32(vdupq_n_s32(0), w[m], vld1q_s8(ab + 16 * m));
                is[m & 3] = vaddq_s32(is[m & 3], vmulq_n_s32(p, sc16[m]));
            }
            const int16_t *bj = bs[j] + 16 * sb;
            int msum = 0;
            for (int k = 0; k < 8; k++) msum += mn8[k] * (bj[2 * k] + bj[2 * k + 1]);
            float D = dw * ad[j][sb];
            float32x4_t Dv = vdupq_n_f32(D);
            for (int q = 0; q < 4; q++) acc[j][q] = vaddq_f32(acc[j][q], vmulq_f32(Dv, vcvtq_f32_s32(is[q])));
            float Dm = dmin * ad[j][sb];
            macc[j] = macc[j] + Dm * (float)msum;
        }
    }
    for (int j = 0; j < NT; j++) {
        float lanes[16];
        for (int q = 0; q < 4; q++) vst1q_f32(lanes + 4 * q, acc[j][q]);
        y[(size_t)(t + j) * ldy + r] = ck_tree16(lanes) - macc[j];
    }
}

#define DEF_ROW(T, TN_)                                                                              \
    static TN void row_##T##_##TN_(const uint8_t *row, int nb, const ck_act *a, int t, float *y,     \
                                   size_t ldy, int r) { row32(T, TN_, row, nb, a, t, y, ldy, r); }
#define DEF_TYPE(T) DEF_ROW(T, 1) DEF_ROW(T, 2) DEF_ROW(T, 3) DEF_ROW(T, 4)
DEF_TYPE(CK_Q4_0)
DEF_TYPE(CK_Q4_1)
DEF_TYPE(CK_Q5_0)
DEF_TYPE(CK_Q5_1)
DEF_TYPE(CK_Q8_0)
#define DEF_ROWK(T, TN_)                                                                             \
    static TN void row_##T##_##TN_(const uint8_t *row, int nb, const ck_act *a, int t, float *y,     \
                                   size_t ldy, int r) { rowK(T, TN_, row, nb, a, t, y, ldy, r); }
#define DEF_TYPEK(T) DEF_ROWK(T, 1) DEF_ROWK(T, 2) DEF_ROWK(T, 3) DEF_ROWK(T, 4)
DEF_TYPEK(CK_Q4_K)
DEF_TYPEK(CK_Q5_K)
DEF_TYPEK(CK_Q6_K)

typedef void (*row_fn)(const uint8_t *, int, const ck_act *, int, float *, size_t, int);
#define SEL(T) { f[0] = row_##T##_1; f[1] = row_##T##_2; f[2] = row_##T##_3; f[3] = row_##T##_4; }

void ck_gemm_q_neon(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    row_fn f[4];
    switch (type) {
    case CK_Q4_0: SEL(CK_Q4_0); break;
    case CK_Q4_1: SEL(CK_Q4_1); break;
    case CK_Q5_0: SEL(CK_Q5_0); break;
    case CK_Q5_1: SEL(CK_Q5_1); break;
    case CK_Q8_0: SEL(CK_Q8_0); break;
    case CK_Q4_K: SEL(CK_Q4_K); break;
    case CK_Q5_K: SEL(CK_Q5_K); break;
    case CK_Q6_K: SEL(CK_Q6_K); break;
    default: ck_gemm_q_portable(type, w, rb, r0, r1, cols, a, t0, t1, y, ldy); return;
    }
    const int nb = cols / ck_type_act_block(type);
    for (int t = t0; t < t1; t += 4) {
        const int nt = t1 - t < 4 ? t1 - t : 4;
        row_fn g = f[nt - 1];
        for (int r = r0; r < r1; r++) g(w + (size_t)r * rb, nb, a, t, y, ldy, r);
    }
}
#endif
