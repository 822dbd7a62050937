// Paged attention for one query token: online softmax (running max / running sum) over the
// cached positions, one physical block at a time; no score matrix is materialized.
#include <math.h>
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CK_ATT_CHUNK 64

/* ---- portable ---- */
static void head_portable(const float *qh, const float *kCache, const float *vCache, const int32_t *bt,
                          int blockSize, int ws, int cl, size_t posStride, size_t kvOff, int hd,
                          float scale, float *o) {
    float sc[CK_ATT_CHUNK];
    for (int d = 0; d < hd; d++) o[d] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    int p = ws;
    while (p < cl) {
        int off = p % blockSize;
        int n = blockSize - off;
        if (n > cl - p) n = cl - p;
        if (n > CK_ATT_CHUNK) n = CK_ATT_CHUNK;
        size_t base = ((size_t)bt[p / blockSize] * blockSize + off) * posStride + kvOff;
        float mc = -INFINITY;
        for (int j = 0; j < n; j++) {
            const float *k = kCache + base + j * posStride;
            float s = 0.0f;
            for (int d = 0; d < hd; d++) s += qh[d] * k[d];
            s *= scale;
            sc[j] = s;
            mc = s > mc ? s : mc;
        }
        if (mc > m) {
            float c = expf(m - mc);
            l *= c;
            for (int d = 0; d < hd; d++) o[d] *= c;
            m = mc;
        }
        for (int j = 0; j < n; j++) {
            const float *v = vCache + base + j * posStride;
            float e = expf(sc[j] - m);
            l += e;
            for (int d = 0; d < hd; d++) o[d] += e * v[d];
        }
        p += n;
    }
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int d = 0; d < hd; d++) o[d] *= inv;
}

#if defined(__x86_64__)
#define T512A __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

CK_AI T512A float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

/* e^x, polynomial (about 2 ulp); inputs below -104 give 0 */
CK_AI T512A __m512 exp512a(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* HD > 0: head dim known at compile time (multiple of 16, <= 256); HD == 0: generic with masks. */
CK_AI T512A void head_avx512(const float *qh, const float *kCache, const float *vCache, const int32_t *bt,
                             int blockSize, int ws, int cl, size_t posStride, size_t kvOff, int hdRun,
                             float scale, float *o, const int HD) {
    if (HD == 0) {
        /* generic: accumulate in memory */
        float sc[CK_ATT_CHUNK];
        int hd = hdRun;
        for (int d = 0; d < hd; d++) o[d] = 0.0f;
        float m = -INFINITY, l = 0.0f;
        int p = ws;
        while (p < cl) {
            int off = p % blockSize;
            int n = blockSize - off;
            if (n > cl - p) n = cl - p;
            if (n > CK_ATT_CHUNK) n = CK_ATT_CHUNK;
            size_t base = ((size_t)bt[p / blockSize] * blockSize + off) * posStride + kvOff;
            float mc = -INFINITY;
            for (int j = 0; j < n; j++) {
                const float *k = kCache + base + j * posStride;
                __m512 acc = _mm512_setzero_ps();
                for (int d = 0; d < hd; d += 16) {
                    __mmask16 mk = hd - d >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (hd - d)) - 1);
                    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, qh + d), _mm512_maskz_loadu_ps(mk, k + d), acc);
                }
                float s = hsum512(acc) * scale;
                sc[j] = s;
                mc = s > mc ? s : mc;
            }
            if (mc > m) {
                float c = expf(m - mc);
                l *= c;
                for (int d = 0; d < hd; d++) o[d] *= c;
                m = mc;
            }
            for (int j = 0; j < n; j++) {
                const float *v = vCache + base + j * posStride;
                float e = expf(sc[j] - m);
                l += e;
                __m512 ev = _mm512_set1_ps(e);
                for (int d = 0; d < hd; d += 16) {
                    __mmask16 mk = hd - d >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (hd - d)) - 1);
                    __m512 ov = _mm512_maskz_loadu_ps(mk, o + d);
                    _mm512_mask_storeu_ps(o + d, mk, _mm512_fmadd_ps(ev, _mm512_maskz_loadu_ps(mk, v + d), ov));
                }
            }
            p += n;
        }
        float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int d = 0; d < hd; d++) o[d] *= inv;
        return;
    }
}

/* All query heads [0, G) that share one kv head, HD known at compile time (multiple of 16).
   Positions are visited in chunks of up to 16 (within one physical block); each chunk's
   K/V rows stay in L1 while every head of the group uses them. */
CK_AI T512A void group_avx512(const float *q, const float *kCache, const float *vCache, const int32_t *bt,
                              int blockSize, int ws, int cl, size_t posStride, size_t kvOff,
                              float scale, float *out, int G, const int HD) {
    enum { NV = 16, GMAX = 16 };
    const int nv = HD / 16;
    float accbuf[GMAX * 256] __attribute__((aligned(64)));
    float mh[GMAX], lh[GMAX];
    for (int g = 0; g < G; g++) {
        mh[g] = -INFINITY;
        lh[g] = 0.0f;
        for (int i = 0; i < nv; i++) _mm512_store_ps(accbuf + g * HD + 16 * i, _mm512_setzero_ps());
    }
    const __m512 scv = _mm512_set1_ps(scale);
    float ev[16];
    int p = ws;
    while (p < cl) {
        int off = p % blockSize;
        int n = blockSize - off;
        if (n > cl - p) n = cl - p;
        if (n > 16) n = 16;
        size_t base = ((size_t)bt[p / blockSize] * blockSize + off) * posStride + kvOff;
        const __mmask16 live = (__mmask16)((1u << n) - 1);
        for (int g = 0; g < G; g++) {
            const float *qh = q + (size_t)g * HD;
            /* 16 partial dot products (unused slots zero), then a transposing reduction
               leaves score j in lane j. */
            __m512 part[16];
            for (int j = 0; j < 16; j++) {
                if (j < n) {
                    const float *k = kCache + base + j * posStride;
                    __m512 s0 = _mm512_mul_ps(_mm512_loadu_ps(qh), _mm512_loadu_ps(k));
                    for (int i = 1; i < nv; i++) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 16 * i), _mm512_loadu_ps(k + 16 * i), s0);
                    part[j] = s0;
                } else {
                    part[j] = _mm512_setzero_ps();
                }
            }
            __m512 u[8], w4[4], z[2];
            for (int j = 0; j < 8; j++)
                u[j] = _mm512_add_ps(_mm512_unpacklo_ps(part[2 * j], part[2 * j + 1]), _mm512_unpackhi_ps(part[2 * j], part[2 * j + 1]));
            for (int j = 0; j < 4; j++) {
                __m512d a = _mm512_castps_pd(u[2 * j]), b = _mm512_castps_pd(u[2 * j + 1]);
                w4[j] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
            }
            for (int j = 0; j < 2; j++)
                z[j] = _mm512_add_ps(_mm512_shuffle_f32x4(w4[2 * j], w4[2 * j + 1], 0x44), _mm512_shuffle_f32x4(w4[2 * j], w4[2 * j + 1], 0xEE));
            __m512 sv = _mm512_add_ps(_mm512_shuffle_f32x4(z[0], z[1], 0x88), _mm512_shuffle_f32x4(z[0], z[1], 0xDD));
            sv = _mm512_mul_ps(sv, scv);
            float *accg = accbuf + g * HD;
            __m512 acc[NV];
            for (int i = 0; i < nv; i++) acc[i] = _mm512_load_ps(accg + 16 * i);
            float mc = _mm512_mask_reduce_max_ps(live, sv);
            if (mc > mh[g]) {
                float c = expf(mh[g] - mc);
                lh[g] *= c;
                __m512 cv = _mm512_set1_ps(c);
                for (int i = 0; i < nv; i++) acc[i] = _mm512_mul_ps(acc[i], cv);
                mh[g] = mc;
            }
            __m512 e = _mm512_maskz_mov_ps(live, exp512a(_mm512_sub_ps(sv, _mm512_set1_ps(mh[g]))));
            lh[g] += _mm512_reduce_add_ps(e);
            _mm512_storeu_ps(ev, e);
            for (int j = 0; j < n; j++) {
                const float *v = vCache + base + j * posStride;
                __m512 eb = _mm512_set1_ps(ev[j]);
                for (int i = 0; i < nv; i++) acc[i] = _mm512_fmadd_ps(eb, _mm512_loadu_ps(v + 16 * i), acc[i]);
            }
            for (int i = 0; i < nv; i++) _mm512_store_ps(accg + 16 * i, acc[i]);
        }
        p += n;
    }
    for (int g = 0; g < G; g++) {
        __m512 inv = _mm512_set1_ps(lh[g] > 0.0f ? 1.0f / lh[g] : 0.0f);
        for (int i = 0; i < nv; i++)
            _mm512_storeu_ps(out + (size_t)g * HD + 16 * i, _mm512_mul_ps(_mm512_load_ps(accbuf + g * HD + 16 * i), inv));
    }
}

#define GROUPFN(HD) \
    static T512A void group512_##HD(const float *q, const float *kc, const float *vc, const int32_t *bt, int bs, int ws, int cl, \
                                    size_t ps, size_t ko, float sc, float *o, int G) { group_avx512(q, kc, vc, bt, bs, ws, cl, ps, ko, sc, o, G, HD); }
GROUPFN(64)
GROUPFN(128)
GROUPFN(256)

#define HEADFN(HD) \
    static T512A void head512_##HD(const float *qh, const float *kc, const float *vc, const int32_t *bt, int bs, int ws, int cl, \
                                   size_t ps, size_t ko, int hd, float sc, float *o) { head_avx512(qh, kc, vc, bt, bs, ws, cl, ps, ko, hd, sc, o, HD); }
HEADFN(0)
#endif

void ck_paged_attention_heads(int isa, const float *q, const float *kCache, const float *vCache,
                              const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                              int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1) {
    int group = nHeads / kvHeads;
    size_t posStride = (size_t)kvHeads * headDim;
    if (windowStart < 0) windowStart = 0;
    typedef void (*head_fn)(const float *, const float *, const float *, const int32_t *, int, int, int, size_t,
                            size_t, int, float, float *);
    head_fn f = head_portable;
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) {
        typedef void (*group_fn)(const float *, const float *, const float *, const int32_t *, int, int, int, size_t,
                                 size_t, float, float *, int);
        group_fn gf = headDim == 64 ? group512_64 : headDim == 128 ? group512_128 : headDim == 256 ? group512_256 : NULL;
        if (gf) {
            /* heads sharing a kv head run together, at most 16 at a time */
            for (int h = h0; h < h1;) {
                int kvh = h / group;
                int he = (kvh + 1) * group;
                if (he > h1) he = h1;
                if (he - h > 16) he = h + 16;
                gf(q + (size_t)h * headDim, kCache, vCache, blockTable, blockSize, windowStart, contextLen, posStride,
                   (size_t)kvh * headDim, scale, out + (size_t)h * headDim, he - h);
                h = he;
            }
            return;
        }
        f = head512_0;
    }
#endif
    (void)isa;
    for (int h = h0; h < h1; h++) {
        int kvh = h / group;
        f(q + (size_t)h * headDim, kCache, vCache, blockTable, blockSize, windowStart, contextLen, posStride,
          (size_t)kvh * headDim, headDim, scale, out + (size_t)h * headDim);
    }
}

void ck_paged_attention(int isa, const float *q, const float *kCache, const float *vCache,
                        const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                        int nHeads, int kvHeads, int headDim, float scale, float *out) {
    ck_paged_attention_heads(isa, q, kCache, vCache, blockTable, blockSize, windowStart, contextLen, nHeads, kvHeads,
                             headDim, scale, out, 0, nHeads);
}
