// AVX2 kernel for Q4_K and Q5_K matrices on their row-interleaved copy (ck_interleave_k, the same
// copy the AVX-512 level reads with this kernel): each 16-row record is done as two halves of 8
// rows, one row per 32-bit lane. Bitwise equal to gemm_portable.c's dotK for every (row, token),
// whatever the token count. (Q6_K has no copy at this level: WeightMatrix.interleavedByteCount;
// gemm_k_avx2.c does it.)
//
// The per-super-block order of ck_internal.h (CK_K_SB). Vector v = 8k + m of a record holds, per
// row, 4 bytes whose low nibbles are elements 64k + 4m.. of sub-block 2k and whose high nibbles are
// elements 64k + 32 + 4m.. of sub-block 2k + 1 (Q5_K: plus the high bit from qh). vpmaddubsw with
// the token's 4 activations broadcast gives two int16 partial sums per row; the 8 groups of a
// sub-block (Q5_K: 4 at a time) are added in int16 (no overflow: 8 * 2 * 15 * 127 and
// 4 * 2 * 31 * 127 < 32768), then one vpmaddwd by the sub-block scale (in both halves of the lane)
// gives the exact sc * sum per row. Per super-block: acc = fma(dw * da, isum, acc), then
// acc = fma(-(dmin * da), msum, acc), 8 rows a vector, up to 4 tokens a pass.
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T2 __attribute__((target("avx2,fma,f16c")))
#define AI2 CK_AI T2

/* u8 weights of group (l, k), rows 8h..8h+7 of a record */
AI2 __m256i xk2_w(const int type, const uint8_t *p, const int l, const int k) {
    /* p: the record + 32h (rows 8h.. are lanes 8h.. of every 64-byte vector) */
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    switch (type) {
    case CK_Q4_K: {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(p + CK_XK_Q4K_Q + 64 * (8 * k + (l & 7))));
        return l < 8 ? _mm256_and_si256(v, m4) : _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    default: { /* Q5_K */
        const __m256i v = _mm256_loadu_si256((const __m256i *)(p + CK_XK_Q5K_Q + 64 * (8 * k + (l & 7))));
        const __m256i n = l < 8 ? _mm256_and_si256(v, m4) : _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        __m256i h = _mm256_loadu_si256((const __m256i *)(p + CK_XK_Q5K_QH + 64 * (l & 7)));
        const int b = 2 * k + (l >> 3);
        if (b < 4) h = _mm256_slli_epi16(h, 4 - b);
        else if (b > 4) h = _mm256_srli_epi16(h, b - 4);
        return _mm256_or_si256(n, _mm256_and_si256(h, _mm256_set1_epi8(0x10)));
    }
    }
}

/* 8 unsigned bytes -> int32 lanes holding the value in both int16 halves */
AI2 __m256i xk2_pair(const uint8_t *p) {
    const __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_or_si256(x, _mm256_slli_epi32(x, 16));
}

/* T (1..4) tokens from t, both halves (rows 8h..8h+7, h = 0, 1) of one 16-row group, into y. */
AI2 void xk2_tokens(const int type, const int T, const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t,
                    float *y, size_t ldy, int r, int pf) {
    /* groups of a sub-block summed in int16 before its scale multiply */
    const int G = type == CK_Q4_K ? 8 : 4;
    const __m256i zero = _mm256_setzero_si256();
    /* HB halves a pass. One token (decode): both halves in one pass over the super-blocks, so
       the group's records stream from memory once, without pauses (a half a pass reads them twice,
       the second time from cache while memory idles), and each activation broadcast feeds both.
       More tokens: one half a pass, which keeps the accumulators in registers. */
    const int HB = T == 1 ? 2 : 1;
#pragma clang loop unroll(full)
    for (int h0 = 0; h0 < 2; h0 += HB) {
        __m256 acc[2][4];
        for (int hh = 0; hh < HB; hh++)
            for (int j = 0; j < T; j++) acc[hh][j] = _mm256_setzero_ps();
        for (int sb = 0; sb < nsb; sb++) {
            const uint8_t *p = g + (size_t)sb * rec;
            if (pf && h0 == 0)
                for (size_t o = 0; o < rec; o += 64) _mm_prefetch((const char *)(p + 2 * rec + o), _MM_HINT_T0);
            const int8_t *aq[4];
            for (int j = 0; j < T; j++) aq[j] = a->q + (size_t)(t + j) * a->qStride + 256 * (size_t)sb;
            __m256i is[2][4];
            for (int hh = 0; hh < HB; hh++)
                for (int j = 0; j < T; j++) is[hh][j] = zero;
#pragma clang loop unroll(full)
            for (int k = 0; k < 4; k++) {
#pragma clang loop unroll(full)
                for (int nib = 0; nib < 2; nib++) {
                    __m256i s16[2][4];
#pragma clang loop unroll(full)
                    for (int m = 0; m < 8; m++) {
                        const int l = 8 * nib + m;
                        __m256i av[4];
                        for (int j = 0; j < T; j++) av[j] = _mm256_set1_epi32((int)ck_rd32((const uint8_t *)(aq[j] + 64 * k + 4 * l)));
#pragma clang loop unroll(full)
                        for (int hh = 0; hh < HB; hh++) {
                            const __m256i w = xk2_w(type, p + 32 * (h0 + hh), l, k);
                            for (int j = 0; j < T; j++) {
                                const __m256i x = _mm256_maddubs_epi16(w, av[j]);
                                s16[hh][j] = m % G == 0 ? x : _mm256_add_epi16(s16[hh][j], x);
                            }
                            if (m % G == G - 1) {
                                const __m256i sc = xk2_pair(p + 8 * (h0 + hh) + 64 + 16 * (2 * k + nib));
                                for (int j = 0; j < T; j++) is[hh][j] = _mm256_add_epi32(is[hh][j], _mm256_madd_epi16(s16[hh][j], sc));
                            }
                        }
                    }
                }
            }
#pragma clang loop unroll(full)
            for (int hh = 0; hh < HB; hh++) {
                const int h = h0 + hh;
                const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16 * h)));
                const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 32 + 16 * h)));
                /* min sums: each min vector once, for the T tokens */
                __m256i ms[4];
                for (int j = 0; j < T; j++) ms[j] = zero;
                for (int jj = 0; jj < 8; jj++) {
                    const __m256i mv = xk2_pair(p + 8 * h + 192 + 16 * jj);
                    for (int j = 0; j < T; j++) {
                        const uint8_t *bs = (const uint8_t *)(a->bsums + (size_t)(t + j) * a->bStride + 16 * (size_t)sb);
                        ms[j] = _mm256_add_epi32(ms[j], _mm256_madd_epi16(mv, _mm256_set1_epi32((int)ck_rd32(bs + 4 * jj))));
                    }
                }
                for (int j = 0; j < T; j++) {
                    const __m256 da = _mm256_set1_ps(a->d[(size_t)(t + j) * a->dStride + (size_t)sb]);
                    acc[hh][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, da), _mm256_cvtepi32_ps(is[hh][j]), acc[hh][j]);
                    acc[hh][j] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, da), _mm256_cvtepi32_ps(ms[j]), acc[hh][j]);
                }
            }
        }
        for (int hh = 0; hh < HB; hh++)
            for (int j = 0; j < T; j++) _mm256_storeu_ps(y + (size_t)(t + j) * ldy + r + 8 * (h0 + hh), acc[hh][j]);
    }
}

/* One 16-row group for tokens [t0, t0 + nt), 4 tokens a pass. */
AI2 void xk2_group(const int type, const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t0, int nt, float *y,
                   size_t ldy, int r) {
    for (int tq = 0; tq < nt; tq += 4) {
        const int pf = tq == 0;
        switch (nt - tq < 4 ? nt - tq : 4) {
        case 4: xk2_tokens(type, 4, g, rec, nsb, a, t0 + tq, y, ldy, r, pf); break;
        case 3: xk2_tokens(type, 3, g, rec, nsb, a, t0 + tq, y, ldy, r, pf); break;
        case 2: xk2_tokens(type, 2, g, rec, nsb, a, t0 + tq, y, ldy, r, pf); break;
        default: xk2_tokens(type, 1, g, rec, nsb, a, t0 + tq, y, ldy, r, pf); break;
        }
    }
}

#define XK2FN(TY, NAME)                                                                                        \
    static T2 void NAME(const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t0, int nt, float *y,      \
                        size_t ldy, int r) {                                                                   \
        xk2_group(TY, g, rec, nsb, a, t0, nt, y, ldy, r);                                                      \
    }
XK2FN(CK_Q4_K, xk2_q4k)
XK2FN(CK_Q5_K, xk2_q5k)

int ck_gemm_xk_avx2(int type, const uint8_t *wx, int rows, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                    float *y, size_t ldy, int *gs, int *ge) {
    void (*f)(const uint8_t *, size_t, int, const ck_act *, int, int, float *, size_t, int);
    switch (type) {
    case CK_Q4_K: f = xk2_q4k; break;
    case CK_Q5_K: f = xk2_q5k; break;
    default: return 0; /* Q6_K included: it has no copy */
    }
    if (ck_interleave_k_bytes(type, rows, cols) == 0 || a->bsums == NULL) return 0;
    const int s = (r0 + 15) & ~15, e = r1 & ~15;
    if (s >= e) return 0;
    const int nsb = cols / 256;
    const size_t rec = ck_xk_record_bytes(type);
    for (int g = s / 16; g < e / 16; g++) {
        const uint8_t *base = wx + (size_t)g * (size_t)nsb * rec;
        for (int tc = t0; tc < t1; tc += 16) f(base, rec, nsb, a, tc, t1 - tc < 16 ? t1 - tc : 16, y, ldy, 16 * g);
    }
    *gs = s; *ge = e;
    return 1;
}

#endif
