// AVX2 kernel for Q4_K and Q5_K matrices on their row-interleaved copy (ck_interleave_k, the same
// copy the AVX-512 kernel reads): each 16-row record is done as two halves of 8 rows, one row per
// 32-bit lane. Bitwise equal to gemm_portable.c's dotK for every (row, token), whatever the token
// count. (Q6_K has no copy at this level: WeightMatrix.interleavedByteCount; gemm_k_avx2.c does it.)
//
// Group G = 16k + l of a super-block (elements 4G..4G+3, canonical integer lane l) is one u8 weight
// vector (lane r = its 4 weights in row r): vpmaddubsw with the token's 4 activations broadcast
// gives two int16 partial sums per row (no saturation: |sum| <= 2 * 63 * 127), and vpmaddwd with
// the sub-block scale in both halves of the lane adds them times the scale, exactly the canonical
// sc * p. Passes of 2 or 4 canonical lanes x up to 4 tokens; the float step acc[l] = acc[l] +
// (dw * da) * (float)isum[l] goes to a per-token scratch of 16 lane vectors, reduced with the
// canonical tree at the end; min terms as in the AVX-512 kernel (macc = macc + (dmin * da) * (float)msum per super-block, subtracted last).
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

/* the 8 scale vectors of a super-block's half (rows 8h..8h+7), sub-block 2k + (l >> 3) */
AI2 void xk2_scales(const uint8_t *p, const int h, __m256i sc[8]) {
    for (int i = 0; i < 8; i++) sc[i] = xk2_pair(p + 8 * h + 64 + 16 * i);
}

/* T (1..4) tokens from t, both halves (rows 8h..8h+7, h = 0, 1) of one 16-row group: lane sums
   into A (136 floats per token and half: half h of token j at 136 * (2j + h)), min terms into M
   (8 per token and half, likewise). The halves share the super-block's activation terms. Passes of
   LP (2 or 4) canonical lanes, which share one scale vector per k (LP x T accumulators). */
AI2 void xk2_tokens(const int type, const int T, const int LP, const uint8_t *g, size_t rec, int nsb, const ck_act *a,
                    int t, float *A, float *M, int pf) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256 zf = _mm256_setzero_ps();
    for (int j = 0; j < 2 * T; j++) {
        for (int l = 0; l < 16; l++) _mm256_store_ps(A + 136 * j + 8 * l, zf);
        _mm256_store_ps(M + 8 * j, zf);
    }
    for (int sb = 0; sb < nsb; sb++) {
        const uint8_t *p = g + (size_t)sb * rec;
        if (pf)
            for (size_t o = 0; o < rec; o += 64) _mm_prefetch((const char *)(p + 2 * rec + o), _MM_HINT_T0);
        const int8_t *aq[4];
        float da[4];
        for (int j = 0; j < T; j++) {
            aq[j] = a->q + (size_t)(t + j) * a->qStride + 256 * (size_t)sb;
            da[j] = a->d[(size_t)(t + j) * a->dStride + (size_t)sb];
        }
        for (int h = 0; h < 2; h++) {
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16 * h)));
            const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 32 + 16 * h)));
            __m256i mv[8];
            for (int jj = 0; jj < 8; jj++) mv[jj] = xk2_pair(p + 8 * h + 192 + 16 * jj);
            for (int j = 0; j < T; j++) {
                const uint8_t *bs = (const uint8_t *)(a->bsums + (size_t)(t + j) * a->bStride + 16 * (size_t)sb);
                __m256i ms = zero;
                for (int jj = 0; jj < 8; jj++)
                    ms = _mm256_add_epi32(ms, _mm256_madd_epi16(mv[jj], _mm256_set1_epi32((int)ck_rd32(bs + 4 * jj))));
                const __m256 Dm = _mm256_mul_ps(dmin, _mm256_set1_ps(da[j]));
                float *Mj = M + 8 * (2 * j + h);
                _mm256_store_ps(Mj, _mm256_add_ps(_mm256_load_ps(Mj), _mm256_mul_ps(Dm, _mm256_cvtepi32_ps(ms))));
            }
            /* each scale vector once per half (not once per lane pair) */
            __m256i scv[8];
            xk2_scales(p, h, scv);
            __m256 D[4];
            for (int j = 0; j < T; j++) D[j] = _mm256_mul_ps(dw, _mm256_set1_ps(da[j]));
#pragma clang loop unroll(full)
            for (int lp = 0; lp < 16 / LP; lp++) {
                __m256i is[4][4];
                for (int j = 0; j < T; j++)
                    for (int i = 0; i < LP; i++) is[j][i] = zero;
#pragma clang loop unroll(full)
                for (int k = 0; k < 4; k++) {
                    const int l0 = LP * lp; /* the pass's lanes share sub-block 2k + (l0 >> 3) */
                    const __m256i sc = scv[2 * k + (l0 >> 3)];
#pragma clang loop unroll(full)
                    for (int i = 0; i < LP; i++) {
                        const int l = l0 + i;
                        const __m256i w = xk2_w(type, p + 32 * h, l, k);
                        for (int j = 0; j < T; j++) {
                            const __m256i x = _mm256_maddubs_epi16(w, _mm256_set1_epi32((int)ck_rd32((const uint8_t *)(aq[j] + 64 * k + 4 * l))));
                            is[j][i] = _mm256_add_epi32(is[j][i], _mm256_madd_epi16(x, sc));
                        }
                    }
                }
                for (int j = 0; j < T; j++)
                    for (int i = 0; i < LP; i++) {
                        float *Al = A + 136 * (2 * j + h) + 8 * (LP * lp + i);
                        _mm256_store_ps(Al, _mm256_add_ps(_mm256_load_ps(Al), _mm256_mul_ps(D[j], _mm256_cvtepi32_ps(is[j][i]))));
                    }
            }
        }
    }
}

AI2 void xk2_store(const float *A, const float *M, int t, int nt, float *y, size_t ldy, int r) {
    for (int j = 0; j < nt; j++)
        for (int h = 0; h < 2; h++) {
            const float *Aj = A + 136 * (size_t)(2 * j + h);
            __m256 v[8];
            for (int m = 0; m < 8; m++) v[m] = _mm256_add_ps(_mm256_load_ps(Aj + 8 * m), _mm256_load_ps(Aj + 8 * (m + 8)));
            for (int m = 0; m < 4; m++) v[m] = _mm256_add_ps(v[m], v[m + 4]);
            for (int m = 0; m < 2; m++) v[m] = _mm256_add_ps(v[m], v[m + 2]);
            __m256 s = _mm256_add_ps(v[0], v[1]);
            s = _mm256_sub_ps(s, _mm256_load_ps(M + 8 * (2 * j + h)));
            _mm256_storeu_ps(y + (size_t)(t + j) * ldy + r + 8 * h, s);
        }
}

/* One 16-row group for tokens [t0, t0 + nt), nt <= 16, 4 tokens a pass. */
AI2 void xk2_group(const int type, const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t0, int nt, float *y,
                   size_t ldy, int r, float *A, float *M) {
    for (int tq = 0; tq < nt; tq += 4) {
        const int pf = tq == 0;
        float *Aq = A + 272 * (size_t)tq, *Mq = M + 16 * (size_t)tq;
        /* 4 lanes a pass for 1 token (measured faster there); for more, the accumulators would spill */
        switch (nt - tq < 4 ? nt - tq : 4) {
        case 4: xk2_tokens(type, 4, 2, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        case 3: xk2_tokens(type, 3, 2, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        case 2: xk2_tokens(type, 2, 2, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        default: xk2_tokens(type, 1, 4, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        }
    }
    xk2_store(A, M, t0, nt, y, ldy, r);
}

#define XK2FN(TY, NAME)                                                                                        \
    static T2 void NAME(const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t0, int nt, float *y,      \
                        size_t ldy, int r, float *A, float *M) {                                               \
        xk2_group(TY, g, rec, nsb, a, t0, nt, y, ldy, r, A, M);                                                \
    }
XK2FN(CK_Q4_K, xk2_q4k)
XK2FN(CK_Q5_K, xk2_q5k)

int ck_gemm_xk_avx2(int type, const uint8_t *wx, int rows, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                    float *y, size_t ldy, int *gs, int *ge) {
    void (*f)(const uint8_t *, size_t, int, const ck_act *, int, int, float *, size_t, int, float *, float *);
    switch (type) {
    case CK_Q4_K: f = xk2_q4k; break;
    case CK_Q5_K: f = xk2_q5k; break;
    default: return 0; /* Q6_K included: no copy is made for it at this level */
    }
    if (ck_interleave_k_bytes(type, rows, cols) == 0 || a->bsums == NULL) return 0;
    const int s = (r0 + 15) & ~15, e = r1 & ~15;
    if (s >= e) return 0;
    const int nsb = cols / 256;
    const size_t rec = ck_xk_record_bytes(type);
    _Alignas(32) float A[16 * 2 * 136];
    _Alignas(32) float M[16 * 2 * 8];
    for (int g = s / 16; g < e / 16; g++) {
        const uint8_t *base = wx + (size_t)g * (size_t)nsb * rec;
        for (int tc = t0; tc < t1; tc += 16) f(base, rec, nsb, a, tc, t1 - tc < 16 ? t1 - tc : 16, y, ldy, 16 * g, A, M);
    }
    *gs = s; *ge = e;
    return 1;
}

#endif
