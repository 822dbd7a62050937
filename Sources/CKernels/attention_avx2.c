// AVX2 (+FMA, F16C) paged attention for head dims 64, 128 and 256: the AVX-512 kernels' structure
// (attention.c: query heads grouped by kv head, tiles of up to 4 heads sharing each K/V row load,
// 16-position chunks with the next chunk prefetched, and for several queries of one sequence the
// chunk's rows widened once) in 8-lane vectors. Without it an AVX2 CPU ran the portable one-head,
// one-position-at-a-time loop, a third of a SmolLM2 prefill.
//
// Canonical order, per head (independent of which heads share a call, of the tile width, of the
// page size and of how many queries run together, so batch invariance holds at this level):
//  * positions [ws, cl) in chunks of CK_ATT_GCHUNK (16) from ws;
//  * score of position j: 8-lane partial s = q[0:8] * k[0:8], then s = fma(q[8i:], k[8i:], s) for
//    i = 1 .. HD/8 - 1; 8 positions' partials reduced together (tr8: pairwise hadds, then the two
//    128-bit halves), times scale;
//  * per chunk: mc = the chunk's max; if mc > m: c = exp8(m - mc), m = mc (else c = 1);
//    e_j = exp8(s_j - m); l = l * c + (e[0:8] + e[8:16]) summed by hsum8;
//    acc = acc * c, then acc = fma(e_j, v_j, acc) in position order;
//  * out = acc * (1 / l).
// F16 and Q8_0 caches change only the loads (widened / dequantized exactly), so they give the bits
// of a float cache holding those values. Results agree with the other levels to rounding only.
#pragma clang fp contract(off)
#include <math.h>
#include "ck_attention.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define T2A __attribute__((target("avx2,fma,f16c")))
#define AI2A CK_AI T2A

/* e^x (about 2 ulp, the AVX-512 kernel's polynomial); inputs below -104 give 0 or a subnormal,
   above 88.7 are clamped. n is an integer in [-150, 128]: 2^n is applied as 2^a * 2^(n - a), two
   normal powers, the first product exact, so the result is rounded once. */
AI2A __m256 exp8(__m256 x) {
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.7f)), _mm256_set1_ps(-104.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i a = _mm256_srai_epi32(ni, 1), b = _mm256_sub_epi32(ni, a);
    const __m256 pa = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(127)), 23));
    const __m256 pb = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, pa), pb);
}

/* lane j = the sum of v[j]'s 8 lanes (a fixed tree) */
AI2A __m256 tr8(const __m256 v[8]) {
    const __m256 a0 = _mm256_hadd_ps(v[0], v[1]), a1 = _mm256_hadd_ps(v[2], v[3]);
    const __m256 a2 = _mm256_hadd_ps(v[4], v[5]), a3 = _mm256_hadd_ps(v[6], v[7]);
    const __m256 b0 = _mm256_hadd_ps(a0, a1), b1 = _mm256_hadd_ps(a2, a3);
    return _mm256_add_ps(_mm256_permute2f128_ps(b0, b1, 0x20), _mm256_permute2f128_ps(b0, b1, 0x31));
}

AI2A float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

AI2A float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* lanes < m all ones */
AI2A __m256 lanes_below(int m) {
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

/* 8 cache values from element i (i % 8 == 0, so never across a Q8_0 block) as floats */
AI2A __m256 ldrow8(const void *c, size_t i, const int KT) {
    if (KT == 2) {
        const uint8_t *b = (const uint8_t *)c + kv_bytes(i & ~(size_t)31, 2);
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(ck_rd16(b)));
        const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 2 + (i & 31)))));
        return _mm256_mul_ps(q, d);
    }
    if (KT == 1) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)c + i)));
    return _mm256_loadu_ps((const float *)c + i);
}

/* One tile of TG (1..4) heads over one chunk of n (1..16) positions whose rows start at off[j]:
   scores, the online-softmax step (state mh / lh, accumulators acc: TG x HD floats), P.V. */
AI2A void tile8(const float *q, const void *kCache, const void *vCache, const size_t *off, int n, float scale,
                float *acc, float *mh, float *lh, const int TG, const int HD, const int KT) {
    enum { TMAX = 4 };
    const int nv = HD / 8;
    _Alignas(32) float part[TMAX * 8 * 8];
    _Alignas(32) float sc[TMAX * CK_ATT_GCHUNK];
    const __m256 scv = _mm256_set1_ps(scale);
    const int nsv = (n + 7) / 8;

    for (int s = 0; s < nsv; s++) {
        const int m = n - 8 * s < 8 ? n - 8 * s : 8;
        for (int j = 0; j < m; j++) {
            const size_t k = off[8 * s + j];
            __m256 a[TMAX];
            __m256 kv = ldrow8(kCache, k, KT);
            for (int t = 0; t < TG; t++) a[t] = _mm256_mul_ps(_mm256_loadu_ps(q + t * HD), kv);
            for (int i = 1; i < nv; i++) {
                kv = ldrow8(kCache, k + 8 * (size_t)i, KT);
                for (int t = 0; t < TG; t++) a[t] = _mm256_fmadd_ps(_mm256_loadu_ps(q + t * HD + 8 * i), kv, a[t]);
            }
            for (int t = 0; t < TG; t++) _mm256_store_ps(part + (t * 8 + j) * 8, a[t]);
        }
        for (int t = 0; t < TG; t++) {
            __m256 v[8];
            for (int j = 0; j < 8; j++) v[j] = j < m ? _mm256_load_ps(part + (t * 8 + j) * 8) : _mm256_setzero_ps();
            _mm256_store_ps(sc + t * CK_ATT_GCHUNK + 8 * s, _mm256_mul_ps(tr8(v), scv));
        }
    }

    float cf[TMAX];
    for (int t = 0; t < TG; t++) {
        float *st = sc + t * CK_ATT_GCHUNK;
        __m256 mx = _mm256_set1_ps(-INFINITY);
        for (int s = 0; s < nsv; s++) {
            const int m = n - 8 * s < 8 ? n - 8 * s : 8;
            mx = _mm256_max_ps(mx, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_load_ps(st + 8 * s), lanes_below(m)));
        }
        const float mc = hmax8(mx);
        float c = 1.0f;
        if (mc > mh[t]) {
            c = _mm256_cvtss_f32(exp8(_mm256_set1_ps(mh[t] - mc)));
            mh[t] = mc;
        }
        const __m256 mv = _mm256_set1_ps(mh[t]);
        __m256 es = _mm256_setzero_ps();
        for (int s = 0; s < nsv; s++) {
            const int m = n - 8 * s < 8 ? n - 8 * s : 8;
            const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_load_ps(st + 8 * s), mv)), lanes_below(m));
            _mm256_store_ps(st + 8 * s, e);
            es = s == 0 ? e : _mm256_add_ps(es, e);
        }
        lh[t] = lh[t] * c + hsum8(es);
        cf[t] = c;
    }

    /* P.V: accumulators of DT vectors per head in registers, each V row loaded once per tile */
    enum { DMAX = 8 };
    const int DT = TG == 1 ? (nv < 8 ? nv : 8) : TG == 4 ? 2 : 4;
    for (int d0 = 0; d0 < nv; d0 += DT) {
        __m256 av[TMAX][DMAX];
        for (int t = 0; t < TG; t++) {
            const __m256 cv = _mm256_set1_ps(cf[t]);
            for (int i = 0; i < DT; i++) av[t][i] = _mm256_mul_ps(_mm256_load_ps(acc + t * HD + 8 * (d0 + i)), cv);
        }
        for (int j = 0; j < n; j++) {
            const size_t v = off[j] + 8 * (size_t)d0;
            for (int i = 0; i < DT; i++) {
                const __m256 vv = ldrow8(vCache, v + 8 * (size_t)i, KT);
                for (int t = 0; t < TG; t++)
                    av[t][i] = _mm256_fmadd_ps(_mm256_broadcast_ss(sc + t * CK_ATT_GCHUNK + j), vv, av[t][i]);
            }
        }
        for (int t = 0; t < TG; t++)
            for (int i = 0; i < DT; i++) _mm256_store_ps(acc + t * HD + 8 * (d0 + i), av[t][i]);
    }
}

AI2A int kv_tile8(int w, const float *qg, const void *kc, const void *vc, const size_t *off, int n, float scale, float *ag,
                  float *mg, float *lg, const int HD, const int KT) {
    switch (w) {
    case 1: tile8(qg, kc, vc, off, n, scale, ag, mg, lg, 1, HD, KT); return 1;
    case 2: tile8(qg, kc, vc, off, n, scale, ag, mg, lg, 2, HD, KT); return 2;
    case 3: tile8(qg, kc, vc, off, n, scale, ag, mg, lg, 3, HD, KT); return 3;
    default: tile8(qg, kc, vc, off, n, scale, ag, mg, lg, 4, HD, KT); return 4;
    }
}

AI2A void state_init8(int H, float *mh, float *lh, float *acc, const int HD) {
    for (int g = 0; g < H; g++) {
        mh[g] = -INFINITY;
        lh[g] = 0.0f;
        for (int i = 0; i < HD / 8; i++) _mm256_store_ps(acc + g * HD + 8 * i, _mm256_setzero_ps());
    }
}

AI2A void state_finish8(int H, const float *mh, const float *lh, const float *acc, float *out, float *ml, const int HD) {
    for (int g = 0; g < H; g++) {
        if (ml) { ml[2 * g] = mh[g]; ml[2 * g + 1] = lh[g]; }
        const __m256 inv = _mm256_set1_ps(lh[g] > 0.0f ? 1.0f / lh[g] : 0.0f);
        for (int i = 0; i < HD / 8; i++)
            _mm256_storeu_ps(out + (size_t)g * HD + 8 * i, _mm256_mul_ps(_mm256_load_ps(acc + g * HD + 8 * i), inv));
    }
}

/* Query heads [h0, h1) (at most 16), grouped by kv head: per chunk, every kv head's tiles in turn,
   the next chunk's rows prefetched a share before each kv head. */
AI2A void heads8(const float *q, const void *kCache, const void *vCache, const int32_t *bt, int blockSize, int ws, int cl,
                 size_t posStride, int h0, int h1, int group, float scale, float *out, float *ml, const int HD, const int KT) {
    enum { GMAX = 16 };
    const int H = h1 - h0;
    _Alignas(32) float accbuf[GMAX * 256];
    float mh[GMAX], lh[GMAX];
    size_t offs[2][CK_ATT_GCHUNK];
    size_t *off = offs[0], *offn = offs[1];
    state_init8(H, mh, lh, accbuf, HD);
    const size_t pf0 = kv_bytes((size_t)(h0 / group) * HD, KT), pf1 = kv_bytes((size_t)((h1 - 1) / group + 1) * HD, KT);
    int n = cl - ws < CK_ATT_GCHUNK ? cl - ws : CK_ATT_GCHUNK;
    if (n > 0) chunk_rows(bt, blockSize, ws, n, posStride, 0, off);
    for (int p = ws; p < cl;) {
        const int pn = p + n, nn = cl - pn < CK_ATT_GCHUNK ? cl - pn : CK_ATT_GCHUNK;
        if (nn > 0) chunk_rows(bt, blockSize, pn, nn, posStride, 0, offn);
        const int nkv = (h1 - 1) / group - h0 / group + 1;
        int pi = 0;
        for (int h = h0; h < h1; pi++) {
#if CK_ATT_PREFETCH
            for (int j = nn * pi / nkv; j < nn * (pi + 1) / nkv; j++)
                for (size_t b = pf0; b < pf1; b += 64) {
                    _mm_prefetch((const char *)kCache + kv_bytes(offn[j], KT) + b, _MM_HINT_T0);
                    _mm_prefetch((const char *)vCache + kv_bytes(offn[j], KT) + b, _MM_HINT_T0);
                }
#endif
            const int kvh = h / group;
            int he = (kvh + 1) * group;
            if (he > h1) he = h1;
            const size_t ko = kv_bytes((size_t)kvh * HD, KT);
            const void *kc = (const char *)kCache + ko, *vc = (const char *)vCache + ko;
            h += kv_tile8(he - h, q + (size_t)(h - h0) * HD, kc, vc, off, n, scale, accbuf + (h - h0) * HD, mh + (h - h0),
                          lh + (h - h0), HD, KT);
        }
        p += n;
        n = nn;
        size_t *t = off;
        off = offn;
        offn = t;
    }
    state_finish8(H, mh, lh, accbuf, out, ml, HD);
}

/* Several queries of one sequence, each with its own context length: a chunk's K/V rows are
   widened / dequantized once into float rows, and each query whose context reaches the chunk runs
   the float tiles on them (the same values and arithmetic as heads8 alone: bit for bit). */
AI2A void mq8(int nq, const float *q, size_t qStride, const int32_t *cls, int ws, const void *kCache, const void *vCache,
              const int32_t *bt, int blockSize, size_t posStride, int H, int group, float scale, float *out, size_t outStride,
              float *ml, const int HD, const int KT) {
    enum { QMAX = 16 };
    const int per = H * HD;
    int tq = CK_MQ_STATE / per;
    if (tq > QMAX) tq = QMAX;
    /* posStride <= CK_MQ_ROW, tq * per <= CK_MQ_STATE, H <= CK_MQ_HEADS (checked by the caller) */
    float kb[CK_ATT_GCHUNK * posStride] __attribute__((aligned(32)));
    float vb[CK_ATT_GCHUNK * posStride] __attribute__((aligned(32)));
    float acc[tq * per] __attribute__((aligned(32)));
    float mh[QMAX * CK_MQ_HEADS], lh[QMAX * CK_MQ_HEADS];
    size_t offc[CK_ATT_GCHUNK], offn[CK_ATT_GCHUNK], offw[CK_ATT_GCHUNK];
    for (int j = 0; j < CK_ATT_GCHUNK; j++) offw[j] = (size_t)j * posStride;
    for (int q0 = 0; q0 < nq; q0 += tq) {
        const int m = nq - q0 < tq ? nq - q0 : tq;
        int cmax = ws;
        for (int i = 0; i < m; i++) {
            if (cls[q0 + i] > cmax) cmax = cls[q0 + i];
            state_init8(H, mh + i * H, lh + i * H, acc + (size_t)i * per, HD);
        }
        int n = cmax - ws < CK_ATT_GCHUNK ? cmax - ws : CK_ATT_GCHUNK;
        if (n > 0) chunk_rows(bt, blockSize, ws, n, posStride, 0, offc);
        for (int p = ws; p < cmax;) {
            const int pn = p + n, nn = cmax - pn < CK_ATT_GCHUNK ? cmax - pn : CK_ATT_GCHUNK;
            if (nn > 0) {
                chunk_rows(bt, blockSize, pn, nn, posStride, 0, offn);
#if CK_ATT_PREFETCH
                for (int j = 0; j < nn; j++)
                    for (size_t b = 0; b < kv_bytes(posStride, KT); b += 64) {
                        _mm_prefetch((const char *)kCache + kv_bytes(offn[j], KT) + b, _MM_HINT_T0);
                        _mm_prefetch((const char *)vCache + kv_bytes(offn[j], KT) + b, _MM_HINT_T0);
                    }
#endif
            }
            for (int j = 0; j < n; j++)
                for (size_t e = 0; e < posStride; e += 8) {
                    _mm256_store_ps(kb + offw[j] + e, ldrow8(kCache, offc[j] + e, KT));
                    _mm256_store_ps(vb + offw[j] + e, ldrow8(vCache, offc[j] + e, KT));
                }
            for (int i = 0; i < m; i++) {
                const int ni = cls[q0 + i] - p < n ? cls[q0 + i] - p : n;
                if (ni <= 0) continue;
                const float *qi = q + (size_t)(q0 + i) * qStride;
                float *ai = acc + (size_t)i * per;
                for (int h = 0; h < H;) {
                    const int kvh = h / group;
                    int he = (kvh + 1) * group;
                    if (he > H) he = H;
                    h += kv_tile8(he - h, qi + (size_t)h * HD, kb + (size_t)kvh * HD, vb + (size_t)kvh * HD, offw, ni, scale,
                                  ai + (size_t)h * HD, mh + i * H + h, lh + i * H + h, HD, 0);
                }
            }
            p += n;
            n = nn;
            for (int j = 0; j < nn; j++) offc[j] = offn[j];
        }
        for (int i = 0; i < m; i++)
            state_finish8(H, mh + i * H, lh + i * H, acc + (size_t)i * per, out + (size_t)(q0 + i) * outStride,
                          ml ? ml + (size_t)(q0 + i) * 2 * H : NULL, HD);
    }
}

#define CK_ATT2_INSTANCES(F) \
    F(64, 0, 64) F(128, 0, 128) F(256, 0, 256) \
    F(64, 1, 64_f16) F(128, 1, 128_f16) F(256, 1, 256_f16) \
    F(64, 2, 64_q8) F(128, 2, 128_q8) F(256, 2, 256_q8)

#define GROUP8FN(HD, KT, SUF) \
    static T2A void group8_##SUF(const float *q, const void *kc, const void *vc, const int32_t *bt, int bs, int ws, int cl, \
                                 size_t ps, int h0, int h1, int group, float sc, float *o, float *ml) { \
        heads8(q, kc, vc, bt, bs, ws, cl, ps, h0, h1, group, sc, o, ml, HD, KT); \
    }
CK_ATT2_INSTANCES(GROUP8FN)

#define MQ8FN(HD, KT, SUF) \
    static T2A void mq8_##SUF(int nq, const float *q, size_t qs, const int32_t *cls, int ws, const void *kc, const void *vc, \
                              const int32_t *bt, int bs, size_t ps, int H, int group, float sc, float *o, size_t os, float *ml) { \
        mq8(nq, q, qs, cls, ws, kc, vc, bt, bs, ps, H, group, sc, o, os, ml, HD, KT); \
    }
CK_ATT2_INSTANCES(MQ8FN)

ck_att_group_fn ck_att_group_avx2(int KT, int d) {
    static const ck_att_group_fn tab[3][3] = {{group8_64, group8_128, group8_256},
                                              {group8_64_f16, group8_128_f16, group8_256_f16},
                                              {group8_64_q8, group8_128_q8, group8_256_q8}};
    return (KT >= 0 && KT < 3 && d >= 0 && d < 3) ? tab[KT][d] : NULL;
}

ck_att_mq_fn ck_att_mq_avx2(int KT, int d) {
    static const ck_att_mq_fn tab[3][3] = {{mq8_64, mq8_128, mq8_256},
                                           {mq8_64_f16, mq8_128_f16, mq8_256_f16},
                                           {mq8_64_q8, mq8_128_q8, mq8_256_q8}};
    return (KT >= 0 && KT < 3 && d >= 0 && d < 3) ? tab[KT][d] : NULL;
}
#endif
