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
    enum { NV = 16 };
    const int nv = HD / 16;
    __m512 q[NV], acc[NV];
    for (int i = 0; i < nv; i++) { q[i] = _mm512_loadu_ps(qh + 16 * i); acc[i] = _mm512_setzero_ps(); }
    float sc[CK_ATT_CHUNK];
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
            __m512 s0 = _mm512_mul_ps(q[0], _mm512_loadu_ps(k));
            for (int i = 1; i < nv; i++) s0 = _mm512_fmadd_ps(q[i], _mm512_loadu_ps(k + 16 * i), s0);
            float s = hsum512(s0) * scale;
            sc[j] = s;
            mc = s > mc ? s : mc;
        }
        if (mc > m) {
            float c = expf(m - mc);
            l *= c;
            __m512 cv = _mm512_set1_ps(c);
            for (int i = 0; i < nv; i++) acc[i] = _mm512_mul_ps(acc[i], cv);
            m = mc;
        }
        for (int j = 0; j < n; j++) {
            const float *v = vCache + base + j * posStride;
            float e = expf(sc[j] - m);
            l += e;
            __m512 ev = _mm512_set1_ps(e);
            for (int i = 0; i < nv; i++) acc[i] = _mm512_fmadd_ps(ev, _mm512_loadu_ps(v + 16 * i), acc[i]);
        }
        p += n;
    }
    __m512 inv = _mm512_set1_ps(l > 0.0f ? 1.0f / l : 0.0f);
    for (int i = 0; i < nv; i++) _mm512_storeu_ps(o + 16 * i, _mm512_mul_ps(acc[i], inv));
}

#define HEADFN(HD) \
    static T512A void head512_##HD(const float *qh, const float *kc, const float *vc, const int32_t *bt, int bs, int ws, int cl, \
                                   size_t ps, size_t ko, int hd, float sc, float *o) { head_avx512(qh, kc, vc, bt, bs, ws, cl, ps, ko, hd, sc, o, HD); }
HEADFN(0)
HEADFN(64)
HEADFN(128)
HEADFN(256)
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
        f = headDim == 64 ? head512_64 : headDim == 128 ? head512_128 : headDim == 256 ? head512_256 : head512_0;
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
