// AVX-512 (F/BW/VL/DQ + VNNI) integer dot-product kernels. Bitwise equal to gemm_portable.c.
// Micro-tiles of R rows x T tokens reuse each unpacked weight block for T tokens and each
// activation block for R rows.
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#define AI512 CK_AI T512

AI512 float f16x(const uint8_t *p) { return _cvtsh_ss(ck_rd16(p)); }

AI512 float hsum16(__m512 v) {
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
}

AI512 __m256i nib1(const uint8_t *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1);
    return _mm256_and_si256(y, _mm256_set1_epi8(0x0F));
}

AI512 int is_signed_type(int type) { return type == CK_Q4_0 || type == CK_Q5_0 || type == CK_Q8_0; }
AI512 int has_min32(int type) { return type == CK_Q4_1 || type == CK_Q5_1; }

AI512 __m256i load1(int type, const uint8_t *b0) {
    switch (type) {
    case CK_Q4_0:
        return _mm256_sub_epi8(nib1(b0 + 2), _mm256_set1_epi8(8));
    case CK_Q4_1:
        return nib1(b0 + 4);
    case CK_Q5_0: {
        __m256i v = _mm256_or_si256(nib1(b0 + 6), _mm256_maskz_mov_epi8((__mmask32)ck_rd32(b0 + 2), _mm256_set1_epi8(0x10)));
        return _mm256_sub_epi8(v, _mm256_set1_epi8(16));
    }
    case CK_Q5_1:
        return _mm256_or_si256(nib1(b0 + 8), _mm256_maskz_mov_epi8((__mmask32)ck_rd32(b0 + 4), _mm256_set1_epi8(0x10)));
    default:
        return _mm256_loadu_si256((const __m256i *)(b0 + 2));
    }
}

/* 16 bytes at p + k*stride in 128-bit chunk k (k < 4), zero for k >= nv */
AI512 __m512i ld4x16(const uint8_t *p, size_t stride, int nv) {
    __m512i v = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)p));
    if (nv > 1) v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + stride)), 1);
    if (nv > 2) v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 2 * stride)), 2);
    if (nv > 3) v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 3 * stride)), 3);
    return v;
}

/* 16 bits of the 32-bit word at p + k*stride (low half if hi == 0) in bits 16k..16k+15 */
AI512 __mmask64 qh4(const uint8_t *p, size_t stride, int nv, int hi) {
    uint64_t m = 0;
    for (int k = 0; k < nv; k++) m |= (uint64_t)((ck_rd32(p + (size_t)k * stride) >> (hi ? 16 : 0)) & 0xFFFFu) << (16 * k);
    return (__mmask64)m;
}

/* Weights of 4 consecutive blocks (nv of them valid) split in halves: lo chunk k = elements
   0..15 of block k, hi chunk k = elements 16..31 (signed for signed formats). */
AI512 void load4(int type, const uint8_t *blk, int nv, __m512i *lo, __m512i *hi) {
    const size_t bb = (size_t)ck_bbytes(type);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    switch (type) {
    case CK_Q8_0:
        *lo = ld4x16(blk + 2, bb, nv);
        *hi = ld4x16(blk + 18, bb, nv);
        return;
    case CK_Q4_0:
    case CK_Q4_1: {
        __m512i v = ld4x16(blk + (type == CK_Q4_0 ? 2 : 4), bb, nv);
        *lo = _mm512_and_si512(v, m4);
        *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        if (type == CK_Q4_0) { *lo = _mm512_sub_epi8(*lo, _mm512_set1_epi8(8)); *hi = _mm512_sub_epi8(*hi, _mm512_set1_epi8(8)); }
        return;
    }
    default: { /* Q5_0, Q5_1 */
        const int o = type == CK_Q5_0 ? 2 : 4;
        __m512i v = ld4x16(blk + o + 4, bb, nv);
        const __m512i h5 = _mm512_set1_epi8(0x10);
        *lo = _mm512_or_si512(_mm512_and_si512(v, m4), _mm512_maskz_mov_epi8(qh4(blk + o, bb, nv, 0), h5));
        *hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), _mm512_maskz_mov_epi8(qh4(blk + o, bb, nv, 1), h5));
        if (type == CK_Q5_0) { *lo = _mm512_sub_epi8(*lo, h5); *hi = _mm512_sub_epi8(*hi, h5); }
        return;
    }
    }
}

/* lane l of a 16-block set holds block P(l) = 4*(l%4) + l/4 (an involution) */
#define CK_PIDX _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0)

/* v[m] chunk k (lanes 4k..4k+3) holds partial sums of block 4m+k: lane l of the result is the
   exact sum of block P(l). */
AI512 __m512i red4x4(const __m512i v[4]) {
    __m512i s0 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
    __m512i s1 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(s0, s1), _mm512_unpackhi_epi64(s0, s1));
}

/* One set of n (<= 16) blocks starting at b0 for an R x T tile; accumulators in P order. */
AI512 void set32(int type, const int R, const int T, const int n, const uint8_t *const *rowp, int b0,
                 const int8_t *const *sq, const float *const *ad, const float *const *as, __m512 acc[4][4], size_t pfd) {
    const int sgn = is_signed_type(type), hm = has_min32(type);
    const int bb = ck_bbytes(type);
    const int ng = (n + 3) / 4;
    const __m512i zero = _mm512_setzero_si512();
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    const __m512i pidx = CK_PIDX;
    const __mmask16 bm = (__mmask16)((1u << n) - 1u);
    const __mmask16 pm = _mm512_cmplt_epi32_mask(pidx, _mm512_set1_epi32(n));
    __m512i wlo[4][4], whi[4][4], cv[4][4];
    __m512 dwv[4], mwv[4];
    for (int i = 0; i < R; i++) {
        const uint8_t *blk0 = rowp[i] + (size_t)b0 * bb;
        for (size_t off = 0; off < (size_t)n * bb; off += 64) _mm_prefetch((const char *)(blk0 + pfd + off), _MM_HINT_T0);
        /* 4 bytes at the start of each block: d (and m for formats with a min), in P order */
        const __m512i dm = _mm512_mask_i32gather_epi32(zero, pm, _mm512_mullo_epi32(_mm512_set1_epi32(bb), pidx),
                                                       (const void *)blk0, 1);
        dwv[i] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
        if (hm) mwv[i] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
        for (int m = 0; m < ng; m++) {
            const int nv = n - 4 * m < 4 ? n - 4 * m : 4;
            load4(type, blk0 + (size_t)(4 * m) * bb, nv, &wlo[i][m], &whi[i][m]);
            if (sgn)
                cv[i][m] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, bias, wlo[i][m]), bias, whi[i][m]));
        }
    }
    for (int j = 0; j < T; j++) {
        __m512i alo[4], ahi[4];
        for (int m = 0; m < ng; m++) {
            const int8_t *ap = sq[j] + 128 * (b0 / 4 + m);
            alo[m] = _mm512_load_si512((const void *)ap);
            ahi[m] = _mm512_load_si512((const void *)(ap + 64));
        }
        const __m512 dav = _mm512_permutexvar_ps(pidx, _mm512_maskz_loadu_ps(bm, ad[j] + b0));
        const __m512 sv = hm ? _mm512_permutexvar_ps(pidx, _mm512_maskz_loadu_ps(bm, as[j] + b0)) : _mm512_setzero_ps();
        for (int i = 0; i < R; i++) {
            __m512i p[4];
            for (int m = 0; m < 4; m++) {
                if (m >= ng) { p[m] = zero; continue; }
                p[m] = sgn ? _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(cv[i][m], alo[m], wlo[i][m]), ahi[m], whi[i][m])
                           : _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, wlo[i][m], alo[m]), whi[i][m], ahi[m]);
            }
            const __m512 D = _mm512_mul_ps(dwv[i], dav);
            acc[i][j] = _mm512_mask3_fmadd_ps(D, _mm512_cvtepi32_ps(red4x4(p)), acc[i][j], pm);
            if (hm) acc[i][j] = _mm512_mask3_fmadd_ps(mwv[i], sv, acc[i][j], pm);
        }
    }
}

/* Split copy of one token's activations for the tiles: per 4-block group g, 64 bytes holding
   elements 0..15 of its 4 blocks, then 64 bytes with elements 16..31 (zero past the last block),
   biased to u8 (a ^ 0x80) for signed formats. 128 * ceil(nb/4) bytes, 64-aligned. */
AI512 void split_act(const int8_t *src, int nb, int sgn, int8_t *dst) {
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    for (int g = 0; 4 * g < nb; g++) {
        const int nv = nb - 4 * g < 4 ? nb - 4 * g : 4;
        const int8_t *ap = src + 128 * g;
        __m512i A0, A1;
        if (nv == 4) {
            A0 = _mm512_loadu_si512((const void *)ap);
            A1 = _mm512_loadu_si512((const void *)(ap + 64));
        } else {
            A0 = _mm512_maskz_loadu_epi8(nv >= 2 ? ~(__mmask64)0 : (__mmask64)0xFFFFFFFFu, (const void *)ap);
            A1 = _mm512_maskz_loadu_epi8(nv == 3 ? (__mmask64)0xFFFFFFFFu : 0, (const void *)(ap + 64));
        }
        __m512i lo = _mm512_shuffle_i32x4(A0, A1, _MM_SHUFFLE(2, 0, 2, 0));
        __m512i hi = _mm512_shuffle_i32x4(A0, A1, _MM_SHUFFLE(3, 1, 3, 1));
        if (sgn) { lo = _mm512_xor_si512(lo, bias); hi = _mm512_xor_si512(hi, bias); }
        _mm512_store_si512((void *)(dst + 128 * g), lo);
        _mm512_store_si512((void *)(dst + 128 * g + 64), hi);
    }
}

/* R x T tile for 32-element block formats: 16 blocks at a time, one exact integer sum per
   block (signed weights: u8-biased activations a ^ 0x80 times s8 weights, from -128 * sum(w)),
   then one float step per block into its canonical lane b % 16 (held in P order, put back in
   canonical order before the tree). */
AI512 void tile32(int type, const int R, const int T, const uint8_t *w, size_t rb, int nb,
                  const ck_act *a, int t, float *y, size_t ldy, int r, const int8_t *sqb, size_t sqs, int st) {
    __m512 acc[4][4];
    const int8_t *aq[4];
    const float *ad[4], *as[4];
    for (int j = 0; j < T; j++) {
        aq[j] = sqb + (size_t)(t + j - st) * sqs;
        ad[j] = a->d + (size_t)(t + j) * a->dStride;
        as[j] = a->s + (size_t)(t + j) * a->dStride;
        for (int i = 0; i < R; i++) acc[i][j] = _mm512_setzero_ps();
    }
    const uint8_t *rowp[4];
    for (int i = 0; i < R; i++) rowp[i] = w + (size_t)(r + i) * rb;
    /* Rows of a task are contiguous, so the stream runs tile after tile: prefetch the same
       position two 4-row tiles ahead (short rows defeat the hardware stream prefetcher). */
    const size_t pfd = 8 * rb;
    int b0 = 0;
    for (; b0 + 16 <= nb; b0 += 16) set32(type, R, T, 16, rowp, b0, aq, ad, as, acc, pfd);
    if (b0 < nb) set32(type, R, T, nb - b0, rowp, b0, aq, ad, as, acc, pfd);
    for (int j = 0; j < T; j++)
        for (int i = 0; i < R; i++) y[(size_t)(t + j) * ldy + r + i] = hsum16(_mm512_permutexvar_ps(CK_PIDX, acc[i][j]));
}

#define DEF_TILES(TY)                                                                                          \
    static T512 void t32_##TY##_44(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r, const int8_t *sq, size_t sqs, int st) { tile32(TY, 4, 4, w, rb, nb, a, t, y, ldy, r, sq, sqs, st); } \
    static T512 void t32_##TY##_41(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r, const int8_t *sq, size_t sqs, int st) { tile32(TY, 4, 1, w, rb, nb, a, t, y, ldy, r, sq, sqs, st); } \
    static T512 void t32_##TY##_14(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r, const int8_t *sq, size_t sqs, int st) { tile32(TY, 1, 4, w, rb, nb, a, t, y, ldy, r, sq, sqs, st); } \
    static T512 void t32_##TY##_11(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r, const int8_t *sq, size_t sqs, int st) { tile32(TY, 1, 1, w, rb, nb, a, t, y, ldy, r, sq, sqs, st); }
DEF_TILES(CK_Q4_0)
DEF_TILES(CK_Q4_1)
DEF_TILES(CK_Q5_0)
DEF_TILES(CK_Q5_1)
DEF_TILES(CK_Q8_0)
/* The K-quants have no AVX-512 tile (none in the per-super-block order of ck_internal.h yet):
   gemm_k_avx2.c serves them at this level. */

typedef void (*tile_fn)(const uint8_t *, size_t, int, const ck_act *, int, float *, size_t, int, const int8_t *, size_t, int);

/* Tokens [t0,t1) x rows [r0,r1) through the register tiles. 32-block formats (split != NULL)
   read split activations (split_act), made here for up to 8 tokens at a time. */
typedef void (*split_fn)(const int8_t *, int, int8_t *);
static T512 void run_tiles(tile_fn f44, tile_fn f41, tile_fn f14, tile_fn f11, split_fn split, const uint8_t *w,
                           size_t rb, int nb, const ck_act *a, int t0, int t1, int r0, int r1, float *y, size_t ldy) {
    const size_t sqs = split ? (size_t)((nb + 3) / 4) * 128 : 64;
    int chunk = 8;
    while (chunk > 1 && (size_t)chunk * sqs > 65536) chunk >>= 1;
    _Alignas(64) int8_t sbuf[(size_t)chunk * sqs];
    for (int tc = t0; tc < t1; tc += chunk) {
        const int te = t1 - tc < chunk ? t1 : tc + chunk;
        if (split)
            for (int t = tc; t < te; t++) split(a->q + (size_t)t * a->qStride, nb, sbuf + (size_t)(t - tc) * sqs);
        int t = tc;
        for (; t + 4 <= te; t += 4) {
            int r = r0;
            for (; r + 4 <= r1; r += 4) f44(w, rb, nb, a, t, y, ldy, r, sbuf, sqs, tc);
            for (; r < r1; r++) f14(w, rb, nb, a, t, y, ldy, r, sbuf, sqs, tc);
        }
        for (; t < te; t++) {
            int r = r0;
            for (; r + 4 <= r1; r += 4) f41(w, rb, nb, a, t, y, ldy, r, sbuf, sqs, tc);
            for (; r < r1; r++) f11(w, rb, nb, a, t, y, ldy, r, sbuf, sqs, tc);
        }
    }
}

static T512 void split_s(const int8_t *src, int nb, int8_t *dst) { split_act(src, nb, 1, dst); }
static T512 void split_u(const int8_t *src, int nb, int8_t *dst) { split_act(src, nb, 0, dst); }

/* ---- 32-block formats, packed activations: tokens in lanes ----
   A group of G = 16/L tokens is multiplied with R rows. For each block b, C = 8/L chained
   dpbusd give, for every token j of the group and l < L, an exact int32 partial sum; the L
   partials of a token are added (exact) so that every lane of token j holds p_b of token j,
   then one float step per block into canonical lane b % 16 (one vector per canonical lane,
   all L lanes of a token computing the same value). Canonical lanes are done 4 at a time.
   Signed weights: activations biased to u8 (a ^ 0x80 = a + 128) times s8 weights, starting
   from -128 * sum of the block's weights (in the token's first lane), which gives the exact dot. */

AI512 __m512i bcL(const int L, const void *p) {
    switch (L) {
    case 1: return _mm512_set1_epi32((int)ck_rd32((const uint8_t *)p));
    case 2: { long long v; memcpy(&v, p, 8); return _mm512_set1_epi64(v); }
    case 4: return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p));
    default: return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p));
    }
}

/* One row: weights in activation order (s8 for signed formats, u8 otherwise), -128 * block
   weight sum for signed formats, scales and mins as float. */
AI512 void unpack_row32(int type, const uint8_t *row, int nb, int8_t *wq, int32_t *corr, float *dw, float *mw) {
    const int bb = ck_bbytes(type);
    const __m256i z8 = _mm256_setzero_si256();
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = row + (size_t)b * bb;
        __m256i v = load1(type, blk);
        _mm256_storeu_si256((__m256i *)(wq + 32 * b), v);
        dw[b] = f16x(blk);
        if (has_min32(type)) mw[b] = f16x(blk + 2);
        if (is_signed_type(type)) {
            __m256i s = _mm256_dpbusd_epi32(z8, _mm256_set1_epi8((char)0x80), v);
            corr[b] = -_mm512_reduce_add_epi32(_mm512_zextsi256_si512(s));
        }
    }
}

/* every lane of a token gets the sum of the token's L lanes */
AI512 __m512i hsumL(const int L, __m512i x) {
    if (L >= 2) x = _mm512_add_epi32(x, _mm512_shuffle_epi32(x, (_MM_PERM_ENUM)_MM_SHUFFLE(2, 3, 0, 1)));
    if (L >= 4) x = _mm512_add_epi32(x, _mm512_shuffle_epi32(x, (_MM_PERM_ENUM)_MM_SHUFFLE(1, 0, 3, 2)));
    if (L >= 8) x = _mm512_add_epi32(x, _mm512_shuffle_i32x4(x, x, _MM_SHUFFLE(2, 3, 0, 1)));
    return x;
}

AI512 void grp32(int type, const int L, const int R, int nb, const int8_t *wq, size_t wqs, const int32_t *corr,
                 size_t cs, const float *dwf, const float *mwf, const int8_t *gq, const float *gd, const float *gs,
                 float *out) {
    const int C = 8 / L;
    const int sgn = is_signed_type(type), hm = has_min32(type);
    const __mmask16 m0 = L == 1 ? 0xFFFF : (L == 2 ? 0x5555 : (L == 4 ? 0x1111 : 0x0101));
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    __m512 A[4][16];
    for (int p = 0; p < 4; p++) {
        __m512 acc[4][4];
        for (int i = 0; i < R; i++)
            for (int k = 0; k < 4; k++) acc[i][k] = _mm512_setzero_ps();
        for (int b0 = 4 * p; b0 < nb; b0 += 16) {
            for (int k = 0; k < 4 && b0 + k < nb; k++) {
                const int b = b0 + k;
                const __m512 dav = _mm512_loadu_ps(gd + 16 * b);
                __m512i av[8];
                for (int c = 0; c < C; c++) {
                    av[c] = _mm512_loadu_si512((const void *)(gq + 64 * (b * C + c)));
                    if (sgn) av[c] = _mm512_xor_si512(av[c], bias);
                }
                for (int i = 0; i < R; i++) {
                    /* two independent dpbusd chains (even / odd chunks), then added */
                    __m512i x = sgn ? _mm512_maskz_set1_epi32(m0, corr[i * cs + b]) : _mm512_setzero_si512();
                    __m512i x1 = _mm512_setzero_si512();
                    for (int c = 0; c < C; c++) {
                        const __m512i wb = bcL(L, wq + i * wqs + 32 * b + 4 * c * L);
                        if (c & 1) x1 = sgn ? _mm512_dpbusd_epi32(x1, av[c], wb) : _mm512_dpbusd_epi32(x1, wb, av[c]);
                        else x = sgn ? _mm512_dpbusd_epi32(x, av[c], wb) : _mm512_dpbusd_epi32(x, wb, av[c]);
                    }
                    x = _mm512_add_epi32(x, x1);
                    const __m512 D = _mm512_mul_ps(_mm512_set1_ps(dwf[(size_t)i * nb + b]), dav);
                    acc[i][k] = _mm512_fmadd_ps(D, _mm512_cvtepi32_ps(hsumL(L, x)), acc[i][k]);
                    if (hm)
                        acc[i][k] = _mm512_fmadd_ps(_mm512_set1_ps(mwf[(size_t)i * nb + b]), _mm512_loadu_ps(gs + 16 * b),
                                                    acc[i][k]);
                }
            }
        }
        for (int i = 0; i < R; i++)
            for (int k = 0; k < 4; k++) A[i][4 * p + k] = acc[i][k];
    }
    /* canonical tree over the 16 lane vectors; token j is read from lane j*L */
    for (int i = 0; i < R; i++) {
        for (int h = 8; h >= 1; h >>= 1)
            for (int m = 0; m < h; m++) A[i][m] = _mm512_add_ps(A[i][m], A[i][m + h]);
        if (L == 1) {
            _mm512_storeu_ps(out + 16 * i, A[i][0]);
        } else {
            float t[16];
            _mm512_storeu_ps(t, A[i][0]);
            for (int j = 0; j < 16 / L; j++) out[16 * i + j] = t[j * L];
        }
    }
}

typedef void (*grp_fn)(int, const int8_t *, size_t, const int32_t *, size_t, const float *, const float *,
                       const int8_t *, const float *, const float *, float *);
typedef void (*unpack_fn)(const uint8_t *, int, int8_t *, int32_t *, float *, float *);

#define DEF_G(TY, L, R)                                                                                        \
    static T512 void g32_##TY##_##L##_##R(int nb, const int8_t *wq, size_t wqs, const int32_t *corr, size_t cs, \
                                          const float *dwf, const float *mwf, const int8_t *gq, const float *gd, \
                                          const float *gs, float *out) {                                        \
        grp32(TY, L, R, nb, wq, wqs, corr, cs, dwf, mwf, gq, gd, gs, out);                                      \
    }
#define DEF_GROUPS(TY)                                                                                         \
    DEF_G(TY, 1, 4) DEF_G(TY, 1, 1) DEF_G(TY, 2, 4) DEF_G(TY, 2, 1) DEF_G(TY, 4, 4) DEF_G(TY, 4, 1)              \
    DEF_G(TY, 8, 4) DEF_G(TY, 8, 1)                                                                            \
    static T512 void up32_##TY(const uint8_t *row, int nb, int8_t *wq, int32_t *corr, float *dw, float *mw) {    \
        unpack_row32(TY, row, nb, wq, corr, dw, mw);                                                           \
    }                                                                                                          \
    static const grp_fn gtab_##TY[8] = {g32_##TY##_1_4, g32_##TY##_1_1, g32_##TY##_2_4, g32_##TY##_2_1,         \
                                        g32_##TY##_4_4, g32_##TY##_4_1, g32_##TY##_8_4, g32_##TY##_8_1};

DEF_GROUPS(CK_Q4_0)
DEF_GROUPS(CK_Q4_1)
DEF_GROUPS(CK_Q5_0)
DEF_GROUPS(CK_Q5_1)
DEF_GROUPS(CK_Q8_0)

T512 void ck_pack_act32_avx512(ck_act *a, int cols, int n, void *buf) {
    const int nb = cols / 32;
    int8_t *pq = (int8_t *)buf;
    size_t qb = ((size_t)cols * (size_t)n + 63) & ~(size_t)63;
    size_t db = ((size_t)ck_grp_count(n) * (size_t)nb * 64 + 63) & ~(size_t)63;
    float *pd = (float *)((uint8_t *)buf + qb);
    float *ps = (float *)((uint8_t *)buf + qb + db);
    for (int s = 0; s < n;) {
        const int G = ck_grp_size(n, s);
        if (G >= 2) {
            const int L = 16 / G, C = 8 / L, gi = ck_grp_index(n, s);
            int8_t *dq = pq + (size_t)s * cols;
            float *dd = pd + (size_t)gi * nb * 16, *ds = ps + (size_t)gi * nb * 16;
            for (int j = 0; j < G; j++) {
                const int8_t *src = a->q + (size_t)(s + j) * a->qStride;
                const float *sd = a->d + (size_t)(s + j) * a->dStride, *ss = a->s + (size_t)(s + j) * a->dStride;
                for (int b = 0; b < nb; b++) {
                    for (int c = 0; c < C; c++)
                        memcpy(dq + 64 * (b * C + c) + 4 * L * j, src + 32 * b + 4 * c * L, (size_t)(4 * L));
                    for (int l = 0; l < L; l++) {
                        dd[16 * b + j * L + l] = sd[b];
                        ds[16 * b + j * L + l] = ss[b];
                    }
                }
            }
        }
        s += G;
    }
    a->pq = pq; a->pd = pd; a->ps = ps; a->pn = n;
}

/* Token groups smaller than this go through the 4x4 register tiles (faster there). */
#ifndef CK_PACK_MIN_G
#define CK_PACK_MIN_G 8
#endif

/* Rows [r0,r1) x tokens [t0,t1) from the packed copy; tokens outside whole packed groups
   go through the one-token tiles. */
static T512 void gemm32_packed(grp_fn const *gt, unpack_fn up, split_fn sp, tile_fn f44, tile_fn f41, tile_fn f14, tile_fn f11, const uint8_t *w, size_t rb,
                               int r0, int r1, int cols, const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    const int nb = cols / 32, n = a->pn;
    _Alignas(64) int8_t wq[4 * (size_t)cols];
    _Alignas(64) int32_t corr[(size_t)cols];
    float dwf[4 * (size_t)nb], mwf[4 * (size_t)nb];
    _Alignas(64) float out[64];
    for (int r = r0; r < r1; r += 4) {
        const int nr = r1 - r < 4 ? r1 - r : 4;
        /* The unpack is where the weights arrive from memory: fetch the next 4 rows while this
           group's products run (rows are contiguous, so that is 4*rb bytes further). */
        if (r + 4 < r1) {
            const int nn = r1 - (r + 4) < 4 ? r1 - (r + 4) : 4;
            const uint8_t *nx = w + (size_t)(r + 4) * rb;
            for (size_t off = 0; off < (size_t)nn * rb; off += 64) _mm_prefetch((const char *)(nx + off), _MM_HINT_T0);
        }
        for (int i = 0; i < nr; i++)
            up(w + (size_t)(r + i) * rb, nb, wq + (size_t)i * cols, corr + (size_t)i * (cols / 4), dwf + (size_t)i * nb,
               mwf + (size_t)i * nb);
        for (int s = 0; s < n;) {
            const int G = ck_grp_size(n, s);
            if (s + G <= t0 || s >= t1) { s += G; continue; }
            if (G >= CK_PACK_MIN_G && s >= t0 && s + G <= t1) {
                const int L = 16 / G, gi = ck_grp_index(n, s);
                const int8_t *gq = a->pq + (size_t)s * cols;
                const float *gd = a->pd + (size_t)gi * nb * 16, *gs = a->ps + (size_t)gi * nb * 16;
                const int li = L == 1 ? 0 : (L == 2 ? 2 : (L == 4 ? 4 : 6));
                const size_t cs = (size_t)cols / 4;
                if (nr == 4) {
                    gt[li](nb, wq, cols, corr, cs, dwf, mwf, gq, gd, gs, out);
                } else {
                    for (int i = 0; i < nr; i++)
                        gt[li + 1](nb, wq + (size_t)i * cols, cols, corr + i * cs, cs, dwf + (size_t)i * nb,
                                   mwf + (size_t)i * nb, gq, gd, gs, out + 16 * i);
                }
                for (int j = 0; j < G; j++)
                    for (int i = 0; i < nr; i++) y[(size_t)(s + j) * ldy + r + i] = out[16 * i + j];
            } else {
                const int e = s + G < t1 ? s + G : t1;
                run_tiles(f44, f41, f14, f11, sp, w, rb, nb, a, s > t0 ? s : t0, e, r, r + nr, y, ldy);
            }
            s += G;
        }
    }
}

/* ---- row-interleaved 32-block weights (ck_interleave): 16 rows in the lanes ----
   For block b of a 16-row group, 8 u8 weight vectors (lane r = 4 weights of row r; Q4/Q5 values
   as 0..15 / 0..31, Q8_0 values + 128) are multiplied with a token's activation dwords broadcast
   to every lane, giving 16 exact row sums at once; the offset (8 for Q4_0, 16 for Q5_0, 128 for
   Q8_0) times the block's activation sum makes them the signed dot. Two groups (32 rows) are
   done per pass, so each broadcast feeds two products. The float step of block b goes into
   canonical lane b % 16, kept per token as a vector over the 16 rows (A[token][lane]), and the
   canonical tree over lanes is done with whole vectors at the end: every (row, token) result is
   bitwise the portable one. */
/* Block b of a 16-row group: 8 u8 weight vectors (Q5 fifth bits merged), scales and mins. */
AI512 void x16_load(int type, const uint8_t *p, __m512i *w, __m512 *dw, __m512 *mw) {
    const int hm = type == CK_Q4_1 || type == CK_Q5_1, q8 = type == CK_Q8_0;
    const int q5 = type == CK_Q5_0 || type == CK_Q5_1;
    const int hb = hm ? 64 : 32;
    const int sc = hb + (q5 ? 64 : 0);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    *dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
    *mw = hm ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 32))) : _mm512_setzero_ps();
    if (q8) {
        for (int c = 0; c < 8; c++) w[c] = _mm512_loadu_si512((const void *)(p + sc + 64 * c));
        return;
    }
    for (int c = 0; c < 4; c++) {
        const __m512i v = _mm512_loadu_si512((const void *)(p + sc + 64 * c));
        w[c] = _mm512_and_si512(v, m4);
        w[4 + c] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    if (q5) {
        /* chunk k's fifth bits sit at bit k of every byte (ck_interleave) */
        const __m512i hv = _mm512_loadu_si512((const void *)(p + hb));
        const __m512i b4 = _mm512_set1_epi8(0x10);
        w[0] = _mm512_or_si512(w[0], _mm512_and_si512(_mm512_slli_epi32(hv, 4), b4));
        w[1] = _mm512_or_si512(w[1], _mm512_and_si512(_mm512_slli_epi32(hv, 3), b4));
        w[2] = _mm512_or_si512(w[2], _mm512_and_si512(_mm512_slli_epi32(hv, 2), b4));
        w[3] = _mm512_or_si512(w[3], _mm512_and_si512(_mm512_slli_epi32(hv, 1), b4));
        w[4] = _mm512_or_si512(w[4], _mm512_and_si512(hv, b4));
        w[5] = _mm512_or_si512(w[5], _mm512_and_si512(_mm512_srli_epi32(hv, 1), b4));
        w[6] = _mm512_or_si512(w[6], _mm512_and_si512(_mm512_srli_epi32(hv, 2), b4));
        w[7] = _mm512_or_si512(w[7], _mm512_and_si512(_mm512_srli_epi32(hv, 3), b4));
    }
}

/* The canonical tree over A's 16 lane vectors of each token, stored to 16 consecutive rows. */
AI512 void x16_store(const float *A, int t0, int nt, float *y, size_t ldy, int r) {
    for (int j = 0; j < nt; j++) {
        const float *Aj = A + 272 * (size_t)j;
        __m512 v[8];
        for (int m = 0; m < 8; m++) v[m] = _mm512_add_ps(_mm512_load_ps(Aj + 16 * m), _mm512_load_ps(Aj + 16 * (m + 8)));
        for (int m = 0; m < 4; m++) v[m] = _mm512_add_ps(v[m], v[m + 4]);
        for (int m = 0; m < 2; m++) v[m] = _mm512_add_ps(v[m], v[m + 2]);
        _mm512_storeu_ps(y + (size_t)(t0 + j) * ldy + r, _mm512_add_ps(v[0], v[1]));
    }
}

/* G (1 or 2) consecutive 16-row groups for nt tokens: group h's record of block b at
   g + h * rec + b * bstride (a pair's records alternate: bstride = two records). Each activation
   dword is broadcast once for both groups. A holds G scratch areas of 272 * 16 floats. */
AI512 void x16_group(int type, const int G, const uint8_t *g, size_t bstride, int nb, const ck_act *a,
                     int t0, int nt, float *y, size_t ldy, int r, float *A) {
    const int hm = type == CK_Q4_1 || type == CK_Q5_1;
    const int off = type == CK_Q4_0 ? 8 : (type == CK_Q5_0 ? 16 : (type == CK_Q8_0 ? 128 : 0));
    const size_t rec = 16 * (size_t)ck_bbytes(type);
    const size_t as = 272 * 16;
    const __m512 zf = _mm512_setzero_ps();
    /* lanes no block reaches stay +0 (blocks 0..15 start theirs from +0 below) */
    for (int h = 0; h < G; h++)
        for (int j = 0; j < nt; j++)
            for (int k = nb; k < 16; k++) _mm512_store_ps(A + h * as + 272 * (size_t)j + 16 * k, zf);
    for (int b = 0; b < nb; b++) {
        __m512i w[2][8];
        __m512 dw[2], mw[2];
        for (int h = 0; h < G; h++) {
            const uint8_t *p = g + h * rec + (size_t)b * bstride;
            /* 4 blocks and 1 block ahead, non-temporal: weights are read once per step, and
               keeping them from displacing the K/V cache and activations in L2/L3 made decode
               9% faster for one sequence, 3% for 16, in interleaved runs */
            for (size_t o = 0; o < rec; o += 64) {
                _mm_prefetch((const char *)(p + 4 * bstride + o), _MM_HINT_NTA);
                _mm_prefetch((const char *)(p + bstride + o), _MM_HINT_NTA);
            }
            x16_load(type, p, w[h], &dw[h], &mw[h]);
        }
        float *Ab = A + 16 * (b & 15);
        for (int j = 0; j < nt; j++) {
            const size_t t = (size_t)(t0 + j);
            const uint8_t *ap = (const uint8_t *)(a->q + t * a->qStride + 32 * (size_t)b);
            const __m512i c0 = off ? _mm512_set1_epi32(-off * a->asum[t * a->dStride + (size_t)b]) : _mm512_setzero_si512();
            __m512i x0[2], x1[2];
            for (int h = 0; h < G; h++) { x0[h] = c0; x1[h] = _mm512_setzero_si512(); }
            for (int c = 0; c < 8; c += 2) {
                const __m512i b0 = _mm512_set1_epi32((int)ck_rd32(ap + 4 * c));
                const __m512i b1 = _mm512_set1_epi32((int)ck_rd32(ap + 4 * c + 4));
                for (int h = 0; h < G; h++) {
                    x0[h] = _mm512_dpbusd_epi32(x0[h], w[h][c], b0);
                    x1[h] = _mm512_dpbusd_epi32(x1[h], w[h][c + 1], b1);
                }
            }
            const __m512 da = _mm512_set1_ps(a->d[t * a->dStride + (size_t)b]);
            const __m512 sv = hm ? _mm512_set1_ps(a->s[t * a->dStride + (size_t)b]) : zf;
            for (int h = 0; h < G; h++) {
                const __m512 pf = _mm512_cvtepi32_ps(_mm512_add_epi32(x0[h], x1[h]));
                float *Ak = Ab + h * as + 272 * (size_t)j;
                __m512 acc = _mm512_fmadd_ps(_mm512_mul_ps(dw[h], da), pf, b < 16 ? zf : _mm512_load_ps(Ak));
                if (hm) acc = _mm512_fmadd_ps(mw[h], sv, acc);
                _mm512_store_ps(Ak, acc);
            }
        }
    }
    for (int h = 0; h < G; h++) x16_store(A + h * as, t0, nt, y, ldy, r + 16 * h);
}

#define X16FN(TY, NAME)                                                                                        \
    static T512 void NAME(int G, const uint8_t *g, size_t bstride, int nb, const ck_act *a, int t0, int nt,     \
                          float *y, size_t ldy, int r, float *A) {                                             \
        if (G == 2) x16_group(TY, 2, g, bstride, nb, a, t0, nt, y, ldy, r, A);                                 \
        else x16_group(TY, 1, g, bstride, nb, a, t0, nt, y, ldy, r, A);                                        \
    }
X16FN(CK_Q4_0, x16_q4_0)
X16FN(CK_Q4_1, x16_q4_1)
X16FN(CK_Q5_0, x16_q5_0)
X16FN(CK_Q5_1, x16_q5_1)
X16FN(CK_Q8_0, x16_q8_0)

/* Rows [r0,r1) x tokens [t0,t1) with whole 16-row groups from the interleaved copy; returns
   0 when it cannot (then nothing was written). Rows outside whole groups are left to the caller
   through *gs / *ge. */
static T512 int gemm_x16(int type, const uint8_t *wx, int rows, int r0, int r1, int cols, const ck_act *a, int t0, int t1,
                         float *y, size_t ldy, int *gs, int *ge) {
    void (*f)(int, const uint8_t *, size_t, int, const ck_act *, int, int, float *, size_t, int, float *);
    switch (type) {
    case CK_Q4_0: f = x16_q4_0; break;
    case CK_Q4_1: f = x16_q4_1; break;
    case CK_Q5_0: f = x16_q5_0; break;
    case CK_Q5_1: f = x16_q5_1; break;
    case CK_Q8_0: f = x16_q8_0; break;
    default: return 0;
    }
    if (type != CK_Q4_1 && type != CK_Q5_1 && a->asum == NULL) return 0;
    const int nb = cols / 32;
    const int s = (r0 + 15) & ~15, e = r1 & ~15;
    if (s >= e) return 0;
    /* per group and token: 16 lanes + 1 vector of padding (fewer L1 set conflicts) */
    _Alignas(64) float A[2 * 17 * 16 * 16];
    const size_t rec = 16 * (size_t)ck_bbytes(type);
    const int ng = rows / 16;
    /* a whole pair (32 rows) at a time where the range allows: each activation broadcast feeds both
       groups, and their records alternate in memory; otherwise one group, every other record of
       its pair (or every record, for a lone last group) */
    for (int g = s / 16; g < e / 16;) {
        const int paired = (g | 1) < ng;
        const uint8_t *base = wx + ck_x16_record(g, 0, ng, nb) * rec;
        const int G = paired && (g & 1) == 0 && g + 1 < e / 16 ? 2 : 1;
        for (int tc = t0; tc < t1; tc += 16)
            f(G, base, paired ? 2 * rec : rec, nb, a, tc, t1 - tc < 16 ? t1 - tc : 16, y, ldy, 16 * g, A);
        g += G;
    }
    *gs = s; *ge = e;
    return 1;
}

/* Fewest tokens for which the interleaved copy is read (1: always — it is faster for a single
   token too, measured on Zen 5). */
#ifndef CK_X16_MIN_T
#define CK_X16_MIN_T 1
#endif

#define SEL(P, TY) do { f44 = P##_##TY##_44; f41 = P##_##TY##_41; f14 = P##_##TY##_14; f11 = P##_##TY##_11; } while (0)

void ck_gemm_qx_avx512(int type, const uint8_t *w, const uint8_t *wx, int rows, size_t rb, int r0, int r1, int cols,
                       const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    int gs, ge;
    /* K-quants on their row-interleaved copy: the AVX2 kernel, which takes the types that have one
       (the per-super-block order has no AVX-512 kernel yet) */
    if (wx != NULL && ck_gemm_xk_avx2(type, wx, rows, r0, r1, cols, a, t0, t1, y, ldy, &gs, &ge)) {
        if (r0 < gs) ck_gemm_q_avx512(type, w, rb, r0, gs, cols, a, t0, t1, y, ldy);
        if (ge < r1) ck_gemm_q_avx512(type, w, rb, ge, r1, cols, a, t0, t1, y, ldy);
        return;
    }
    if (wx != NULL && t1 - t0 >= CK_X16_MIN_T && gemm_x16(type, wx, rows, r0, r1, cols, a, t0, t1, y, ldy, &gs, &ge)) {
        if (r0 < gs) ck_gemm_q_avx512(type, w, rb, r0, gs, cols, a, t0, t1, y, ldy);
        if (ge < r1) ck_gemm_q_avx512(type, w, rb, ge, r1, cols, a, t0, t1, y, ldy);
        return;
    }
    ck_gemm_q_avx512(type, w, rb, r0, r1, cols, a, t0, t1, y, ldy);
}

void ck_gemm_q_avx512(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                      const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    tile_fn f44, f41, f14, f11;
    split_fn sp = NULL;
    int nb;
    switch (type) {
    case CK_Q4_0: SEL(t32, CK_Q4_0); nb = cols / 32; sp = split_s; break;
    case CK_Q4_1: SEL(t32, CK_Q4_1); nb = cols / 32; sp = split_u; break;
    case CK_Q5_0: SEL(t32, CK_Q5_0); nb = cols / 32; sp = split_s; break;
    case CK_Q5_1: SEL(t32, CK_Q5_1); nb = cols / 32; sp = split_u; break;
    case CK_Q8_0: SEL(t32, CK_Q8_0); nb = cols / 32; sp = split_s; break;
    /* no AVX-512 variant: the AVX2 kernel */
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K:
        ck_gemm_k_avx2(type, w, rb, r0, r1, cols, a, t0, t1, y, ldy);
        return;
    default: return;
    }
    if (a->pq != NULL && a->pn > 0 && t1 <= a->pn && t1 - t0 >= 2 && cols <= 8192 && nb * 32 == cols) {
        grp_fn const *gt = NULL;
        unpack_fn up = NULL;
        switch (type) {
        case CK_Q4_0: gt = gtab_CK_Q4_0; up = up32_CK_Q4_0; break;
        case CK_Q4_1: gt = gtab_CK_Q4_1; up = up32_CK_Q4_1; break;
        case CK_Q5_0: gt = gtab_CK_Q5_0; up = up32_CK_Q5_0; break;
        case CK_Q5_1: gt = gtab_CK_Q5_1; up = up32_CK_Q5_1; break;
        case CK_Q8_0: gt = gtab_CK_Q8_0; up = up32_CK_Q8_0; break;
        default: break;
        }
        if (gt != NULL) { gemm32_packed(gt, up, sp, f44, f41, f14, f11, w, rb, r0, r1, cols, a, t0, t1, y, ldy); return; }
    }
    run_tiles(f44, f41, f14, f11, sp, w, rb, nb, a, t0, t1, r0, r1, y, ldy);
}

/* ---- float weights ---- */

AI512 __m512 ldf16(int type, const uint8_t *row, int i, __mmask16 m) {
    switch (type) {
    case CK_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const void *)(row + 2 * i)));
    case CK_BF16:
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, (const void *)(row + 2 * i))), 16));
    default:
        return _mm512_maskz_loadu_ps(m, (const void *)(row + 4 * i));
    }
}

AI512 float dotf(int type, const uint8_t *row, const float *x, int n) {
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(ldf16(type, row, i, 0xFFFF), _mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 p = _mm512_mul_ps(ldf16(type, row, i, m), _mm512_maskz_loadu_ps(m, x + i));
        acc = _mm512_mask_add_ps(acc, m, acc, p);
    }
    return hsum16(acc);
}

static T512 float dotf_f32(const uint8_t *row, const float *x, int n) { return dotf(CK_F32, row, x, n); }
static T512 float dotf_f16(const uint8_t *row, const float *x, int n) { return dotf(CK_F16, row, x, n); }
static T512 float dotf_bf16(const uint8_t *row, const float *x, int n) { return dotf(CK_BF16, row, x, n); }

T512 float ck_dot_f32_avx512(const float *a, const float *b, int n) { return dotf_f32((const uint8_t *)a, b, n); }

void ck_gemm_f_avx512(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                      const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy) {
    float (*f)(const uint8_t *, const float *, int) = type == CK_F16 ? dotf_f16 : (type == CK_BF16 ? dotf_bf16 : dotf_f32);
    for (int t = t0; t < t1; t++)
        for (int r = r0; r < r1; r++) y[(size_t)t * ldy + r] = f(w + (size_t)r * rb, x + (size_t)t * ldx, cols);
}

#endif
