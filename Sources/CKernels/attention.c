// Paged attention for one query token: online softmax over the cached positions.
#pragma clang fp contract(off)
#include <math.h>
#include "ck_internal.h"

void ck_paged_attention(int isa, const float *q, const float *kCache, const float *vCache,
                        const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                        int nHeads, int kvHeads, int headDim, float scale, float *out) {
    int group = nHeads / kvHeads;
    size_t posStride = (size_t)kvHeads * headDim;
    if (windowStart < 0) windowStart = 0;
    for (int h = 0; h < nHeads; h++) {
        int kvh = h / group;
        const float *qh = q + (size_t)h * headDim;
        float *o = out + (size_t)h * headDim;
        for (int d = 0; d < headDim; d++) o[d] = 0.0f;
        float m = -INFINITY, l = 0.0f;
        for (int p = windowStart; p < contextLen; p++) {
            size_t phys = (size_t)blockTable[p / blockSize] * blockSize + (size_t)(p % blockSize);
            const float *k = kCache + phys * posStride + (size_t)kvh * headDim;
            const float *v = vCache + phys * posStride + (size_t)kvh * headDim;
            float s = ck_dot_f32(isa, qh, k, headDim) * scale;
            if (s > m) {
                float c = expf(m - s);
                l = l * c;
                for (int d = 0; d < headDim; d++) o[d] = o[d] * c;
                m = s;
            }
            float e = expf(s - m);
            l = l + e;
            for (int d = 0; d < headDim; d++) o[d] = o[d] + e * v[d];
        }
        float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int d = 0; d < headDim; d++) o[d] = o[d] * inv;
    }
}
