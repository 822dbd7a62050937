// AVX2 kernel for 32-block matrices (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) on their row-interleaved copy
// (ck_interleave, the copy the AVX-512 kernel reads): a 16-row group's record of block b is done as
// two octets of 8 rows, one row per 32-bit lane. Bitwise equal to gemm_portable.c for every (row,
// token), whatever the token count.
//
// Group k of block b (elements 4k..4k+3) is one u8 weight vector (lane r = row r's 4 weights:
// Q4 / Q5 values 0..15 / 0..31, Q8_0 values + 128, turned back into int8 here); vpmaddubsw with the
// token's 4 activations broadcast gives two int16 partial sums per row. Q4: the 8 groups' int16
// sums are added before one vpmaddwd (|sum| <= 8 * 2 * 15 * 127 < 2^15); Q5: 4 groups at a time;
// Q8_0: vpmaddubsw(|w|, sign(a, w)) per group (|pair| <= 2 * 128 * 127 < 2^15). That is the block's
// exact integer dot of the unsigned values; the offset (8 for Q4_0, 16 for Q5_0) times the block's
// activation sum (a->asum) makes it the signed dot p_b. Then the canonical float step into lane
// b % 16, kept per token and octet as a vector (A), and the canonical tree over lanes at the end.
// Two groups (32 rows, their records alternating in memory) are done per pass where the range
// allows, so each activation broadcast feeds 4 octets; tokens 4 at a time.
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T2 __attribute__((target("avx2,fma,f16c")))
#define AI2 CK_AI T2

/* floats per (octet, token) accumulator set: 16 lane vectors + one of padding */
#define X32_A 136

/* One octet (rows 8h..8h+7 of the record at p) of block b for T tokens: the float step of each. */
AI2 void x32_octet(const int type, const int T, const uint8_t *p, const int h, int b, const int8_t *const *aq,
                   const float *const *ad, const float *const *as, const int32_t *const *asum, float *const *A) {
    const int hm = type == CK_Q4_1 || type == CK_Q5_1, q8 = type == CK_Q8_0;
    const int q5 = type == CK_Q5_0 || type == CK_Q5_1;
    const int hb = hm ? 64 : 32;
    const int sc = hb + (q5 ? 64 : 0);
    const int off = type == CK_Q4_0 ? 8 : type == CK_Q5_0 ? 16 : 0;
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16 * h)));
    __m256i pj[4];
    if (q8) {
        for (int j = 0; j < T; j++) pj[j] = _mm256_setzero_si256();
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++) {
            const __m256i w = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + sc + 64 * k + 32 * h)),
                                               _mm256_set1_epi8((char)0x80));
            const __m256i aw = _mm256_abs_epi8(w);
            for (int j = 0; j < T; j++) {
                const __m256i av = _mm256_set1_epi32((int)ck_rd32((const uint8_t *)(aq[j] + 32 * b + 4 * k)));
                pj[j] = _mm256_add_epi32(pj[j], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(av, w)), ones));
            }
        }
    } else {
        __m256i c[4];
        for (int k = 0; k < 4; k++) c[k] = _mm256_loadu_si256((const __m256i *)(p + sc + 64 * k + 32 * h));
        const __m256i hv = q5 ? _mm256_loadu_si256((const __m256i *)(p + hb + 32 * h)) : _mm256_setzero_si256();
        __m256i s16[4][2];
        for (int j = 0; j < T; j++) s16[j][0] = s16[j][1] = _mm256_setzero_si256();
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++) {
            __m256i w = k < 4 ? _mm256_and_si256(c[k], m4) : _mm256_and_si256(_mm256_srli_epi16(c[k - 4], 4), m4);
            if (q5) {
                __m256i hk = hv;
                if (k < 4) hk = _mm256_slli_epi16(hv, 4 - k);
                else if (k > 4) hk = _mm256_srli_epi16(hv, k - 4);
                w = _mm256_or_si256(w, _mm256_and_si256(hk, _mm256_set1_epi8(0x10)));
            }
            const int half = q5 ? k >> 2 : 0;
            for (int j = 0; j < T; j++) {
                const __m256i av = _mm256_set1_epi32((int)ck_rd32((const uint8_t *)(aq[j] + 32 * b + 4 * k)));
                s16[j][half] = _mm256_add_epi16(s16[j][half], _mm256_maddubs_epi16(w, av));
            }
        }
        for (int j = 0; j < T; j++) {
            pj[j] = _mm256_madd_epi16(s16[j][0], ones);
            if (q5) pj[j] = _mm256_add_epi32(pj[j], _mm256_madd_epi16(s16[j][1], ones));
            if (off) pj[j] = _mm256_sub_epi32(pj[j], _mm256_set1_epi32(off * asum[j][b]));
        }
    }
    const __m256 mw = hm ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 32 + 16 * h))) : _mm256_setzero_ps();
    for (int j = 0; j < T; j++) {
        float *Al = A[j] + 8 * (b & 15);
        const __m256 D = _mm256_mul_ps(dw, _mm256_set1_ps(ad[j][b]));
        __m256 s = _mm256_fmadd_ps(D, _mm256_cvtepi32_ps(pj[j]), _mm256_load_ps(Al));
        if (hm) s = _mm256_fmadd_ps(mw, _mm256_set1_ps(as[j][b]), s);
        _mm256_store_ps(Al, s);
    }
}

/* G groups (1 or 2; records of block b at base + b * stride, the second group's rec bytes after
   the first's) x T tokens from t: accumulators A (G * 2 octets x T tokens), then the results. */
AI2 void x32_pass(const int type, const int T, int G, const uint8_t *base, size_t stride, size_t rec, int nb,
                  const ck_act *a, int t, float *y, size_t ldy, int r, float *A) {
    const int8_t *aq[4];
    const float *ad[4], *as[4];
    const int32_t *asum[4];
    for (int j = 0; j < T; j++) {
        aq[j] = a->q + (size_t)(t + j) * a->qStride;
        ad[j] = a->d + (size_t)(t + j) * a->dStride;
        as[j] = a->s + (size_t)(t + j) * a->dStride;
        asum[j] = a->asum ? a->asum + (size_t)(t + j) * a->dStride : NULL;
    }
    const int no = 2 * G;
    for (int o = 0; o < no; o++)
        for (int j = 0; j < T; j++)
            for (int l = 0; l < 16; l++) _mm256_store_ps(A + X32_A * (o * 4 + j) + 8 * l, _mm256_setzero_ps());
    for (int b = 0; b < nb; b++) {
        const uint8_t *p = base + (size_t)b * stride;
        for (size_t q = 0; q < (size_t)G * rec; q += 64) _mm_prefetch((const char *)(p + 2 * stride + q), _MM_HINT_T0);
        for (int o = 0; o < no; o++) {
            float *Ao[4];
            for (int j = 0; j < T; j++) Ao[j] = A + X32_A * (o * 4 + j);
            x32_octet(type, T, p + (size_t)(o >> 1) * rec, o & 1, b, aq, ad, as, asum, Ao);
        }
    }
    for (int o = 0; o < no; o++)
        for (int j = 0; j < T; j++) {
            const float *Aj = A + X32_A * (o * 4 + j);
            __m256 v[8];
            for (int m = 0; m < 8; m++) v[m] = _mm256_add_ps(_mm256_load_ps(Aj + 8 * m), _mm256_load_ps(Aj + 8 * (m + 8)));
            for (int m = 0; m < 4; m++) v[m] = _mm256_add_ps(v[m], v[m + 4]);
            for (int m = 0; m < 2; m++) v[m] = _mm256_add_ps(v[m], v[m + 2]);
            _mm256_storeu_ps(y + (size_t)(t + j) * ldy + r + 8 * o, _mm256_add_ps(v[0], v[1]));
        }
}

AI2 void x32_run(const int type, int G, const uint8_t *base, size_t stride, size_t rec, int nb, const ck_act *a, int t0,
                 int t1, float *y, size_t ldy, int r, float *A) {
    int t = t0;
    for (; t + 4 <= t1; t += 4) x32_pass(type, 4, G, base, stride, rec, nb, a, t, y, ldy, r, A);
    switch (t1 - t) {
    case 3: x32_pass(type, 3, G, base, stride, rec, nb, a, t, y, ldy, r, A); break;
    case 2: x32_pass(type, 2, G, base, stride, rec, nb, a, t, y, ldy, r, A); break;
    case 1: x32_pass(type, 1, G, base, stride, rec, nb, a, t, y, ldy, r, A); break;
    default: break;
    }
}

#define X32FN(TY, NAME)                                                                                           \
    static T2 void NAME(int G, const uint8_t *base, size_t stride, size_t rec, int nb, const ck_act *a, int t0,   \
                        int t1, float *y, size_t ldy, int r, float *A) {                                          \
        x32_run(TY, G, base, stride, rec, nb, a, t0, t1, y, ldy, r, A);                                           \
    }
X32FN(CK_Q4_0, x32_q4_0)
X32FN(CK_Q4_1, x32_q4_1)
X32FN(CK_Q5_0, x32_q5_0)
X32FN(CK_Q5_1, x32_q5_1)
X32FN(CK_Q8_0, x32_q8_0)

int ck_gemm_x32_avx2(int type, const uint8_t *wx, int rows, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                     float *y, size_t ldy, int *gs, int *ge) {
    void (*f)(int, const uint8_t *, size_t, size_t, int, const ck_act *, int, int, float *, size_t, int, float *);
    switch (type) {
    case CK_Q4_0: f = x32_q4_0; break;
    case CK_Q4_1: f = x32_q4_1; break;
    case CK_Q5_0: f = x32_q5_0; break;
    case CK_Q5_1: f = x32_q5_1; break;
    case CK_Q8_0: f = x32_q8_0; break;
    default: return 0;
    }
    if (type != CK_Q4_1 && type != CK_Q5_1 && type != CK_Q8_0 && a->asum == NULL) return 0;
    if (ck_interleave_bytes(type, rows, cols) == 0) return 0;
    const int nb = cols / 32;
    const int s = (r0 + 15) & ~15, e = r1 & ~15;
    if (s >= e) return 0;
    _Alignas(32) float A[4 * 4 * X32_A];
    const size_t rec = 16 * (size_t)ck_bbytes(type);
    const int ng = rows / 16;
    for (int g = s / 16; g < e / 16;) {
        const int paired = (g | 1) < ng;
        const uint8_t *base = wx + ck_x16_record(g, 0, ng, nb) * rec;
        const int G = paired && (g & 1) == 0 && g + 1 < e / 16 ? 2 : 1;
        f(G, base, paired ? 2 * rec : rec, rec, nb, a, t0, t1, y, ldy, 16 * g, A);
        g += G;
    }
    *gs = s; *ge = e;
    return 1;
}

#endif
