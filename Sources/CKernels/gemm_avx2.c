// AVX2 (+FMA/F16C, no VNNI) kernels: maddubs/madd integer dots. Bitwise equal to gemm_portable.c:
// the 16 canonical float lanes are held in two 8-lane registers (even / odd 32-element group).
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T2 __attribute__((target("avx2,fma,f16c")))
#define AI2 CK_AI T2

/* tree over 16 lanes held as lo (lanes 0..7) and hi (lanes 8..15) */
AI2 float hsum2(__m256 lo, __m256 hi) {
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
}

AI2 __m256i nib(const uint8_t *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1);
    return _mm256_and_si256(y, _mm256_set1_epi8(0x0F));
}

/* byte i = 0xFF when bit i of x is set */
AI2 __m256i bits_to_bytes(uint32_t x) {
    __m256i v = _mm256_set1_epi32((int)x);
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    v = _mm256_shuffle_epi8(v, shuf);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

AI2 int sgn_type(int type) { return type == CK_Q4_0 || type == CK_Q5_0 || type == CK_Q8_0; }

/* weight bytes of one 32-block in activation order, signed for signed types */
AI2 __m256i ld32(int type, const uint8_t *b) {
    switch (type) {
    case CK_Q4_0: return _mm256_sub_epi8(nib(b + 2), _mm256_set1_epi8(8));
    case CK_Q4_1: return nib(b + 4);
    case CK_Q5_0: {
        __m256i h = _mm256_and_si256(bits_to_bytes(ck_rd32(b + 2)), _mm256_set1_epi8(0x10));
        return _mm256_sub_epi8(_mm256_or_si256(nib(b + 6), h), _mm256_set1_epi8(16));
    }
    case CK_Q5_1: {
        __m256i h = _mm256_and_si256(bits_to_bytes(ck_rd32(b + 4)), _mm256_set1_epi8(0x10));
        return _mm256_or_si256(nib(b + 8), h);
    }
    default: return _mm256_loadu_si256((const __m256i *)(b + 2));
    }
}

/* 8 int32 lanes, lane k = sum of products of bytes 4k..4k+3 */
AI2 __m256i dot8(int sgn, __m256i w, __m256i a) {
    __m256i p16 = sgn ? _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w)) : _mm256_maddubs_epi16(w, a);
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* v[k] = 8 partial sums of block k: lane k of the result is the exact sum of block k */
AI2 __m256i red8(const __m256i v[8]) {
    __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    /* h0 = [b0..b3 (lanes 0-3 of each) | b0..b3 (lanes 4-7)], h1 likewise for b4..b7 */
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
}

/* R x T tile, 8 blocks at a time: one exact integer sum per block, then one float step per
   block into lane b % 16 (lanes 0..7 in acc[..][0], 8..15 in acc[..][1]). */
AI2 void tile32_2(int type, const int R, const int T, const uint8_t *w, size_t rb, int nb,
                  const ck_act *a, int t, float *y, size_t ldy, int r) {
    const int sgn = sgn_type(type), hm = (type == CK_Q4_1 || type == CK_Q5_1);
    const int bb = ck_bbytes(type);
    __m256 acc[2][2][2];
    const int8_t *aq[2];
    const float *ad[2], *as[2];
    for (int j = 0; j < T; j++) {
        aq[j] = a->q + (size_t)(t + j) * a->qStride;
        ad[j] = a->d + (size_t)(t + j) * a->dStride;
        as[j] = a->s + (size_t)(t + j) * a->dStride;
        for (int i = 0; i < R; i++) { acc[i][j][0] = _mm256_setzero_ps(); acc[i][j][1] = _mm256_setzero_ps(); }
    }
    const uint8_t *rowp[2];
    for (int i = 0; i < R; i++) rowp[i] = w + (size_t)(r + i) * rb;
    const size_t pfd = 4 * rb;
    for (int b0 = 0; b0 < nb; b0 += 8) {
        const int n = nb - b0 < 8 ? nb - b0 : 8;
        const int h = (b0 >> 3) & 1;
        const __m256i lm = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256i wv[2][8];
        __m256 dwv[2], mwv[2];
        for (int i = 0; i < R; i++) {
            const uint8_t *blk0 = rowp[i] + (size_t)b0 * bb;
            for (size_t off = 0; off < (size_t)n * bb; off += 64) _mm_prefetch((const char *)(blk0 + pfd + off), _MM_HINT_T0);
            uint16_t dh[8] = {0}, mh[8] = {0};
            for (int k = 0; k < n; k++) {
                dh[k] = ck_rd16(blk0 + (size_t)k * bb);
                if (hm) mh[k] = ck_rd16(blk0 + (size_t)k * bb + 2);
            }
            dwv[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dh));
            mwv[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)mh));
            for (int k = 0; k < 8; k++) wv[i][k] = k < n ? ld32(type, blk0 + (size_t)k * bb) : _mm256_setzero_si256();
        }
        for (int j = 0; j < T; j++) {
            __m256i av[8];
            for (int k = 0; k < 8; k++)
                av[k] = k < n ? _mm256_loadu_si256((const __m256i *)(aq[j] + 32 * (b0 + k))) : _mm256_setzero_si256();
            const __m256 dav = _mm256_maskload_ps(ad[j] + b0, lm);
            const __m256 sv = _mm256_maskload_ps(as[j] + b0, lm);
            for (int i = 0; i < R; i++) {
                __m256i p[8];
                for (int k = 0; k < 8; k++) p[k] = dot8(sgn, wv[i][k], av[k]);
                const __m256 D = _mm256_mul_ps(dwv[i], dav);
                __m256 s = _mm256_fmadd_ps(D, _mm256_cvtepi32_ps(red8(p)), acc[i][j][h]);
                if (hm) s = _mm256_fmadd_ps(mwv[i], sv, s);
                acc[i][j][h] = _mm256_blendv_ps(acc[i][j][h], s, _mm256_castsi256_ps(lm));
            }
        }
    }
    for (int j = 0; j < T; j++)
        for (int i = 0; i < R; i++) y[(size_t)(t + j) * ldy + r + i] = hsum2(acc[i][j][0], acc[i][j][1]);
}

#define DEF2(P, F, TY)                                                                                            \
    static T2 void P##_##TY##_22(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r) { F(TY, 2, 2, w, rb, nb, a, t, y, ldy, r); } \
    static T2 void P##_##TY##_21(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r) { F(TY, 2, 1, w, rb, nb, a, t, y, ldy, r); } \
    static T2 void P##_##TY##_12(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r) { F(TY, 1, 2, w, rb, nb, a, t, y, ldy, r); } \
    static T2 void P##_##TY##_11(const uint8_t *w, size_t rb, int nb, const ck_act *a, int t, float *y, size_t ldy, int r) { F(TY, 1, 1, w, rb, nb, a, t, y, ldy, r); }

DEF2(a32, tile32_2, CK_Q4_0)
DEF2(a32, tile32_2, CK_Q4_1)
DEF2(a32, tile32_2, CK_Q5_0)
DEF2(a32, tile32_2, CK_Q5_1)
DEF2(a32, tile32_2, CK_Q8_0)

typedef void (*tile2_fn)(const uint8_t *, size_t, int, const ck_act *, int, float *, size_t, int);
#define SEL2(P, TY) do { f22 = P##_##TY##_22; f21 = P##_##TY##_21; f12 = P##_##TY##_12; f11 = P##_##TY##_11; } while (0)

void ck_gemm_q_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    tile2_fn f22, f21, f12, f11;
    int nb;
    switch (type) {
    case CK_Q4_0: SEL2(a32, CK_Q4_0); nb = cols / 32; break;
    case CK_Q4_1: SEL2(a32, CK_Q4_1); nb = cols / 32; break;
    case CK_Q5_0: SEL2(a32, CK_Q5_0); nb = cols / 32; break;
    case CK_Q5_1: SEL2(a32, CK_Q5_1); nb = cols / 32; break;
    case CK_Q8_0: SEL2(a32, CK_Q8_0); nb = cols / 32; break;
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K:
        ck_gemm_k_avx2(type, w, rb, r0, r1, cols, a, t0, t1, y, ldy);
        return;
    default: return;
    }
    int t = t0;
    for (; t + 2 <= t1; t += 2) {
        int r = r0;
        for (; r + 2 <= r1; r += 2) f22(w, rb, nb, a, t, y, ldy, r);
        for (; r < r1; r++) f12(w, rb, nb, a, t, y, ldy, r);
    }
    for (; t < t1; t++) {
        int r = r0;
        for (; r + 2 <= r1; r += 2) f21(w, rb, nb, a, t, y, ldy, r);
        for (; r < r1; r++) f11(w, rb, nb, a, t, y, ldy, r);
    }
}

/* ---- float weights: 16 canonical lanes as two 8-lane registers ---- */
AI2 __m256 ldf8(int type, const uint8_t *row, int i) {
    switch (type) {
    case CK_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i)));
    case CK_BF16: return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * i))), 16));
    default: return _mm256_loadu_ps((const float *)(row + 4 * i));
    }
}

AI2 float dotf2(int type, const uint8_t *row, const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(ldf8(type, row, i), _mm256_loadu_ps(x + i)));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(ldf8(type, row, i + 8), _mm256_loadu_ps(x + i + 8)));
    }
    if (i < n) {
        float wt[16] = {0}, xt[16] = {0};
        for (int k = 0; i + k < n; k++) {
            switch (type) {
            case CK_F16: wt[k] = ck_f16(ck_rd16(row + 2 * (i + k))); break;
            case CK_BF16: wt[k] = ck_bf16(ck_rd16(row + 2 * (i + k))); break;
            default: memcpy(&wt[k], row + 4 * (i + k), 4); break;
            }
            xt[k] = x[i + k];
        }
        /* padded lanes add w*x = 0*0 = +0, which leaves a (never -0) accumulator unchanged */
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(wt), _mm256_loadu_ps(xt)));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(wt + 8), _mm256_loadu_ps(xt + 8)));
    }
    return hsum2(a0, a1);
}

static T2 float dotf2_f32(const uint8_t *row, const float *x, int n) { return dotf2(CK_F32, row, x, n); }
static T2 float dotf2_f16(const uint8_t *row, const float *x, int n) { return dotf2(CK_F16, row, x, n); }
static T2 float dotf2_bf16(const uint8_t *row, const float *x, int n) { return dotf2(CK_BF16, row, x, n); }

float ck_dot_f32_avx2(const float *a, const float *b, int n) { return dotf2_f32((const uint8_t *)a, b, n); }

void ck_gemm_f_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy) {
    float (*f)(const uint8_t *, const float *, int) = type == CK_F16 ? dotf2_f16 : (type == CK_BF16 ? dotf2_bf16 : dotf2_f32);
    for (int t = t0; t < t1; t++)
        for (int r = r0; r < r1; r++) y[(size_t)t * ldy + r] = f(w + (size_t)r * rb, x + (size_t)t * ldx, cols);
}
#endif
