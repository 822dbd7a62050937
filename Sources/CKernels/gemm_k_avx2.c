// AVX2 (+FMA/F16C) kernel for the K-quant types (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) on the GGUF rows as
// they are (no repacked copy): maddubs / madd integer dots, bitwise equal to gemm_portable.c's dotK
// for every (row, token), whatever the tile (canonical order in ck_internal.h).
//
// Sub-block s of a super-block (elements 32s..32s+31) is one 32-byte weight vector; its 8 groups
// of 4 elements are canonical lanes 8 * (s & 1) + i. vpmaddubsw with the activations' 32 bytes
// gives int16 pair sums, vpmaddwd with the 16-element sub-block scales as int16 (lanes 0-3 the
// even, 4-7 the odd scale) adds the pairs times the scale: the exact sc * p of every group, summed
// into one int32 vector per lane half. Unsigned weights (Q2_K 0..3, Q4_K 0..15, Q5_K 0..31) go in
// directly; Q3_K and Q6_K as w + 4 (0..7) and w + 32 (0..63), with 4 or 32 times each pair's
// activation sum subtracted in int16 (exact: |pair| <= 2 * 63 * 127 before, 2 * 32 * 127 after).
// The lanes' float step acc = acc + (dw * da) * (float)isum is made once per super-block and half;
// mins (Q2_K, Q4_K, Q5_K): sum_j min_j * bsum_j exactly, then macc = macc + (dmin * da) * msum,
// subtracted after the canonical tree. A tile is R rows x T tokens (R * T <= 8 int32 accumulators)
// over one lane half at a time, so the weights of a sub-block are extracted once per T tokens.
// Q4_K, Q5_K and Q6_K (CK_K_SB) take the per-super-block order instead: the tile's int32 vectors
// gather both halves, are reduced to one exact isum per (row, token) — lane c of one vector, like
// the min sums — and fused steps per super-block update the tile's 8 results at once. Q6_K then
// needs no offset term per sub-block: 32 * sum_g sc_g * bsum_g comes off each isum once.
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T2 __attribute__((target("avx2,fma,f16c")))
#define AI2 CK_AI T2

/* the 16 per-16-element scales as int16: low 128 bits the even ones (0, 2, .., 14), high the odd */
AI2 __m256i kq_scales(const int type, const uint8_t *b, __m256i *mins) {
    const __m128i evenodd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    switch (type) {
    case CK_Q4_K:
    case CK_Q5_K: {
        /* 12 bytes -> 8 six-bit scales and 8 six-bit mins (ck_scale_min_k4 for j = 0..7) */
        const uint32_t u0 = ck_rd32(b + 4), u1 = ck_rd32(b + 8), u2 = ck_rd32(b + 12);
        const uint32_t m6 = 0x3F3F3F3Fu, m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
        const uint32_t s03 = u0 & m6, n03 = u1 & m6;
        const uint32_t s47 = (u2 & m4) | (((u0 >> 6) & m2) << 4);
        const uint32_t n47 = ((u2 >> 4) & m4) | (((u1 >> 6) & m2) << 4);
        const __m128i sc8 = _mm_setr_epi32((int)s03, (int)s47, (int)n03, (int)n47);
        /* mins: each twice (one per 16-element half of its 32-element sub-block) */
        *mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sc8, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
        const __m128i s16 = _mm_cvtepu8_epi16(sc8);
        return _mm256_inserti128_si256(_mm256_castsi128_si256(s16), s16, 1);
    }
    case CK_Q6_K:
        return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(b + 192)), evenodd));
    case CK_Q2_K: {
        const __m128i raw = _mm_loadu_si128((const __m128i *)b);
        *mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0F)));
        return _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_and_si128(raw, _mm_set1_epi8(0x0F)), evenodd));
    }
    default: { /* Q3_K: 16 six-bit scales minus 32 */
        const uint32_t a0 = ck_rd32(b + 96), a1 = ck_rd32(b + 100), hb = ck_rd32(b + 104);
        const uint32_t m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
        const __m128i v = _mm_setr_epi32((int)((a0 & m4) | ((hb & m2) << 4)), (int)((a1 & m4) | (((hb >> 2) & m2) << 4)),
                                         (int)(((a0 >> 4) & m4) | (((hb >> 4) & m2) << 4)),
                                         (int)(((a1 >> 4) & m4) | (((hb >> 6) & m2) << 4)));
        return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(_mm_sub_epi8(v, _mm_set1_epi8(32)), evenodd));
    }
    }
}

/* madd scale vector of sub-block s: int16 word s of each 128-bit half, everywhere in that half */
AI2 __m256i kq_scale(__m256i sc, const int s) {
    const char i0 = (char)(2 * s), i1 = (char)(2 * s + 1);
    return _mm256_shuffle_epi8(sc, _mm256_setr_epi8(i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1,
                                                     i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1, i0, i1));
}

/* bit s of every byte of v moved to bit p */
AI2 __m256i kq_bit(__m256i v, const int s, const int p) {
    if (s < p) return _mm256_slli_epi16(v, p - s);
    if (s > p) return _mm256_srli_epi16(v, s - p);
    return v;
}

/* the 32 weights of sub-block s as unsigned bytes: w (Q2_K, Q4_K, Q5_K), w + 4 (Q3_K), w + 32 (Q6_K) */
AI2 __m256i kq_weights(const int type, const uint8_t *b, const int s) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    switch (type) {
    case CK_Q4_K: {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * (s >> 1)));
        return (s & 1) ? _mm256_and_si256(_mm256_srli_epi16(v, 4), m4) : _mm256_and_si256(v, m4);
    }
    case CK_Q5_K: {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 48 + 32 * (s >> 1)));
        const __m256i n = (s & 1) ? _mm256_and_si256(_mm256_srli_epi16(v, 4), m4) : _mm256_and_si256(v, m4);
        const __m256i h = kq_bit(_mm256_loadu_si256((const __m256i *)(b + 16)), s, 4);
        return _mm256_or_si256(n, _mm256_and_si256(h, _mm256_set1_epi8(0x10)));
    }
    case CK_Q6_K: {
        const int n = s >> 2, j = s & 3;
        const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 64 * n + 32 * (j & 1)));
        const __m256i lo = j >= 2 ? _mm256_and_si256(_mm256_srli_epi16(v, 4), m4) : _mm256_and_si256(v, m4);
        const __m256i h = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * n));
        const __m256i hi = _mm256_and_si256(kq_bit(h, 2 * j, 4), _mm256_set1_epi8(0x30));
        return _mm256_or_si256(lo, hi);
    }
    case CK_Q2_K: {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * (s >> 2)));
        return _mm256_and_si256(kq_bit(v, 2 * (s & 3), 0), _mm256_set1_epi8(3));
    }
    default: { /* Q3_K */
        const __m256i v = _mm256_loadu_si256((const __m256i *)(b + 32 + 32 * (s >> 2)));
        const __m256i lo = _mm256_and_si256(kq_bit(v, 2 * (s & 3), 0), _mm256_set1_epi8(3));
        const __m256i h = kq_bit(_mm256_loadu_si256((const __m256i *)b), s, 2);
        return _mm256_or_si256(lo, _mm256_and_si256(h, _mm256_set1_epi8(4)));
    }
    }
}

AI2 int kq_has_min(const int type) { return type == CK_Q2_K || type == CK_Q4_K || type == CK_Q5_K; }

AI2 void kq_block_scales(const int type, const uint8_t *b, float *dw, float *dmin) {
    switch (type) {
    case CK_Q2_K: *dw = _cvtsh_ss(ck_rd16(b + 80)); *dmin = _cvtsh_ss(ck_rd16(b + 82)); break;
    case CK_Q3_K: *dw = _cvtsh_ss(ck_rd16(b + 108)); *dmin = 0.0f; break;
    case CK_Q6_K: *dw = _cvtsh_ss(ck_rd16(b + 208)); *dmin = 0.0f; break;
    default: *dw = _cvtsh_ss(ck_rd16(b)); *dmin = _cvtsh_ss(ck_rd16(b + 2)); break;
    }
}

/* lane c = the sum of v[c]'s 8 lanes, for c < n (v[c] for c >= n must be zero or are not read) */
AI2 __m256i kq_sum8(const __m256i v[8], const int n) {
    const __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i h1 = n > 4 ? _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7])) : _mm256_setzero_si256();
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
}

/* R rows from r x T tokens from t: every super-block, both lane halves; results into y. */
AI2 void kq_tile(const int type, const int R, const int T, const uint8_t *w, size_t rb, int nsb, const ck_act *a, int t,
                 float *y, size_t ldy, int r) {
    const int bb = ck_bbytes(type), hm = kq_has_min(type);
    const int off = type == CK_Q3_K ? 4 : type == CK_Q6_K ? 32 : 0; /* unsigned weights = w + off */
    const int sbo = CK_K_SB(type);
    _Alignas(32) float A[8][16];
    __m256 macc = _mm256_setzero_ps();
    __m256 acc = _mm256_setzero_ps(); /* per-super-block order: lane c = (row, token) c */
    const int8_t *aq[8];
    const float *ad[8];
    const int16_t *bs[8];
    for (int j = 0; j < T; j++) {
        aq[j] = a->q + (size_t)(t + j) * a->qStride;
        ad[j] = a->d + (size_t)(t + j) * a->dStride;
        bs[j] = a->bsums + (size_t)(t + j) * a->bStride;
    }
    for (int c = 0; c < R * T; c++) {
        _mm256_store_ps(A[c], _mm256_setzero_ps());
        _mm256_store_ps(A[c] + 8, _mm256_setzero_ps());
    }
    for (int sb = 0; sb < nsb; sb++) {
        const uint8_t *blk[4];
        __m256i sc[4], mn[4];
        float dw[4], dmin[4];
        for (int i = 0; i < R; i++) {
            blk[i] = w + (size_t)(r + i) * rb + (size_t)sb * bb;
            mn[i] = _mm256_setzero_si256();
            sc[i] = kq_scales(type, blk[i], &mn[i]);
            kq_block_scales(type, blk[i], &dw[i], &dmin[i]);
        }
        _Alignas(32) float D[8];
        for (int i = 0; i < R; i++)
            for (int j = 0; j < T; j++) D[i * T + j] = dw[i] * ad[j][sb];
        for (int c = R * T; c < 8; c++) D[c] = 0.0f;
        __m256i is[8];
#pragma clang loop unroll(full)
        for (int h = 0; h < 2; h++) {
            if (h == 0 || !sbo)
                for (int c = 0; c < 8; c++) is[c] = _mm256_setzero_si256();
#pragma clang loop unroll(full)
            for (int s = h; s < 8; s += 2) {
                __m256i wv[4], sv[4];
                for (int i = 0; i < R; i++) {
                    wv[i] = kq_weights(type, blk[i], s);
                    sv[i] = kq_scale(sc[i], s);
                }
                for (int j = 0; j < T; j++) {
                    const __m256i av = _mm256_loadu_si256((const __m256i *)(aq[j] + 256 * sb + 32 * s));
                    /* the offset times each pair's activation sum, shared by the R rows (in the
                       per-super-block order it is taken off once per super-block instead) */
                    const __m256i ao = off && !sbo ? _mm256_maddubs_epi16(_mm256_set1_epi8((char)off), av) : _mm256_setzero_si256();
                    for (int i = 0; i < R; i++) {
                        __m256i p = _mm256_maddubs_epi16(wv[i], av);
                        if (off && !sbo) p = _mm256_sub_epi16(p, ao);
                        is[i * T + j] = _mm256_add_epi32(is[i * T + j], _mm256_madd_epi16(p, sv[i]));
                    }
                }
            }
            if (sbo) continue;
            for (int c = 0; c < R * T; c++) {
                float *Ac = A[c] + 8 * h;
                _mm256_store_ps(Ac, _mm256_add_ps(_mm256_load_ps(Ac), _mm256_mul_ps(_mm256_set1_ps(D[c]), _mm256_cvtepi32_ps(is[c]))));
            }
        }
        __m256i ms = _mm256_setzero_si256();
        _Alignas(32) float dm[8];
        if (hm) {
            /* exact min sums of every (row, token), one lane each, then their float steps */
            __m256i m[8];
            for (int c = R * T; c < 8; c++) m[c] = _mm256_setzero_si256();
            for (int j = 0; j < T; j++) {
                const __m256i bv = _mm256_loadu_si256((const __m256i *)(bs[j] + 16 * sb));
                for (int i = 0; i < R; i++) m[i * T + j] = _mm256_madd_epi16(mn[i], bv);
            }
            ms = kq_sum8(m, R * T);
            for (int i = 0; i < R; i++)
                for (int j = 0; j < T; j++) dm[i * T + j] = dmin[i] * ad[j][sb];
            for (int c = R * T; c < 8; c++) dm[c] = 0.0f;
            if (!sbo) macc = _mm256_add_ps(macc, _mm256_mul_ps(_mm256_load_ps(dm), _mm256_cvtepi32_ps(ms)));
        }
        if (sbo) {
            if (off) {
                /* Q6_K (weights read as w + 32): minus 32 * sum_g sc_g * bsum_g, exact, per (row, token) */
                for (int i = 0; i < R; i++) {
                    const __m256i scn = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk[i] + 192)));
                    for (int j = 0; j < T; j++) {
                        const __m256i o = _mm256_madd_epi16(scn, _mm256_loadu_si256((const __m256i *)(bs[j] + 16 * sb)));
                        is[i * T + j] = _mm256_sub_epi32(is[i * T + j], _mm256_slli_epi32(o, 5));
                    }
                }
            }
            acc = _mm256_fmadd_ps(_mm256_load_ps(D), _mm256_cvtepi32_ps(kq_sum8(is, R * T)), acc);
            if (hm) acc = _mm256_fnmadd_ps(_mm256_load_ps(dm), _mm256_cvtepi32_ps(ms), acc);
        }
    }
    if (sbo) {
        _Alignas(32) float av[8];
        _mm256_store_ps(av, acc);
        for (int i = 0; i < R; i++)
            for (int j = 0; j < T; j++) y[(size_t)(t + j) * ldy + r + i] = av[i * T + j];
        return;
    }
    _Alignas(32) float mv[8];
    _mm256_store_ps(mv, macc);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < T; j++) {
            const int c = i * T + j;
            const __m256 s8 = _mm256_add_ps(_mm256_load_ps(A[c]), _mm256_load_ps(A[c] + 8));
            const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
            const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
            const float v = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
            y[(size_t)(t + j) * ldy + r + i] = v - mv[c];
        }
}

typedef void (*kq_fn)(const uint8_t *, size_t, int, const ck_act *, int, float *, size_t, int);

#define KQ_TILE(TY, NAME, R, T)                                                                                   \
    static T2 void NAME##_##R##T(const uint8_t *w, size_t rb, int nsb, const ck_act *a, int t, float *y, size_t ldy, int r) { \
        kq_tile(TY, R, T, w, rb, nsb, a, t, y, ldy, r);                                                            \
    }
#define KQ_TYPE(TY, NAME)                                                                                         \
    KQ_TILE(TY, NAME, 2, 4) KQ_TILE(TY, NAME, 2, 3) KQ_TILE(TY, NAME, 2, 2) KQ_TILE(TY, NAME, 2, 1)               \
    KQ_TILE(TY, NAME, 1, 4) KQ_TILE(TY, NAME, 1, 3) KQ_TILE(TY, NAME, 1, 2) KQ_TILE(TY, NAME, 1, 1)               \
    static const kq_fn NAME##_tiles[3][5] = {{0, 0, 0, 0, 0},                                                      \
                                             {0, NAME##_11, NAME##_12, NAME##_13, NAME##_14},                       \
                                             {0, NAME##_21, NAME##_22, NAME##_23, NAME##_24}};

KQ_TYPE(CK_Q2_K, kq2)
KQ_TYPE(CK_Q3_K, kq3)
KQ_TYPE(CK_Q4_K, kq4)
KQ_TYPE(CK_Q5_K, kq5)
KQ_TYPE(CK_Q6_K, kq6)

int ck_gemm_k_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                   float *y, size_t ldy) {
    const kq_fn(*tiles)[5];
    switch (type) {
    case CK_Q2_K: tiles = kq2_tiles; break;
    case CK_Q3_K: tiles = kq3_tiles; break;
    case CK_Q4_K: tiles = kq4_tiles; break;
    case CK_Q5_K: tiles = kq5_tiles; break;
    case CK_Q6_K: tiles = kq6_tiles; break;
    default: return 0;
    }
    const int nsb = cols / 256;
    if (t1 - t0 == 1) {
        /* one token (decode): a row a tile (measured faster than 2 or 4 rows) */
        for (int r = r0; r < r1; r++) tiles[1][1](w, rb, nsb, a, t0, y, ldy, r);
        return 1;
    }
    /* blocks of 16 rows (their weights stay in the L1/L2 cache) x every token, 2 rows x 4 tokens a tile */
    for (int rbk = r0; rbk < r1; rbk += 16) {
        const int re = rbk + 16 < r1 ? rbk + 16 : r1;
        for (int t = t0; t < t1; t += 4) {
            const int nt = t1 - t < 4 ? t1 - t : 4;
            int r = rbk;
            for (; r + 2 <= re; r += 2) tiles[2][nt](w, rb, nsb, a, t, y, ldy, r);
            for (; r < re; r++) tiles[1][nt](w, rb, nsb, a, t, y, ldy, r);
        }
    }
    return 1;
}
#endif
