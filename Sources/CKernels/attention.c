// Paged attention for one query token: online softmax (running max / running sum) over the
// cached positions, one physical block at a time; no score matrix is materialized. The cache
// holds float, IEEE binary16 (F16) or Q8_0 K/V (KT = 0, 1, 2); F16 values are widened, Q8_0 values
// dequantized ((float)q * (float)d, exact in float), before the same float arithmetic, so an F16 or
// Q8_0 cache gives the bits of a float cache holding the widened or dequantized values.
//
// Q8_0 cache: each row of a position (kvHeads * headDim values, headDim a multiple of 32) is a run of
// ggml Q8_0 blocks (F16 scale d, then 32 int8), 34 bytes per 32 values. Offsets stay in value units
// ("elements"); value e lives in byte (e / 32) * 34 + 2 + e % 32 (kv_bytes), which is additive
// over multiples of 32, so row and head offsets combine as for the other caches.
#include <math.h>
#include "ck_attention.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CK_ATT_CHUNK 64
/* canonical attention partition: positions [k * 512, (k + 1) * 512) (attention_heads) */
#define CK_ATT_PART 512

/* ---- portable ---- */
#if defined(__x86_64__)
static __attribute__((target("avx2,f16c"))) void widen_f16c(float *dst, const uint16_t *src, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}
#endif

/* n F16 cache values widened to float (exactly; a NaN stays NaN), with F16C where the level has it */
static inline void widen(int isa, float *dst, const uint16_t *src, int n) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX2) { widen_f16c(dst, src, n); return; }
#endif
    (void)isa;
    for (int i = 0; i < n; i++) dst[i] = ck_f16(src[i]);
}

#define CK_ATT_PIECE 64


/* n (a multiple of 32) Q8_0 cache values from element e (a multiple of 32), dequantized */
static inline void dequant_q8(float *dst, const void *c, size_t e, int n) {
    const uint8_t *b = (const uint8_t *)c + kv_bytes(e, 2);
    for (int i = 0; i < n; i += 32, b += 34) {
        const float d = ck_f16(ck_rd16(b));
        const int8_t *q = (const int8_t *)(b + 2);
        for (int j = 0; j < 32; j++) dst[i + j] = (float)q[j] * d;
    }
}

/* w values of a row piece from element e of an F16 (KT == 1) or Q8_0 (KT == 2) cache, as floats */
static inline void load_piece(int isa, float *dst, const void *c, size_t e, int w, const int KT) {
    if (KT == 2) dequant_q8(dst, c, e, w);
    else widen(isa, dst, (const uint16_t *)c + e, w);
}

/* KT == 0: kCache/vCache are float. KT == 1: IEEE binary16 bits, widened CK_ATT_PIECE values at
   a time into a local buffer; KT == 2: Q8_0 blocks, dequantized the same way. The arithmetic, and
   its order, is the float path's on the loaded values, so all give the same bits for the same
   (widened / dequantized) cache. */
CK_AI void head_portable_t(int isa, const float *qh, const void *kCache, const void *vCache, const int32_t *bt,
                           int blockSize, int ws, int cl, size_t posStride, size_t kvOff, int hd,
                           float scale, float *o, float *ml, const int KT) {
    float sc[CK_ATT_CHUNK];
    float wbuf[CK_ATT_PIECE];
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
            float s = 0.0f;
            if (KT) {
                const size_t k = base + j * posStride;
                for (int d0 = 0; d0 < hd; d0 += CK_ATT_PIECE) {
                    int w = hd - d0 < CK_ATT_PIECE ? hd - d0 : CK_ATT_PIECE;
                    load_piece(isa, wbuf, kCache, k + d0, w, KT);
                    for (int d = 0; d < w; d++) s += qh[d0 + d] * wbuf[d];
                }
            } else {
                const float *k = (const float *)kCache + base + j * posStride;
                for (int d = 0; d < hd; d++) s += qh[d] * k[d];
            }
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
            float e = expf(sc[j] - m);
            l += e;
            if (KT) {
                const size_t v = base + j * posStride;
                for (int d0 = 0; d0 < hd; d0 += CK_ATT_PIECE) {
                    int w = hd - d0 < CK_ATT_PIECE ? hd - d0 : CK_ATT_PIECE;
                    load_piece(isa, wbuf, vCache, v + d0, w, KT);
                    for (int d = 0; d < w; d++) o[d0 + d] += e * wbuf[d];
                }
            } else {
                const float *v = (const float *)vCache + base + j * posStride;
                for (int d = 0; d < hd; d++) o[d] += e * v[d];
            }
        }
        p += n;
    }
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int d = 0; d < hd; d++) o[d] *= inv;
    if (ml) { ml[0] = m; ml[1] = l; }
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

/* 16 Q8_0 cache values from element i (16 values never straddle a block: i % 16 == 0), dequantized */
CK_AI T512A __m512 ldq8_512(const void *c, size_t i, __mmask16 mk) {
    const uint8_t *b = (const uint8_t *)c + kv_bytes(i & ~(size_t)31, 2);
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(ck_rd16(b)));
    const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mk, b + 2 + (i & 31))));
    return _mm512_maskz_mul_ps(mk, q, d);
}

/* 16 cache values (lanes outside mk zero) from element i of a float (KT == 0), F16 (1) or Q8_0 (2)
   cache, as floats */
CK_AI T512A __m512 ldkv512(const void *c, size_t i, __mmask16 mk, const int KT) {
    if (KT == 2) return ldq8_512(c, i, mk);
    return KT ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, (const uint16_t *)c + i))
               : _mm512_maskz_loadu_ps(mk, (const float *)c + i);
}

/* HD > 0: head dim known at compile time (multiple of 16, <= 256); HD == 0: generic with masks.
   KT: the cache holds IEEE binary16 bits (1) or Q8_0 blocks (2), widened / dequantized on load
   (same arithmetic as the float cache). */
CK_AI T512A void head_avx512(const float *qh, const void *kCache, const void *vCache, const int32_t *bt,
                             int blockSize, int ws, int cl, size_t posStride, size_t kvOff, int hdRun,
                             float scale, float *o, float *ml, const int HD, const int KT) {
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
                const size_t k = base + j * posStride;
                __m512 acc = _mm512_setzero_ps();
                for (int d = 0; d < hd; d += 16) {
                    __mmask16 mk = hd - d >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (hd - d)) - 1);
                    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, qh + d), ldkv512(kCache, k + d, mk, KT), acc);
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
                const size_t v = base + j * posStride;
                float e = expf(sc[j] - m);
                l += e;
                __m512 ev = _mm512_set1_ps(e);
                for (int d = 0; d < hd; d += 16) {
                    __mmask16 mk = hd - d >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (hd - d)) - 1);
                    __m512 ov = _mm512_maskz_loadu_ps(mk, o + d);
                    _mm512_mask_storeu_ps(o + d, mk, _mm512_fmadd_ps(ev, ldkv512(vCache, v + d, mk, KT), ov));
                }
            }
            p += n;
        }
        float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int d = 0; d < hd; d++) o[d] *= inv;
        if (ml) { ml[0] = m; ml[1] = l; }
        return;
    }
}

/* Grouped kernel: all query heads [0, G) that share one kv head, HD known at compile time (multiple
   of 16). Canonical order, per head (it does not depend on G, on which heads share a call, or on the
   page size):
    * positions [ws, cl) are taken in chunks of CK_ATT_GCHUNK (16) from ws; a chunk's rows are
      found page by page through the block table. (16: a chunk's K and V rows, 12 KB for SmolLM2,
      stay in L1 through every kv head's pass beside the next chunk being prefetched; chunks of 64,
      48 KB, all of L1, made decode attention 5-8% slower);
    * score of position j: 16-lane partial s = q[0:16]*k[0:16], then s = fma(q[16i:], k[16i:], s)
      for i = 1 .. HD/16-1; 16 positions' partials are reduced together by a transposing tree
      (pairs of lanes, then of lane pairs, then of 128-bit quarters, then of halves), times scale;
    * per chunk: mn = max(m, chunk max); if mn > m: c = exp(m - mn) (exp512a), acc *= c, l *= c;
      e_j = exp512a(s_j - mn); l += tree sum of (e[0:16] + e[16:32] + ...) (chunks of
      more than 16);
      then acc = fma(e_j, v_j, acc) in position order;
    * out = acc * (1 / l).
   The heads are taken in tiles of up to 4: each K and V row of a chunk is loaded (and, KT == 1,
   widened from IEEE binary16 bits, KT == 2, dequantized from Q8_0) once per tile and used by every head of the tile; the P.V
   accumulators of a tile (tile heads x up to 8 vectors of 16 dims) stay in registers over the
   chunk. KT changes only the loads: the arithmetic is the float cache's on the widened values. */

/* 16 cache values from element i of a float (KT == 0), F16 (1) or Q8_0 (2) cache, as floats */
CK_AI T512A __m512 ldrow512(const void *c, size_t i, const int KT) {
    if (KT == 2) return ldq8_512(c, i, (__mmask16)0xFFFF);
    return KT ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)c + i)))
               : _mm512_loadu_ps((const float *)c + i);
}

/* 16 partial dot products part[0..16) (16 floats each) -> one vector, lane j = sum of part[j] */
CK_AI T512A __m512 transpose_sum16(const float *part) {
    __m512 v[16], out;
    for (int j = 0; j < 16; j++) v[j] = _mm512_load_ps(part + 16 * j);
    CK_T16(_mm512_add_ps, v, out);
    return out;
}

/* One tile of TG (1..4) heads over one chunk of n (1..CK_ATT_GCHUNK) positions whose rows start at off[j]:
   scores, the online-softmax step (state mh/lh, accumulators acc, TG * HD floats), P.V. */
CK_AI T512A void tile_avx512(const float *q, const void *kCache, const void *vCache, const size_t *off, int n,
                             float scale, float *acc, float *mh, float *lh, const int TG, const int HD, const int KT) {
    enum { TMAX = 4 };
    const int nv = HD / 16;
    float part[TMAX * 16 * 16] __attribute__((aligned(64)));
    float sc[TMAX * CK_ATT_GCHUNK] __attribute__((aligned(64)));
    const __m512 scv = _mm512_set1_ps(scale);
    const int nsv = (n + 15) / 16;

    /* scores: each K row once for the tile's heads */
    for (int s = 0; s < nsv; s++) {
        const int m = n - 16 * s < 16 ? n - 16 * s : 16;
        for (int j = 0; j < m; j++) {
            const size_t k = off[16 * s + j];
            __m512 a[TMAX];
            __m512 kv = ldrow512(kCache, k, KT);
            for (int t = 0; t < TG; t++) a[t] = _mm512_mul_ps(_mm512_loadu_ps(q + t * HD), kv);
            for (int i = 1; i < nv; i++) {
                kv = ldrow512(kCache, k + 16 * i, KT);
                for (int t = 0; t < TG; t++) a[t] = _mm512_fmadd_ps(_mm512_loadu_ps(q + t * HD + 16 * i), kv, a[t]);
            }
            for (int t = 0; t < TG; t++) _mm512_store_ps(part + (t * 16 + j) * 16, a[t]);
        }
        for (int j = m; j < 16; j++)
            for (int t = 0; t < TG; t++) _mm512_store_ps(part + (t * 16 + j) * 16, _mm512_setzero_ps());
        for (int t = 0; t < TG; t++)
            _mm512_store_ps(sc + t * CK_ATT_GCHUNK + 16 * s, _mm512_mul_ps(transpose_sum16(part + t * 256), scv));
    }

    /* online softmax step per head; sc becomes the weights e */
    float cf[TMAX];
    for (int t = 0; t < TG; t++) {
        float *st = sc + t * CK_ATT_GCHUNK;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        for (int s = 0; s < nsv; s++) {
            const int m = n - 16 * s < 16 ? n - 16 * s : 16;
            mx = _mm512_mask_max_ps(mx, (__mmask16)((1u << m) - 1), mx, _mm512_load_ps(st + 16 * s));
        }
        const float mc = _mm512_reduce_max_ps(mx);
        float c = 1.0f;
        if (mc > mh[t]) {
            c = _mm512_cvtss_f32(exp512a(_mm512_set1_ps(mh[t] - mc)));
            mh[t] = mc;
        }
        const __m512 mv = _mm512_set1_ps(mh[t]);
        __m512 es = _mm512_setzero_ps();
        for (int s = 0; s < nsv; s++) {
            const int m = n - 16 * s < 16 ? n - 16 * s : 16;
            __m512 e = _mm512_maskz_mov_ps((__mmask16)((1u << m) - 1), exp512a(_mm512_sub_ps(_mm512_load_ps(st + 16 * s), mv)));
            _mm512_store_ps(st + 16 * s, e);
            es = s == 0 ? e : _mm512_add_ps(es, e);
        }
        lh[t] = lh[t] * c + _mm512_reduce_add_ps(es);
        cf[t] = c;
    }

    /* P.V: each V row once per 16 * DT dims for the tile's heads; accumulators in registers */
    enum { DMAX = 8 };
    const int DT = TG <= 2 ? (nv < 8 ? nv : 8) : 4;
    for (int d0 = 0; d0 < nv; d0 += DT) {
        __m512 av[TMAX][DMAX];
        for (int t = 0; t < TG; t++) {
            const __m512 cv = _mm512_set1_ps(cf[t]);
            for (int i = 0; i < DT; i++) av[t][i] = _mm512_mul_ps(_mm512_load_ps(acc + t * HD + 16 * (d0 + i)), cv);
        }
        for (int j = 0; j < n; j++) {
            const size_t v = off[j] + 16 * (size_t)d0;
            __m512 eb[TMAX];
            for (int t = 0; t < TG; t++) eb[t] = _mm512_set1_ps(sc[t * CK_ATT_GCHUNK + j]);
            for (int i = 0; i < DT; i++) {
                __m512 vv = ldrow512(vCache, v + 16 * i, KT);
                for (int t = 0; t < TG; t++) av[t][i] = _mm512_fmadd_ps(eb[t], vv, av[t][i]);
            }
        }
        for (int t = 0; t < TG; t++)
            for (int i = 0; i < DT; i++) _mm512_store_ps(acc + t * HD + 16 * (d0 + i), av[t][i]);
    }
}

/* The heads [h, h + min(w, 4)) that share one kv head, over one chunk (tile_avx512 with the tile
   width as a constant); returns how many heads it did. */
CK_AI T512A int kv_tile(int w, const float *qg, const void *kc, const void *vc, const size_t *off, int n, float scale,
                        float *ag, float *mg, float *lg, const int HD, const int KT) {
    switch (w) {
    case 1: tile_avx512(qg, kc, vc, off, n, scale, ag, mg, lg, 1, HD, KT); return 1;
    case 2: tile_avx512(qg, kc, vc, off, n, scale, ag, mg, lg, 2, HD, KT); return 2;
    case 3: tile_avx512(qg, kc, vc, off, n, scale, ag, mg, lg, 3, HD, KT); return 3;
    default: tile_avx512(qg, kc, vc, off, n, scale, ag, mg, lg, 4, HD, KT); return 4;
    }
}


/* Online-softmax state of H heads: running max, running sum, H x HD accumulators. */
CK_AI T512A void state_init(int H, float *mh, float *lh, float *acc, const int HD) {
    for (int g = 0; g < H; g++) {
        mh[g] = -INFINITY;
        lh[g] = 0.0f;
        for (int i = 0; i < HD / 16; i++) _mm512_store_ps(acc + g * HD + 16 * i, _mm512_setzero_ps());
    }
}

/* out = acc * (1 / l) per head (0 where nothing was attended); ml (if any): (m, l) per head */
CK_AI T512A void state_finish(int H, const float *mh, const float *lh, const float *acc, float *out, float *ml, const int HD) {
    for (int g = 0; g < H; g++) {
        if (ml) { ml[2 * g] = mh[g]; ml[2 * g + 1] = lh[g]; }
        const __m512 inv = _mm512_set1_ps(lh[g] > 0.0f ? 1.0f / lh[g] : 0.0f);
        for (int i = 0; i < HD / 16; i++)
            _mm512_storeu_ps(out + (size_t)g * HD + 16 * i, _mm512_mul_ps(_mm512_load_ps(acc + g * HD + 16 * i), inv));
    }
}

/* Query heads [h0, h1) (at most 16; q and out point at head h0), grouped by kv head (h / group):
   per chunk, every kv head's tiles in turn, so a chunk's K/V rows (all kv heads of a position are
   adjacent) are read from memory once, front to back; the next chunk's rows are prefetched. */
CK_AI T512A void heads_avx512(const float *q, const void *kCache, const void *vCache, const int32_t *bt,
                              int blockSize, int ws, int cl, size_t posStride, int h0, int h1, int group,
                              float scale, float *out, float *ml, const int HD, const int KT) {
    enum { GMAX = 16 };
    const int nv = HD / 16, H = h1 - h0;
    float accbuf[GMAX * 256] __attribute__((aligned(64)));
    float mh[GMAX], lh[GMAX];
    size_t offs[2][CK_ATT_GCHUNK];
    size_t *off = offs[0], *offn = offs[1];
    state_init(H, mh, lh, accbuf, HD);
    /* bytes [pf0, pf1) of a position's row hold the kv heads of [h0, h1) */
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
            /* the next chunk's rows, a share before each kv head's tiles: spread over this chunk's
               work, so that they do not push this chunk's rows out of L1 all at once */
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
            const float *qg = q + (size_t)(h - h0) * HD;
            float *ag = accbuf + (h - h0) * HD;
            float *mg = mh + (h - h0), *lg = lh + (h - h0);
            h += kv_tile(he - h, qg, kc, vc, off, n, scale, ag, mg, lg, HD, KT);
        }
        p += n;
        n = nn;
        size_t *t = off;
        off = offn;
        offn = t;
    }
    state_finish(H, mh, lh, accbuf, out, ml, HD);
}

/* Several queries of one sequence (same block table and window start), each with its own context
   length: every 16-position chunk's K/V rows are read from the cache and widened (KT 1) or
   dequantized (KT 2) once, into float rows in L1, and each query whose context reaches the chunk
   runs the float kernel's tiles on them. A query's chunks, heads and arithmetic are those of
   heads_avx512 on its own, and the widened values equal the ones it loads, so each query's result
   is bit for bit the single-query one. Prefill: consecutive prompt tokens share all but their last
   chunk. */
CK_AI T512A void mq_avx512(int nq, const float *q, size_t qStride, const int32_t *cls, int ws, const void *kCache,
                           const void *vCache, const int32_t *bt, int blockSize, size_t posStride, int H, int group,
                           float scale, float *out, size_t outStride, float *ml, const int HD, const int KT) {
    enum { QMAX = 16 };
    const int per = H * HD;
    int tq = CK_MQ_STATE / per;
    if (tq > QMAX) tq = QMAX;
    /* posStride <= CK_MQ_ROW, tq * per <= CK_MQ_STATE, H <= CK_MQ_HEADS (checked by the caller) */
    float kb[CK_ATT_GCHUNK * posStride] __attribute__((aligned(64)));
    float vb[CK_ATT_GCHUNK * posStride] __attribute__((aligned(64)));
    float acc[tq * per] __attribute__((aligned(64)));
    float mh[QMAX * CK_MQ_HEADS], lh[QMAX * CK_MQ_HEADS];
    size_t offc[CK_ATT_GCHUNK], offn[CK_ATT_GCHUNK], offw[CK_ATT_GCHUNK];
    for (int j = 0; j < CK_ATT_GCHUNK; j++) offw[j] = (size_t)j * posStride;
    for (int q0 = 0; q0 < nq; q0 += tq) {
        const int m = nq - q0 < tq ? nq - q0 : tq;
        int cmax = ws;
        for (int i = 0; i < m; i++) {
            if (cls[q0 + i] > cmax) cmax = cls[q0 + i];
            state_init(H, mh + i * H, lh + i * H, acc + (size_t)i * per, HD);
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
                for (size_t e = 0; e < posStride; e += 16) {
                    _mm512_store_ps(kb + offw[j] + e, ldrow512(kCache, offc[j] + e, KT));
                    _mm512_store_ps(vb + offw[j] + e, ldrow512(vCache, offc[j] + e, KT));
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
                    const float *kc = kb + (size_t)kvh * HD, *vc = vb + (size_t)kvh * HD;
                    const float *qg = qi + (size_t)h * HD;
                    float *ag = ai + (size_t)h * HD, *mg = mh + i * H + h, *lg = lh + i * H + h;
                    h += kv_tile(he - h, qg, kc, vc, offw, ni, scale, ag, mg, lg, HD, 0);
                }
            }
            p += n;
            n = nn;
            for (int j = 0; j < nn; j++) offc[j] = offn[j];
        }
        for (int i = 0; i < m; i++)
            state_finish(H, mh + i * H, lh + i * H, acc + (size_t)i * per, out + (size_t)(q0 + i) * outStride,
                         ml ? ml + (size_t)(q0 + i) * 2 * H : NULL, HD);
    }
}

/* the AVX-512 kernels' instances: head dim x cache type (name suffix); hd_index gives a head
   dim's column in their [cache type][head dim] tables (-1: none, the generic kernel) */
CK_AI int hd_index(int headDim) { return headDim == 64 ? 0 : headDim == 128 ? 1 : headDim == 256 ? 2 : -1; }

#define CK_ATT_INSTANCES(F) \
    F(64, 0, 64) F(128, 0, 128) F(256, 0, 256) \
    F(64, 1, 64_f16) F(128, 1, 128_f16) F(256, 1, 256_f16) \
    F(64, 2, 64_q8) F(128, 2, 128_q8) F(256, 2, 256_q8)

#define MQFN(HD, KT, SUF) \
    static T512A void mq512_##SUF(int nq, const float *q, size_t qs, const int32_t *cls, int ws, const void *kc, \
                                  const void *vc, const int32_t *bt, int bs, size_t ps, int H, int group, float sc, \
                                  float *o, size_t os, float *ml) { \
        mq_avx512(nq, q, qs, cls, ws, kc, vc, bt, bs, ps, H, group, sc, o, os, ml, HD, KT); \
    }
CK_ATT_INSTANCES(MQFN)

#define GROUPFN(HD, KT, SUF) \
    static T512A void group512_##SUF(const float *q, const void *kc, const void *vc, const int32_t *bt, int bs, int ws, \
                                     int cl, size_t ps, int h0, int h1, int group, float sc, float *o, float *ml) { \
        heads_avx512(q, kc, vc, bt, bs, ws, cl, ps, h0, h1, group, sc, o, ml, HD, KT); \
    }
CK_ATT_INSTANCES(GROUPFN)

#define HEADFN(HD, KT, NAME) \
    static T512A void NAME(int isa, const float *qh, const void *kc, const void *vc, const int32_t *bt, int bs, int ws, int cl, \
                           size_t ps, size_t ko, int hd, float sc, float *o, float *ml) { \
        (void)isa; \
        head_avx512(qh, kc, vc, bt, bs, ws, cl, ps, ko, hd, sc, o, ml, HD, KT); \
    }
HEADFN(0, 0, head512_0)
HEADFN(0, 1, head512_0_f16)
HEADFN(0, 2, head512_0_q8)
#endif

static void head_portable(int isa, const float *qh, const void *kc, const void *vc, const int32_t *bt, int bs, int ws,
                          int cl, size_t ps, size_t ko, int hd, float sc, float *o, float *ml) {
    head_portable_t(isa, qh, kc, vc, bt, bs, ws, cl, ps, ko, hd, sc, o, ml, 0);
}
static void head_portable_f16(int isa, const float *qh, const void *kc, const void *vc, const int32_t *bt, int bs, int ws,
                          int cl, size_t ps, size_t ko, int hd, float sc, float *o, float *ml) {
    head_portable_t(isa, qh, kc, vc, bt, bs, ws, cl, ps, ko, hd, sc, o, ml, 1);
}
static void head_portable_q8(int isa, const float *qh, const void *kc, const void *vc, const int32_t *bt, int bs, int ws,
                          int cl, size_t ps, size_t ko, int hd, float sc, float *o, float *ml) {
    head_portable_t(isa, qh, kc, vc, bt, bs, ws, cl, ps, ko, hd, sc, o, ml, 2);
}

/* Positions [ws, cl) of query heads [h0, h1) (q: the token's query, all heads; out and ml: head h0's
   output and (m, l) pair, ml may be NULL) with the kernels of `isa`, in one online-softmax pass.
   KT: K/V are float (0), IEEE binary16 bits (1) or Q8_0 blocks (2, headDim a multiple of 32). */
static void attention_range(int isa, const float *q, const void *kCache, const void *vCache, int KT,
                            const int32_t *blockTable, int blockSize, int ws, int cl, int nHeads, int kvHeads,
                            int headDim, float scale, float *out, float *ml, int h0, int h1) {
    int group = nHeads / kvHeads;
    size_t posStride = (size_t)kvHeads * headDim;
    typedef void (*head_fn)(int, const float *, const void *, const void *, const int32_t *, int, int, int, size_t,
                            size_t, int, float, float *, float *);
    head_fn f = KT == 2 ? head_portable_q8 : KT == 1 ? head_portable_f16 : head_portable;
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) {
        typedef void (*group_fn)(const float *, const void *, const void *, const int32_t *, int, int, int, size_t,
                                 int, int, int, float, float *, float *);
        static const group_fn tab[3][3] = {{group512_64, group512_128, group512_256},
                                           {group512_64_f16, group512_128_f16, group512_256_f16},
                                           {group512_64_q8, group512_128_q8, group512_256_q8}};
        const int d = hd_index(headDim);
        if (d >= 0) {
            const group_fn gf = tab[KT][d];
            /* at most 16 heads at a time */
            for (int h = h0; h < h1; h += 16) {
                int he = h + 16 < h1 ? h + 16 : h1;
                gf(q + (size_t)h * headDim, kCache, vCache, blockTable, blockSize, ws, cl, posStride,
                   h, he, group, scale, out + (size_t)(h - h0) * headDim, ml ? ml + 2 * (h - h0) : NULL);
            }
            return;
        }
        f = KT == 2 ? head512_0_q8 : KT == 1 ? head512_0_f16 : head512_0;
    } else if (isa == CK_ISA_AVX2 && hd_index(headDim) >= 0) {
        const ck_att_group_fn gf = ck_att_group_avx2(KT, hd_index(headDim));
        for (int h = h0; h < h1; h += 16) {
            int he = h + 16 < h1 ? h + 16 : h1;
            gf(q + (size_t)h * headDim, kCache, vCache, blockTable, blockSize, ws, cl, posStride,
               h, he, group, scale, out + (size_t)(h - h0) * headDim, ml ? ml + 2 * (h - h0) : NULL);
        }
        return;
    }
#endif
    for (int h = h0; h < h1; h++) {
        int kvh = h / group;
        f(isa, q + (size_t)h * headDim, kCache, vCache, blockTable, blockSize, ws, cl, posStride,
          (size_t)kvh * headDim, headDim, scale, out + (size_t)(h - h0) * headDim, ml ? ml + 2 * (h - h0) : NULL);
    }
}

/* O = fma(cb, o, ca * O) over a head's row; the FMA-instruction form gives the same bits (fmaf is
   correctly rounded) */
static void merge_rows_portable(int hd, float *O, const float *o, float ca, float cb) {
    for (int d = 0; d < hd; d++) O[d] = fmaf(cb, o[d], ca * O[d]);
}

#if defined(__x86_64__)
static __attribute__((target("avx2,fma"))) void merge_rows_fma(int hd, float *O, const float *o, float ca, float cb) {
    const __m256 a = _mm256_set1_ps(ca), b = _mm256_set1_ps(cb);
    int d = 0;
    for (; d + 8 <= hd; d += 8)
        _mm256_storeu_ps(O + d, _mm256_fmadd_ps(b, _mm256_loadu_ps(o + d), _mm256_mul_ps(a, _mm256_loadu_ps(O + d))));
    for (; d < hd; d++)
        _mm_store_ss(O + d, _mm_fmadd_ss(_mm_set_ss(cb), _mm_load_ss(o + d), _mm_mul_ss(_mm_set_ss(ca), _mm_load_ss(O + d))));
}
#endif

/* Folds one partition's result of H heads (o: normalized outputs, ml: (m, l) per head) into the
   running result (O, ML), in the canonical way: heads whose partition attended nothing (l = 0)
   are left as they are; otherwise with M' = max(M, m), a = L e^(M - M'), b = l e^(m - M'):
   O = fma(b / (a + b), o, (a / (a + b)) O), L = a + b. */
static void merge_partition(int H, int hd, float *O, float *ML, const float *o, const float *ml) {
#if defined(__x86_64__)
    void (*rows)(int, float *, const float *, float, float) =
        ck_active_isa() >= CK_ISA_AVX2 ? merge_rows_fma : merge_rows_portable;
#else
    void (*rows)(int, float *, const float *, float, float) = merge_rows_portable;
#endif
    for (int g = 0; g < H; g++) {
        const float m = ml[2 * g], l = ml[2 * g + 1];
        if (!(l > 0.0f)) continue;
        float *Og = O + (size_t)g * hd;
        const float *og = o + (size_t)g * hd;
        const float M = ML[2 * g], L = ML[2 * g + 1];
        if (!(L > 0.0f)) {
            for (int d = 0; d < hd; d++) Og[d] = og[d];
            ML[2 * g] = m;
            ML[2 * g + 1] = l;
            continue;
        }
        /* e^0 = 1 exactly: one exponential per fold */
        const float Mn = m > M ? m : M;
        const float a = m > M ? L * expf(M - m) : L, b = m > M ? l : l * expf(m - M);
        const float s = a + b, ca = a / s, cb = b / s;
        rows(hd, Og, og, ca, cb);
        ML[2 * g] = Mn;
        ML[2 * g + 1] = s;
    }
}

int ck_attention_partitions(int windowStart, int contextLen, int *first) {
    if (windowStart < 0) windowStart = 0;
    if (first) *first = windowStart / CK_ATT_PART;
    if (contextLen <= windowStart) return 1;
    return (contextLen - 1) / CK_ATT_PART - windowStart / CK_ATT_PART + 1;
}

void ck_paged_attention_partition(int isa, int kvType, const float *q, const void *kCache, const void *vCache,
                                  const int32_t *blockTable, int blockSize, int windowStart, int contextLen, int part,
                                  int nHeads, int kvHeads, int headDim, float scale, float *out, float *ml, int h0, int h1) {
    if (windowStart < 0) windowStart = 0;
    const int KT = kvType == 2 ? 2 : kvType == 1 ? 1 : 0;
    int ws = part * CK_ATT_PART, cl = ws + CK_ATT_PART;
    if (ws < windowStart) ws = windowStart;
    if (cl > contextLen) cl = contextLen;
    attention_range(isa, q, kCache, vCache, KT, blockTable, blockSize, ws, cl, nHeads, kvHeads, headDim, scale, out, ml,
                    h0, h1);
}

void ck_attention_merge(int nHeads, int headDim, int parts, const float *outs, size_t outStride, const float *mls,
                        size_t mlStride, float *out) {
    float ML[2 * 64];
    for (int h0 = 0; h0 < nHeads; h0 += 64) {
        const int H = nHeads - h0 < 64 ? nHeads - h0 : 64;
        float *O = out + (size_t)h0 * headDim;
        for (int i = 0; i < H * headDim; i++) O[i] = outs[(size_t)h0 * headDim + i];
        for (int i = 0; i < 2 * H; i++) ML[i] = mls[2 * h0 + i];
        for (int k = 1; k < parts; k++)
            merge_partition(H, headDim, O, ML, outs + k * outStride + (size_t)h0 * headDim, mls + k * mlStride + 2 * h0);
    }
}

/* The canonical attention of query heads [h0, h1) over [windowStart, contextLen): positions in
   the partitions [k * CK_ATT_PART, (k + 1) * CK_ATT_PART) (cut by the window and the context),
   each by one online-softmax pass, folded in partition order by merge_partition. A range inside
   one partition is one pass. (Partitions of fixed, absolute positions give every query the same
   arithmetic whoever computes which partition: a long context can be split across threads.) */
static void attention_heads(int isa, const float *q, const void *kCache, const void *vCache, int KT,
                            const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                            int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1) {
    if (windowStart < 0) windowStart = 0;
    int first;
    const int parts = ck_attention_partitions(windowStart, contextLen, &first);
    float *o0 = out + (size_t)h0 * headDim;
    if (parts == 1) {
        attention_range(isa, q, kCache, vCache, KT, blockTable, blockSize, windowStart, contextLen, nHeads, kvHeads,
                        headDim, scale, o0, NULL, h0, h1);
        return;
    }
    enum { HB = 16 };
    const int hb = headDim <= 256 ? HB : 1; /* heads per pass */
    float ML[2 * HB], ml[2 * HB];
    float part[hb * headDim];
    for (int h = h0; h < h1; h += hb) {
        const int e = h + hb < h1 ? h + hb : h1;
        float *O = out + (size_t)h * headDim;
        ck_paged_attention_partition(isa, KT, q, kCache, vCache, blockTable, blockSize, windowStart, contextLen, first,
                                     nHeads, kvHeads, headDim, scale, O, ML, h, e);
        for (int k = first + 1; k < first + parts; k++) {
            ck_paged_attention_partition(isa, KT, q, kCache, vCache, blockTable, blockSize, windowStart, contextLen, k,
                                         nHeads, kvHeads, headDim, scale, part, ml, h, e);
            merge_partition(e - h, headDim, O, ML, part, ml);
        }
    }
}

void ck_paged_attention_heads(int isa, const float *q, const float *kCache, const float *vCache,
                              const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                              int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1) {
    attention_heads(isa, q, kCache, vCache, 0, blockTable, blockSize, windowStart, contextLen, nHeads, kvHeads, headDim,
                    scale, out, h0, h1);
}

void ck_paged_attention_heads_f16(int isa, const float *q, const uint16_t *kCache, const uint16_t *vCache,
                                  const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                                  int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1) {
    attention_heads(isa, q, kCache, vCache, 1, blockTable, blockSize, windowStart, contextLen, nHeads, kvHeads, headDim,
                    scale, out, h0, h1);
}

void ck_paged_attention_heads_q8_0(int isa, const float *q, const void *kCache, const void *vCache,
                                   const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                                   int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1) {
    attention_heads(isa, q, kCache, vCache, 2, blockTable, blockSize, windowStart, contextLen, nHeads, kvHeads, headDim,
                    scale, out, h0, h1);
}

/* The multi-query kernel of `isa` for these shapes, or NULL (then each query goes alone). */
#if defined(__x86_64__)
typedef void (*mq_fn)(int, const float *, size_t, const int32_t *, int, const void *, const void *, const int32_t *, int,
                      size_t, int, int, float, float *, size_t, float *);
static mq_fn multi_kernel(int isa, int KT, int nq, int nHeads, int kvHeads, int headDim) {
    const size_t posStride = (size_t)kvHeads * headDim;
    if (isa == CK_ISA_AVX2 && nq > 1 && posStride <= CK_MQ_ROW && (size_t)nHeads * headDim <= CK_MQ_STATE &&
        nHeads <= CK_MQ_HEADS && hd_index(headDim) >= 0)
        return ck_att_mq_avx2(KT, hd_index(headDim));
    if (isa < CK_ISA_AVX512 || nq <= 1 || posStride > CK_MQ_ROW || (size_t)nHeads * headDim > CK_MQ_STATE ||
        nHeads > CK_MQ_HEADS)
        return NULL;
    static const mq_fn tab[3][3] = {{mq512_64, mq512_128, mq512_256},
                                    {mq512_64_f16, mq512_128_f16, mq512_256_f16},
                                    {mq512_64_q8, mq512_128_q8, mq512_256_q8}};
    const int d = hd_index(headDim);
    return d >= 0 ? tab[KT][d] : NULL;
}
#endif

void ck_paged_attention_multi(int isa, int kvType, const float *q, size_t qStride, int nq, const int32_t *contextLens,
                              const void *kCache, const void *vCache, const int32_t *blockTable, int blockSize,
                              int windowStart, int nHeads, int kvHeads, int headDim, float scale, float *out,
                              size_t outStride) {
    if (windowStart < 0) windowStart = 0;
    const int k = kvType == 2 ? 2 : kvType == 1 ? 1 : 0;
#if defined(__x86_64__)
    const mq_fn mf = multi_kernel(isa, k, nq, nHeads, kvHeads, headDim);
    if (mf) {
        const size_t posStride = (size_t)kvHeads * headDim;
        const int group = nHeads / kvHeads;
        int cmax = windowStart;
        for (int i = 0; i < nq; i++)
            if (contextLens[i] > cmax) cmax = contextLens[i];
        int first;
        const int parts = ck_attention_partitions(windowStart, cmax, &first);
        if (parts == 1) {
            mf(nq, q, qStride, contextLens, windowStart, kCache, vCache, blockTable, blockSize, posStride, nHeads, group,
               scale, out, outStride, NULL);
            return;
        }
        /* partition by partition, as each query's attention_heads does; a query's partitions past its
           own context are empty (l = 0) and fold as nothing. Queries in blocks of at most 16K floats
           of outputs (the partition buffer is on the stack). */
        const int per = nHeads * headDim;
        int qb = 16384 / per;
        if (qb < 1) qb = 1;
        if (qb > 16) qb = 16;
        float ML[qb * 2 * nHeads], ml[qb * 2 * nHeads];
        float part[qb * per];
        int32_t cls[qb];
        for (int q0 = 0; q0 < nq; q0 += qb) {
            const int m = nq - q0 < qb ? nq - q0 : qb;
            const float *qq = q + (size_t)q0 * qStride;
            float *oo = out + (size_t)q0 * outStride;
            for (int p = first; p < first + parts; p++) {
                int ws = p * CK_ATT_PART;
                if (ws < windowStart) ws = windowStart;
                for (int i = 0; i < m; i++) {
                    const int c = contextLens[q0 + i] < (p + 1) * CK_ATT_PART ? contextLens[q0 + i] : (p + 1) * CK_ATT_PART;
                    cls[i] = c > ws ? c : ws;
                }
                if (p == first) {
                    mf(m, qq, qStride, cls, ws, kCache, vCache, blockTable, blockSize, posStride, nHeads, group, scale, oo,
                       outStride, ML);
                    continue;
                }
                mf(m, qq, qStride, cls, ws, kCache, vCache, blockTable, blockSize, posStride, nHeads, group, scale, part,
                   (size_t)per, ml);
                for (int i = 0; i < m; i++)
                    merge_partition(nHeads, headDim, oo + (size_t)i * outStride, ML + 2 * nHeads * i,
                                    part + (size_t)i * per, ml + 2 * nHeads * i);
            }
        }
        return;
    }
#endif
    for (int i = 0; i < nq; i++)
        attention_heads(isa, q + (size_t)i * qStride, kCache, vCache, k, blockTable, blockSize, windowStart,
                        contextLens[i], nHeads, kvHeads, headDim, scale, out + (size_t)i * outStride, 0, nHeads);
}

void ck_paged_attention(int isa, const float *q, const float *kCache, const float *vCache,
                        const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                        int nHeads, int kvHeads, int headDim, float scale, float *out) {
    ck_paged_attention_heads(isa, q, kCache, vCache, blockTable, blockSize, windowStart, contextLen, nHeads, kvHeads,
                             headDim, scale, out, 0, nHeads);
}

void ck_prefetch_kv_rows(const void *kCache, const void *vCache, size_t kRowBytes, size_t vRowBytes,
                         const int32_t *blockTable, int blockSize, int p0, int p1) {
    for (int p = p0; p < p1;) {
        const int o = p % blockSize;
        int r = blockSize - o;
        if (r > p1 - p) r = p1 - p;
        const size_t slot = (size_t)blockTable[p / blockSize] * (size_t)blockSize + (size_t)o;
        const char *kb = (const char *)kCache + slot * kRowBytes, *vb = (const char *)vCache + slot * vRowBytes;
        for (size_t b = 0; b < (size_t)r * kRowBytes; b += 64) __builtin_prefetch(kb + b, 0, 3);
        for (size_t b = 0; b < (size_t)r * vRowBytes; b += 64) __builtin_prefetch(vb + b, 0, 3);
        p += r;
    }
}
