// AVX-512 VNNI kernel for K-quant matrices (Q4_K, Q5_K, Q6_K) on their row-interleaved copy
// (ck_interleave_k): 16 rows in the 16 lanes of every vector, activations broadcast. Bitwise
// equal to gemm_portable.c's dotK for every (row, token), whatever the token count, so batch
// invariance holds.
//
// The canonical order (ck_internal.h) puts the 4-element group G of a super-block (elements
// 4G..4G+3) in integer lane G % 16, times its 16-element sub-block's scale. Here group G = 16k + l
// (k < 4) is one u8 weight vector (lane r = its 4 weights in row r), unpacked from the copy: one
// vpdpbusd with the token's 4 activations broadcast gives the 16 rows' exact group sums p, and one
// vpdpwssd adds p times the sub-block scale (held in the low 16 bits of each lane, |p| < 2^15) to
// the row's integer sum of canonical lane l. A pass does 4 lanes x up to 4 tokens (16 integer
// accumulators in registers); its float step acc[l] = acc[l] + (dw * da) * (float)isum[l] goes to
// a per-token scratch of 16 lane vectors (each over the 16 rows), reduced at the end with the
// canonical tree. Q4_K / Q5_K min terms: msum = sum_j mn_j * (bsum_2j + bsum_2j+1) by vpdpwssd on
// (mn_j, mn_j) pairs, then macc = macc + (dmin * da) * (float)msum, per super-block in order, and
// subtracted after the tree. Q6_K: weights as u8 (q + 32), the group sum started at -32 times the
// group's activation sum, which makes it the signed dot exactly.
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#define AI512 CK_AI T512

/* u8 weights of group (l, k) of a record: lane r = the 4 weights of row r, elements 64k + 4l.. */
AI512 __m512i xk_w(const int type, const uint8_t *p, const int l, const int k) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    switch (type) {
    case CK_Q4_K: {
        const __m512i v = _mm512_loadu_si512((const void *)(p + CK_XK_Q4K_Q + 64 * (8 * k + (l & 7))));
        return l < 8 ? _mm512_and_si512(v, m4) : _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    case CK_Q5_K: {
        const __m512i v = _mm512_loadu_si512((const void *)(p + CK_XK_Q5K_Q + 64 * (8 * k + (l & 7))));
        const __m512i n = l < 8 ? _mm512_and_si512(v, m4) : _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        __m512i h = _mm512_loadu_si512((const void *)(p + CK_XK_Q5K_QH + 64 * (l & 7)));
        const int b = 2 * k + (l >> 3); /* the element's bit in its qh byte, moved to bit 4 */
        if (b < 4) h = _mm512_slli_epi16(h, 4 - b);
        else if (b > 4) h = _mm512_srli_epi16(h, b - 4);
        return _mm512_or_si512(n, _mm512_and_si512(h, _mm512_set1_epi8(0x10)));
    }
    default: { /* Q6_K: k = 2n + h: ql vector 16n + l, low nibbles (h = 0) or high (h = 1) */
        const __m512i v = _mm512_loadu_si512((const void *)(p + CK_XK_Q6K_QL + 64 * (16 * (k >> 1) + l)));
        const __m512i n = (k & 1) ? _mm512_and_si512(_mm512_srli_epi16(v, 4), m4) : _mm512_and_si512(v, m4);
        __m512i h = _mm512_loadu_si512((const void *)(p + CK_XK_Q6K_QH + 64 * (8 * (k >> 1) + (l & 7))));
        const int s = 2 * (2 * (k & 1) + (l >> 3)); /* the element's 2 bits in its qh byte, moved to bits 4..5 */
        if (s < 4) h = _mm512_slli_epi16(h, 4 - s);
        else if (s > 4) h = _mm512_srli_epi16(h, s - 4);
        return _mm512_or_si512(n, _mm512_and_si512(h, _mm512_set1_epi8(0x30)));
    }
    }
}

/* Scale (low 16 bits of each lane; high bits zero) of group (l, k) for the pass of lanes 4lq.. */
AI512 __m512i xk_scale(const int type, const uint8_t *p, const int lq, const int k) {
    if (type == CK_Q6_K)
        return _mm512_and_si512(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 32 + 16 * (4 * k + lq)))),
                                _mm512_set1_epi32(0xFFFF));
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 64 + 16 * (2 * k + (lq >> 1)))));
}

/* T (1..4) tokens from t over every super-block of one 16-row group: float lane sums into
   A (272 floats per token), min terms into M (16 per token). */
AI512 void xk_tokens(const int type, const int T, const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t,
                     float *A, float *M, int pf) {
    const int q6 = type == CK_Q6_K;
    const __m512i zero = _mm512_setzero_si512();
    const __m512 zf = _mm512_setzero_ps();
    for (int j = 0; j < T; j++) {
        for (int l = 0; l < 16; l++) _mm512_store_ps(A + 272 * j + 16 * l, zf);
        _mm512_store_ps(M + 16 * j, zf);
    }
    _Alignas(64) int32_t corr[4][64];
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
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
        if (!q6) {
            const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 32)));
            __m512i mv[8];
            for (int jj = 0; jj < 8; jj++) {
                const __m512i x = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 192 + 16 * jj)));
                mv[jj] = _mm512_or_si512(x, _mm512_slli_epi32(x, 16));
            }
            for (int j = 0; j < T; j++) {
                const uint8_t *bs = (const uint8_t *)(a->bsums + (size_t)(t + j) * a->bStride + 16 * (size_t)sb);
                __m512i ms = zero;
                for (int jj = 0; jj < 8; jj++) ms = _mm512_dpwssd_epi32(ms, mv[jj], _mm512_set1_epi32((int)ck_rd32(bs + 4 * jj)));
                const __m512 Dm = _mm512_mul_ps(dmin, _mm512_set1_ps(da[j]));
                _mm512_store_ps(M + 16 * j, _mm512_add_ps(_mm512_load_ps(M + 16 * j), _mm512_mul_ps(Dm, _mm512_cvtepi32_ps(ms))));
            }
        } else {
            /* -32 x each group's activation sum */
            for (int j = 0; j < T; j++)
                for (int k = 0; k < 4; k++) {
                    const __m512i s = _mm512_dpbusd_epi32(zero, _mm512_set1_epi8(1), _mm512_loadu_si512((const void *)(aq[j] + 64 * k)));
                    _mm512_store_si512((void *)(corr[j] + 16 * k), _mm512_sub_epi32(zero, _mm512_slli_epi32(s, 5)));
                }
        }
        __m512 D[4];
        for (int j = 0; j < T; j++) D[j] = _mm512_mul_ps(dw, _mm512_set1_ps(da[j]));
#pragma clang loop unroll(full)
        for (int lq = 0; lq < 4; lq++) {
            __m512i sc[4];
            for (int k = 0; k < 4; k++) sc[k] = xk_scale(type, p, lq, k);
            __m512i is[4][4];
            for (int j = 0; j < T; j++)
                for (int i = 0; i < 4; i++) is[j][i] = zero;
#pragma clang loop unroll(full)
            for (int k = 0; k < 4; k++) {
#pragma clang loop unroll(full)
                for (int i = 0; i < 4; i++) {
                    const int l = 4 * lq + i;
                    const __m512i w = xk_w(type, p, l, k);
                    for (int j = 0; j < T; j++) {
                        const __m512i init = q6 ? _mm512_set1_epi32(corr[j][16 * k + l]) : zero;
                        const __m512i pp = _mm512_dpbusd_epi32(init, w, _mm512_set1_epi32((int)ck_rd32((const uint8_t *)(aq[j] + 64 * k + 4 * l))));
                        is[j][i] = _mm512_dpwssd_epi32(is[j][i], pp, sc[k]);
                    }
                }
            }
            for (int j = 0; j < T; j++)
                for (int i = 0; i < 4; i++) {
                    float *Al = A + 272 * j + 16 * (4 * lq + i);
                    _mm512_store_ps(Al, _mm512_add_ps(_mm512_load_ps(Al), _mm512_mul_ps(D[j], _mm512_cvtepi32_ps(is[j][i]))));
                }
        }
    }
}

/* The canonical tree over A's 16 lane vectors of each token, minus its min terms, to 16 rows. */
AI512 void xk_store(const int type, const float *A, const float *M, int t, int nt, float *y, size_t ldy, int r) {
    for (int j = 0; j < nt; j++) {
        const float *Aj = A + 272 * (size_t)j;
        __m512 v[8];
        for (int m = 0; m < 8; m++) v[m] = _mm512_add_ps(_mm512_load_ps(Aj + 16 * m), _mm512_load_ps(Aj + 16 * (m + 8)));
        for (int m = 0; m < 4; m++) v[m] = _mm512_add_ps(v[m], v[m + 4]);
        for (int m = 0; m < 2; m++) v[m] = _mm512_add_ps(v[m], v[m + 2]);
        __m512 s = _mm512_add_ps(v[0], v[1]);
        if (type != CK_Q6_K) s = _mm512_sub_ps(s, _mm512_load_ps(M + 16 * j));
        _mm512_storeu_ps(y + (size_t)(t + j) * ldy + r, s);
    }
}

/* One 16-row group (records g, g + rec, ...) for tokens [t0, t0 + nt), nt <= 16. */
AI512 void xk_group(const int type, const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t0, int nt, float *y,
                    size_t ldy, int r, float *A, float *M) {
    for (int tq = 0; tq < nt; tq += 4) {
        const int pf = tq == 0;
        float *Aq = A + 272 * (size_t)tq, *Mq = M + 16 * (size_t)tq;
        switch (nt - tq < 4 ? nt - tq : 4) {
        case 4: xk_tokens(type, 4, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        case 3: xk_tokens(type, 3, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        case 2: xk_tokens(type, 2, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        default: xk_tokens(type, 1, g, rec, nsb, a, t0 + tq, Aq, Mq, pf); break;
        }
    }
    xk_store(type, A, M, t0, nt, y, ldy, r);
}

#define XKFN(TY, NAME)                                                                                         \
    static T512 void NAME(const uint8_t *g, size_t rec, int nsb, const ck_act *a, int t0, int nt, float *y,     \
                          size_t ldy, int r, float *A, float *M) {                                             \
        xk_group(TY, g, rec, nsb, a, t0, nt, y, ldy, r, A, M);                                                 \
    }
XKFN(CK_Q4_K, xk_q4k)
XKFN(CK_Q5_K, xk_q5k)
XKFN(CK_Q6_K, xk_q6k)

int ck_gemm_xk_avx512(int type, const uint8_t *wx, int rows, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                      float *y, size_t ldy, int *gs, int *ge) {
    void (*f)(const uint8_t *, size_t, int, const ck_act *, int, int, float *, size_t, int, float *, float *);
    switch (type) {
    case CK_Q4_K: f = xk_q4k; break;
    case CK_Q5_K: f = xk_q5k; break;
    case CK_Q6_K: f = xk_q6k; break;
    default: return 0;
    }
    if (ck_interleave_k_bytes(type, rows, cols) == 0 || a->bsums == NULL) return 0;
    const int s = (r0 + 15) & ~15, e = r1 & ~15;
    if (s >= e) return 0;
    const int nsb = cols / 256;
    const size_t rec = ck_xk_record_bytes(type);
    /* per token: 16 lane vectors + 1 of padding (fewer L1 set conflicts); min terms */
    _Alignas(64) float A[16 * 272];
    _Alignas(64) float M[16 * 16];
    for (int g = s / 16; g < e / 16; g++) {
        const uint8_t *base = wx + (size_t)g * (size_t)nsb * rec;
        for (int tc = t0; tc < t1; tc += 16) f(base, rec, nsb, a, tc, t1 - tc < 16 ? t1 - tc : 16, y, ldy, 16 * g, A, M);
    }
    *gs = s; *ge = e;
    return 1;
}

#endif
