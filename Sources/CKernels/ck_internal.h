// Internal helpers shared by the CKernels translation units.
//
// Canonical summation order (all ISA variants must reproduce it bit for bit):
//  * Integer dot products are exact (int32), so their internal order is free.
//  * Float accumulation uses 16 lanes acc[0..15], all starting at +0.
//  * 32-element blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): the whole block is summed as an exact
//    integer p_b = sum_{i<32} w_i * a_i (int32), then one float step per block, in block order,
//    into lane l = b % 16:  acc[l] = fma(dw_b * da_b, (float)p_b, acc[l])
//    and, for Q4_1 / Q5_1, right after it in the same lane:  acc[l] = fma(mw_b, s_b, acc[l])
//    (mw_b = the block's min, s_b = da_b * sum of the block's quantized activations; fma is one
//    rounding: fmaf, or the fused vector instruction). Two fused steps instead of a multiply and
//    an add each: the float step is a third of the int8 kernels' work at 16 tokens, and this made
//    them ~10% faster there.
//  * 256-element super-blocks: elements are grouped in 4s; group g of a super-block lands in
//    integer lane g % 16, scaled by its sub-block scale; then, per super-block,
//    acc[l] = acc[l] + (dw * da) * (float)isum[l]. Their min terms are accumulated in one
//    scalar, super-block after super-block, and subtracted after the tree.
//    Q2_K / Q3_K the same way: their 16 sub-blocks of 16 elements each give groups 4j..4j+3 their
//    integer scale (Q2_K: the scale byte's low nibble; Q3_K: the 6-bit scale minus 32), applied to
//    the group's exact product (Q2_K weights 0..3; Q3_K weights 2 low bits, minus 4 where the
//    hmask bit is clear: -4..3); dw = d. Q2_K's min term per super-block is
//    (dmin * da) * (float)(sum_j min_j * bsum_j) (min_j = the scale byte's high nibble, bsum_j the
//    activations' int16 sum of sub-block j), accumulated in one scalar and subtracted after the
//    tree, as above; Q3_K has none.
//  * Q4_K, Q5_K and Q6_K on x86 (CK_K_SB): no lanes. Per super-block the exact integer
//    isum = sum_j sc_j * sum_{i in sub-block j} w_i * a_i and msum = sum_j min_j * bsum_j (Q6_K:
//    none, dmin = 0), then acc = fma(dw * da, (float)isum, acc); acc = fma(-(dmin * da),
//    (float)msum, acc), super-block after super-block from +0; the result is acc (Q6_K's second
//    step adds -0 and may be left out). Q6_K's weights may be read as w + 32 and
//    32 * sum_g sc_g * bsum_g taken off the integer sum once per super-block. With no lane order to keep, a kernel may add a
//    sub-block's products in int16 before its one scale multiply (vpmaddubsw results summed by
//    vpaddw, then vpmaddwd): a third fewer integer instructions than a scale multiply per group of
//    4, and llama.cpp's own per-super-block order. The NEON kernel keeps the lane order for them
//    (it was written for it and cannot be run on x86), so on aarch64 the portable path does too.
//  * The 16 lanes are reduced as a tree: 16 -> 8 (l, l+8) -> 4 (l, l+4) -> 2 (l, l+2) -> 1.
//  * No other fused multiply-add in the matmul kernels: contraction is switched off in their
//    files, and the two fused steps above are written out (fmaf / fused intrinsics).
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "CKernels.h"

#define CK_AI static inline __attribute__((always_inline))

/* Q4_K / Q5_K in the per-super-block order (above) rather than the 16-lane one: x86 only */
#if defined(__x86_64__)
#define CK_K_SB(type) ((type) == CK_Q4_K || (type) == CK_Q5_K || (type) == CK_Q6_K)
#else
#define CK_K_SB(type) 0
#endif

CK_AI float ck_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {
            float f = (float)man * 5.9604644775390625e-08f; /* man * 2^-24, exact */
            memcpy(&bits, &f, 4);
            bits |= sign;
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Float -> IEEE binary16 bits, round to nearest even, in integer arithmetic only (independent of
   the FP environment): the bits F16C's vcvtps2ph gives with rounding immediate 0. Magnitudes
   from 65520 up become inf; halves below 2^-14 are subnormal; below 2^-25 (and 2^-25 itself, a
   tie towards the even 0) give a signed zero; a NaN keeps its sign and top 10 payload bits and
   gets the quiet bit. */
CK_AI uint16_t ck_f16_from_f32(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu)); /* NaN */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* inf, or rounds to 2^16 */
    if (ax >= 0x38800000u) {
        /* normal half: rebias the exponent (127 - 15 = 112), round the 13 dropped bits; a carry
           out of the mantissa moves into the exponent, as it should */
        uint32_t r = ax - 0x38000000u;
        r += 0x0FFFu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    if (ax < 0x33000000u) return sign;
    /* subnormal half: units of 2^-24; the float is mant * 2^(e - 150) with the implicit bit */
    uint32_t e = ax >> 23, mant = (ax & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126u - e; /* 14 .. 24 */
    uint32_t m = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (m & 1u))) m++;
    return (uint16_t)(sign | m);
}

CK_AI float ck_bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

CK_AI uint16_t ck_rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
CK_AI uint32_t ck_rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

CK_AI float ck_tree16(const float *a) {
    float s8[8], s4[4], s2[2];
    for (int k = 0; k < 8; k++) s8[k] = a[k] + a[k + 8];
    for (int k = 0; k < 4; k++) s4[k] = s8[k] + s8[k + 4];
    for (int k = 0; k < 2; k++) s2[k] = s4[k] + s4[k + 2];
    return s2[0] + s2[1];
}

/// Block bytes, inlinable (kernels need it as a compile-time constant).
CK_AI int ck_bbytes(int type) {
    switch (type) {
    case CK_Q4_0: return 18;
    case CK_Q4_1: return 20;
    case CK_Q5_0: return 22;
    case CK_Q5_1: return 24;
    case CK_Q8_0: return 34;
    case CK_Q2_K: return 84;
    case CK_Q3_K: return 110;
    case CK_Q4_K: return 144;
    case CK_Q5_K: return 176;
    case CK_Q6_K: return 210;
    default: return ck_block_bytes(type);
    }
}

/// Q4_K / Q5_K 6-bit scale and min j (0..7) from the 12 packed bytes.
CK_AI void ck_scale_min_k4(int j, const uint8_t *q, int *sc, int *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}


/* Token groups of a packed activation copy (ck_pack_act32): tokens 0..<n are cut into groups
   of 16, then the remainder into groups of 8, 4, 2, 1 (its binary digits, largest first).
   A group of G tokens interleaves them as G x L lanes of 4 bytes (L = 16 / G): for block b
   and chunk c (< 8 / L), 64 bytes at q + start*cols + 64*(b*(8/L) + c) hold, for j < G and
   l < L, 4 bytes of token start+j, elements 32b + 4(cL + l) .. +3. The scales of group gi lie at
   d + 16*(gi*nb + b): lane j*L + l = d of token start+j, block b (s likewise). */
CK_AI int ck_grp_size(int n, int s) {
    int m = n - s, g = 16;
    while (g > m) g >>= 1;
    return g;
}
CK_AI int ck_grp_index(int n, int s) {
    int full = n & ~15;
    return s < full ? s / 16 : full / 16 + __builtin_popcount((unsigned)(s - full));
}
CK_AI int ck_grp_count(int n) { return ck_grp_index(n, n); }

/* per-ISA entry points */
void ck_gemm_q_portable(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                        const ck_act *a, int t0, int t1, float *y, size_t ldy);
void ck_gemm_f_portable(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                        const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy);
float ck_dot_f32_portable(const float *a, const float *b, int n);
/* v[0..16) (__m512) -> one vector `out` whose lane j combines the 16 lanes of v[j] with OP (an
   add, a max, ...), by pairs of lanes, then lane pairs, 128-bit quarters and halves: a fixed tree.
   For AVX-512 code (the caller's target attributes and <immintrin.h>). */
#define CK_T16(OP, v, out)                                                                                       \
    do {                                                                                                         \
        __m512 u_[8], w_[4], z_[2];                                                                              \
        for (int j_ = 0; j_ < 8; j_++) u_[j_] = OP(_mm512_unpacklo_ps(v[2 * j_], v[2 * j_ + 1]),                 \
                                               _mm512_unpackhi_ps(v[2 * j_], v[2 * j_ + 1]));                    \
        for (int j_ = 0; j_ < 4; j_++) {                                                                         \
            __m512d a_ = _mm512_castps_pd(u_[2 * j_]), b_ = _mm512_castps_pd(u_[2 * j_ + 1]);                    \
            w_[j_] = OP(_mm512_castpd_ps(_mm512_unpacklo_pd(a_, b_)), _mm512_castpd_ps(_mm512_unpackhi_pd(a_, b_)));\
        }                                                                                                        \
        for (int j_ = 0; j_ < 2; j_++) z_[j_] = OP(_mm512_shuffle_f32x4(w_[2 * j_], w_[2 * j_ + 1], 0x44),         \
                                               _mm512_shuffle_f32x4(w_[2 * j_], w_[2 * j_ + 1], 0xEE));          \
        out = OP(_mm512_shuffle_f32x4(z_[0], z_[1], 0x88), _mm512_shuffle_f32x4(z_[0], z_[1], 0xDD));           \
    } while (0)
/* Row-interleaved layout (ck_interleave): where group g's record of block b starts, in records of
   16 * blockBytes bytes, for ng groups of nb blocks. Groups 2P and 2P+1 form a pair whose records
   alternate block by block (one stream per pair); the last group of an odd count is alone. */
static inline size_t ck_x16_record(int g, int b, int ng, int nb) {
    if ((g | 1) < ng) return ((size_t)(g & ~1) * (size_t)nb + 2 * (size_t)b + (size_t)(g & 1));
    return (size_t)g * (size_t)nb + (size_t)b;
}

/* Row-interleaved K-quant layout (ck_interleave_k; described in CKernels.h): record offsets and
   sizes. Records are in group order, super-blocks in order within a group: record (g, sb) at
   (g * nsb + sb) * rec. */
#define CK_XK_Q4K_Q 320
#define CK_XK_Q4K_REC (320 + 2048)
#define CK_XK_Q5K_QH 320
#define CK_XK_Q5K_Q 832
#define CK_XK_Q5K_REC (832 + 2048)
size_t ck_xk_record_bytes(int type);
size_t ck_interleave_k_bytes(int type, int rows, int cols);
void ck_interleave_k(int type, const void *src, size_t rowBytes, int rows, int cols, void *dst);

#if defined(__x86_64__)
/* Rows [r0,r1) x tokens [t0,t1) of a K-quant matrix from its row-interleaved copy, whole 16-row
   groups only: returns 0 when it cannot (nothing written), else sets [*gs, *ge) to the rows done. */
int ck_gemm_xk_avx2(int type, const uint8_t *wx, int rows, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                    float *y, size_t ldy, int *gs, int *ge);
/* The same for 32-block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) from their ck_interleave copy; Q4_0 and
   Q5_0 need the activations' block sums (a->asum). */
int ck_gemm_x32_avx2(int type, const uint8_t *wx, int rows, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                     float *y, size_t ldy, int *gs, int *ge);
void ck_gemm_q_avx512(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                      const ck_act *a, int t0, int t1, float *y, size_t ldy);
void ck_gemm_f_avx512(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                      const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy);
float ck_dot_f32_avx512(const float *a, const float *b, int n);
void ck_pack_act32_avx512(ck_act *a, int cols, int nTokens, void *buf);
void ck_gemm_qx_avx512(int type, const uint8_t *w, const uint8_t *wx, int rows, size_t rb, int r0, int r1, int cols,
                       const ck_act *a, int t0, int t1, float *y, size_t ldy);
void ck_gemm_q_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const ck_act *a, int t0, int t1, float *y, size_t ldy);
/* K-quant rows as stored (gemm_k_avx2.c), Q2_K..Q6_K, at the AVX2 and AVX-512 levels; 0 for other
   types */
int ck_gemm_k_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                   const ck_act *a, int t0, int t1, float *y, size_t ldy);
void ck_gemm_f_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy);
float ck_dot_f32_avx2(const float *a, const float *b, int n);
#endif
#if defined(__aarch64__)
/* NEON + dotprod (sdot); used by the portable level's entry when the CPU has it (aarch64 Linux). */
int ck_neon_dot_available(void);
void ck_gemm_q_neon(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const ck_act *a, int t0, int t1, float *y, size_t ldy);
#endif

#endif
