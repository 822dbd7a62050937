// Internal to the attention translation units (attention.c, attention_avx2.c): cache addressing,
// chunking constants and the per-ISA grouped / multi-query kernels' signatures.
#ifndef CK_ATTENTION_H
#define CK_ATTENTION_H

#include "ck_internal.h"

/* positions per chunk of the grouped kernels (see attention.c's heads_avx512 comment) */
#define CK_ATT_GCHUNK 16
#ifndef CK_ATT_PREFETCH
#define CK_ATT_PREFETCH 1
#endif
#define CK_MQ_ROW 512      /* widest position row (kvHeads * headDim) the multi-query path takes */
#define CK_MQ_STATE 8192   /* floats of per-query accumulators (queries x heads x headDim) */
#define CK_MQ_HEADS 64     /* most query heads the multi-query path takes */

/* byte offset of cache element e (KT: 0 float, 1 F16, 2 Q8_0; for Q8_0, e a multiple of 32 gives
   the start of its block) */
CK_AI size_t kv_bytes(size_t e, const int KT) {
    return KT == 2 ? (e >> 5) * 34 + (e & 31) : e * (KT == 1 ? 2 : 4);
}

/* cache element offsets of the K/V rows of positions [p, p + n) of kv head kvOff / HD, page by page */
CK_AI void chunk_rows(const int32_t *bt, int blockSize, int p, int n, size_t posStride, size_t kvOff, size_t *off) {
    for (int j = 0; j < n;) {
        const int pp = p + j, o = pp % blockSize;
        int r = blockSize - o;
        if (r > n - j) r = n - j;
        const size_t b = ((size_t)bt[pp / blockSize] * blockSize + o) * posStride + kvOff;
        for (int i = 0; i < r; i++) off[j + i] = b + (size_t)i * posStride;
        j += r;
    }
}

/* grouped kernel: query heads [h0, h1) (at most 16) over positions [ws, cl) */
typedef void (*ck_att_group_fn)(const float *q, const void *kc, const void *vc, const int32_t *bt, int bs, int ws, int cl,
                                size_t ps, int h0, int h1, int group, float sc, float *o, float *ml);
/* multi-query kernel: nq queries of one sequence, each with its own context length */
typedef void (*ck_att_mq_fn)(int nq, const float *q, size_t qs, const int32_t *cls, int ws, const void *kc, const void *vc,
                             const int32_t *bt, int bs, size_t ps, int H, int group, float sc, float *o, size_t os, float *ml);

#if defined(__x86_64__)
/* AVX2 instances for cache type KT (0 float, 1 F16, 2 Q8_0) and head dim index d (64, 128, 256) */
ck_att_group_fn ck_att_group_avx2(int KT, int d);
ck_att_mq_fn ck_att_mq_avx2(int KT, int d);
#endif

#endif
