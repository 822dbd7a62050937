// AVX2 (+FMA/F16C) kernels for Q2_K and Q3_K weights: maddubs / madd integer dots, bitwise equal to
// gemm_portable.c's dotK (canonical order in ck_internal.h). The 16 float lanes are two 8-lane
// registers: sub-block s (32 elements) puts its 8 groups of 4 into lanes 8 * (s & 1) + k, each
// group's product scaled by its 16-element sub-block's scale through madd with the scales as
// int16 (exact). Q2_K weights (0..3) are unsigned; Q3_K's (-4..3) are taken as w + 4 (0..7) and
// 4 * (activation pair sum) subtracted in int16 (exact). Q2_K min term: sum_j min_j * bsum_j by one madd, per
// super-block, into a scalar subtracted after the tree. Used at the AVX-512 level too.
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T2 __attribute__((target("avx2,fma,f16c")))
#define AI2 CK_AI T2

AI2 float k23_hsum(__m256 lo, __m256 hi) {
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
}

AI2 int k23_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* the 16 sub-block scales of a super-block as int8 (Q3_K: 6 bits, minus 32) */
AI2 __m128i k23_scales(int type, const uint8_t *b) {
    if (type == CK_Q2_K) return _mm_and_si128(_mm_loadu_si128((const __m128i *)b), _mm_set1_epi8(0x0F));
    const uint32_t a0 = ck_rd32(b + 96), a1 = ck_rd32(b + 100), hb = ck_rd32(b + 104);
    const uint32_t m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
    __m128i v = _mm_setr_epi32((int)((a0 & m4) | ((hb & m2) << 4)), (int)((a1 & m4) | (((hb >> 2) & m2) << 4)),
                               (int)(((a0 >> 4) & m4) | (((hb >> 4) & m2) << 4)),
                               (int)(((a1 >> 4) & m4) | (((hb >> 6) & m2) << 4)));
    return _mm_sub_epi8(v, _mm_set1_epi8(32));
}

/* int16 scale vector for sub-block s = 4n + k: low half scale 2s, high half scale 2s + 1, from
   half = the 8 int16 scales of n (both 128-bit halves) */
AI2 __m256i k23_scale_pair(__m256i half, int k) {
    const char i0 = (char)(4 * k), i1 = (char)(4 * k + 1), j0 = (char)(4 * k + 2), j1 = (char)(4 * k + 3);
    const __m256i ctl = _mm256_setr_epi8(i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1,
                                         j0, j1, j0, j1, j0, j1, j0, j1, j0, j1, j0, j1, j0, j1, j0, j1);
    return _mm256_shuffle_epi8(half, ctl);
}

/* hmask bit s of every byte moved to bit 2 (other bits: garbage, masked by the caller) */
AI2 __m256i k23_bit_to_4(__m256i h, int s) {
    switch (s) {
    case 0: return _mm256_slli_epi16(h, 2);
    case 1: return _mm256_slli_epi16(h, 1);
    case 2: return h;
    case 3: return _mm256_srli_epi16(h, 1);
    case 4: return _mm256_srli_epi16(h, 2);
    case 5: return _mm256_srli_epi16(h, 3);
    case 6: return _mm256_srli_epi16(h, 4);
    default: return _mm256_srli_epi16(h, 5);
    }
}

AI2 void tileK23(int type, const int R, const int T, const uint8_t *w, size_t rb, int nsb,
                 const ck_act *a, int t, float *y, size_t ldy, int r) {
    const int bb = ck_bbytes(type);
    const int q3 = type == CK_Q3_K;
    __m256 acc[2][2][2];
    float macc[2][2];
    const int8_t *aq[2];
    const float *ad[2];
    const int16_t *bs[2];
    for (int j = 0; j < T; j++) {
        aq[j] = a->q + (size_t)(t + j) * a->qStride;
        ad[j] = a->d + (size_t)(t + j) * a->dStride;
        bs[j] = a->bsums + (size_t)(t + j) * a->bStride;
        for (int i = 0; i < R; i++) { acc[i][j][0] = acc[i][j][1] = _mm256_setzero_ps(); macc[i][j] = 0.0f; }
    }
    const uint8_t *rowp[2];
    for (int i = 0; i < R; i++) rowp[i] = w + (size_t)(r + i) * rb;
    const size_t pfd = 4 * rb;
    const __m256i three = _mm256_set1_epi8(3);
    for (int sb = 0; sb < nsb; sb++) {
        __m256i sc16[2], mn16[2], hm[2];
        float dw[2], dmin[2];
        for (int i = 0; i < R; i++) {
            const uint8_t *blk = rowp[i] + (size_t)sb * bb;
            for (int off = 0; off < bb; off += 64) _mm_prefetch((const char *)(blk + pfd + off), _MM_HINT_T0);
            sc16[i] = _mm256_cvtepi8_epi16(k23_scales(type, blk));
            if (q3) {
                dw[i] = _cvtsh_ss(ck_rd16(blk + 108));
                dmin[i] = 0.0f;
                hm[i] = _mm256_loadu_si256((const __m256i *)blk);
            } else {
                dw[i] = _cvtsh_ss(ck_rd16(blk + 80));
                dmin[i] = _cvtsh_ss(ck_rd16(blk + 82));
                mn16[i] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(_mm_loadu_si128((const __m128i *)blk), 4),
                                                             _mm_set1_epi8(0x0F)));
            }
        }
        __m256i isum[2][2][2];
        for (int j = 0; j < T; j++)
            for (int i = 0; i < R; i++) isum[i][j][0] = isum[i][j][1] = _mm256_setzero_si256();
        for (int n = 0; n < 2; n++) {
            __m256i qv[2], half[2];
            for (int i = 0; i < R; i++) {
                qv[i] = _mm256_loadu_si256((const __m256i *)(rowp[i] + (size_t)sb * bb + (q3 ? 32 : 16) + 32 * n));
                half[i] = n ? _mm256_permute2x128_si256(sc16[i], sc16[i], 0x11) : _mm256_permute2x128_si256(sc16[i], sc16[i], 0x00);
            }
            for (int k = 0; k < 4; k++) {
                const int s = 4 * n + k;
                __m256i wv[2], scv[2];
                for (int i = 0; i < R; i++) {
                    wv[i] = _mm256_and_si256(_mm256_srli_epi16(qv[i], 2 * k), three);
                    if (q3) /* w + 4 = low bits | 4 * hmask bit s: 0..7 */
                        wv[i] = _mm256_or_si256(wv[i], _mm256_and_si256(k23_bit_to_4(hm[i], s), _mm256_set1_epi8(4)));
                    scv[i] = k23_scale_pair(half[i], k);
                }
                for (int j = 0; j < T; j++) {
                    const __m256i av = _mm256_loadu_si256((const __m256i *)(aq[j] + 256 * sb + 32 * s));
                    /* Q3_K: sum (w + 4) a - 4 sum a, per int16 pair (|.| <= 2 * 7 * 127: exact) */
                    const __m256i a4 = q3 ? _mm256_maddubs_epi16(_mm256_set1_epi8(4), av) : _mm256_setzero_si256();
                    for (int i = 0; i < R; i++) {
                        __m256i p16 = _mm256_maddubs_epi16(wv[i], av);
                        if (q3) p16 = _mm256_sub_epi16(p16, a4);
                        isum[i][j][s & 1] = _mm256_add_epi32(isum[i][j][s & 1], _mm256_madd_epi16(p16, scv[i]));
                    }
                }
            }
        }
        for (int j = 0; j < T; j++) {
            const float da = ad[j][sb];
            const __m256i bsv = q3 ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(bs[j] + 16 * sb));
            for (int i = 0; i < R; i++) {
                const __m256 D = _mm256_set1_ps(dw[i] * da);
                for (int h = 0; h < 2; h++)
                    acc[i][j][h] = _mm256_add_ps(acc[i][j][h], _mm256_mul_ps(D, _mm256_cvtepi32_ps(isum[i][j][h])));
                if (!q3) {
                    const int msum = k23_hsum_i32(_mm256_madd_epi16(mn16[i], bsv));
                    const float Dm = dmin[i] * da;
                    macc[i][j] = macc[i][j] + Dm * (float)msum;
                }
            }
        }
    }
    for (int j = 0; j < T; j++)
        for (int i = 0; i < R; i++) y[(size_t)(t + j) * ldy + r + i] = k23_hsum(acc[i][j][0], acc[i][j][1]) - macc[i][j];
}

/* one row at a time (two rows' state spills: measured slower), one or two tokens */
#define DEF23(TY, NAME)                                                                                           \
    static T2 void NAME##_2(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r) { tileK23(TY, 1, 2, w, rb, nb, a, t, y, ldy, r); } \
    static T2 void NAME##_1(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r) { tileK23(TY, 1, 1, w, rb, nb, a, t, y, ldy, r); }

DEF23(CK_Q2_K, k2)
DEF23(CK_Q3_K, k3)

typedef void (*k23_fn)(const uint8_t *, size_t, int, const ck_act *, int, float *, size_t, int);

void ck_gemm_k23_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                      const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    k23_fn f2, f1;
    if (type == CK_Q2_K) { f2 = k2_2; f1 = k2_1; }
    else if (type == CK_Q3_K) { f2 = k3_2; f1 = k3_1; }
    else return;
    const int nsb = cols / 256;
    int t = t0;
    for (; t + 2 <= t1; t += 2)
        for (int r = r0; r < r1; r++) f2(w, rb, nsb, a, t, y, ldy, r);
    for (; t < t1; t++)
        for (int r = r0; r < r1; r++) f1(w, rb, nsb, a, t, y, ldy, r);
}
#endif
