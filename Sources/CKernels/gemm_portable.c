// Portable scalar integer dot products. Defines the canonical result (see ck_internal.h).
#pragma clang fp contract(off)
#include <math.h>
#include "ck_internal.h"

/* Unpack one 32-block into integer weights (signed value after offset, or unsigned for
   formats with a min), its scale and its min. */
static void unpack32(int type, const uint8_t *b, int w[32], float *dw, float *mw) {
    *mw = 0.0f;
    switch (type) {
    case CK_Q4_0:
        *dw = ck_f16(ck_rd16(b));
        for (int j = 0; j < 16; j++) { w[j] = (b[2 + j] & 0xF) - 8; w[j + 16] = (b[2 + j] >> 4) - 8; }
        break;
    case CK_Q4_1:
        *dw = ck_f16(ck_rd16(b)); *mw = ck_f16(ck_rd16(b + 2));
        for (int j = 0; j < 16; j++) { w[j] = b[4 + j] & 0xF; w[j + 16] = b[4 + j] >> 4; }
        break;
    case CK_Q5_0: {
        *dw = ck_f16(ck_rd16(b));
        uint32_t qh = ck_rd32(b + 2);
        for (int j = 0; j < 16; j++) {
            w[j] = ((b[6 + j] & 0xF) | (int)(((qh >> j) & 1u) << 4)) - 16;
            w[j + 16] = ((b[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4)) - 16;
        }
        break;
    }
    case CK_Q5_1: {
        *dw = ck_f16(ck_rd16(b)); *mw = ck_f16(ck_rd16(b + 2));
        uint32_t qh = ck_rd32(b + 4);
        for (int j = 0; j < 16; j++) {
            w[j] = (b[8 + j] & 0xF) | (int)(((qh >> j) & 1u) << 4);
            w[j + 16] = (b[8 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        }
        break;
    }
    case CK_Q8_0:
        *dw = ck_f16(ck_rd16(b));
        for (int j = 0; j < 32; j++) w[j] = (int8_t)b[2 + j];
        break;
    }
}

static float dot32(int type, const uint8_t *row, int nb, const int8_t *aq, const float *ad, const float *as) {
    float acc[16] = {0};
    int bb = ck_bbytes(type);
    int hasMin = (type == CK_Q4_1 || type == CK_Q5_1);
    int w[32];
    for (int b = 0; b < nb; b++) {
        float dw, mw;
        unpack32(type, row + (size_t)b * bb, w, &dw, &mw);
        float D = dw * ad[b];
        const int8_t *a = aq + 32 * b;
        int p = 0; /* exact: |p| <= 32 * 255 * 127 */
        for (int i = 0; i < 32; i++) p += w[i] * a[i];
        const int l = b & 15;
        acc[l] = fmaf(D, (float)p, acc[l]);
        /* min term of the block goes to the block's lane, after its dot term */
        if (hasMin) acc[l] = fmaf(mw, as[b], acc[l]);
    }
    return ck_tree16(acc);
}

/* Unpack one 256-super-block: weights, per-16 integer scales and mins (0 where the type has
   none), scales. */
static void unpackK(int type, const uint8_t *b, int w[256], int sc16[16], int mn16[16], float *dw, float *dmin) {
    switch (type) {
    case CK_Q2_K: {
        /* scales[16] (low nibble scale, high nibble min), qs[64], f16 d, f16 dmin; element e is
           bits 2*((e / 32) % 4) of qs[32 * (e / 128) + e % 32] */
        *dw = ck_f16(ck_rd16(b + 80));
        *dmin = ck_f16(ck_rd16(b + 82));
        for (int j = 0; j < 16; j++) { sc16[j] = b[j] & 0xF; mn16[j] = b[j] >> 4; }
        for (int e = 0; e < 256; e++) w[e] = (b[16 + 32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
        break;
    }
    case CK_Q3_K: {
        /* hmask[32], qs[64], scales[12] (16 6-bit, offset 32), f16 d; element e: 2 low bits as Q2_K,
           minus 4 where bit e / 32 of hmask[e % 32] is clear */
        const uint8_t *s = b + 96;
        *dw = ck_f16(ck_rd16(b + 108));
        *dmin = 0.0f;
        for (int j = 0; j < 16; j++) {
            int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
            int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
            sc16[j] = (lo | (hi << 4)) - 32;
            mn16[j] = 0;
        }
        for (int e = 0; e < 256; e++) {
            int v = (b[32 + 32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            w[e] = ((b[e % 32] >> (e / 32)) & 1) ? v : v - 4;
        }
        break;
    }
    case CK_Q4_K:
    case CK_Q5_K: {
        *dw = ck_f16(ck_rd16(b));
        *dmin = ck_f16(ck_rd16(b + 2));
        const uint8_t *sc = b + 4;
        const uint8_t *qh = b + 16;
        const uint8_t *q = type == CK_Q4_K ? b + 16 : b + 48;
        for (int j = 0; j < 8; j++) {
            int s, m;
            ck_scale_min_k4(j, sc, &s, &m);
            sc16[2 * j] = s; sc16[2 * j + 1] = s;
            mn16[2 * j] = m; mn16[2 * j + 1] = m;
        }
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = q[32 * c + l] & 0xF, hi = q[32 * c + l] >> 4;
                if (type == CK_Q5_K) {
                    lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                    hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
                }
                w[64 * c + l] = lo;
                w[64 * c + 32 + l] = hi;
            }
        }
        break;
    }
    case CK_Q6_K: {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        *dw = ck_f16(ck_rd16(b + 208));
        *dmin = 0.0f;
        for (int j = 0; j < 16; j++) { sc16[j] = sc[j]; mn16[j] = 0; }
        for (int n = 0; n < 2; n++) {
            for (int l = 0; l < 32; l++) {
                w[128 * n + l] = ((ql[64 * n + l] & 0xF) | (((qh[32 * n + l] >> 0) & 3) << 4)) - 32;
                w[128 * n + l + 32] = ((ql[64 * n + l + 32] & 0xF) | (((qh[32 * n + l] >> 2) & 3) << 4)) - 32;
                w[128 * n + l + 64] = ((ql[64 * n + l] >> 4) | (((qh[32 * n + l] >> 4) & 3) << 4)) - 32;
                w[128 * n + l + 96] = ((ql[64 * n + l + 32] >> 4) | (((qh[32 * n + l] >> 6) & 3) << 4)) - 32;
            }
        }
        break;
    }
    }
}

/* CK_K_SB types (ck_internal.h): the lanes' exact sums added up, two fused steps per super-block */
static float dotK(int type, const uint8_t *row, int nsb, const int8_t *aq, const float *ad, const int16_t *bs) {
    const int sbo = CK_K_SB(type);
    float acc[16] = {0};
    float macc = 0.0f, sacc = 0.0f;
    int bb = ck_bbytes(type);
    int w[256], sc16[16], mn16[16];
    for (int sb = 0; sb < nsb; sb++) {
        float dw, dmin;
        unpackK(type, row + (size_t)sb * bb, w, sc16, mn16, &dw, &dmin);
        const int8_t *a = aq + 256 * sb;
        int isum[16] = {0};
        for (int g = 0; g < 64; g++) {
            int p = 0;
            for (int i = 0; i < 4; i++) p += w[4 * g + i] * a[4 * g + i];
            isum[g & 15] += sc16[g / 4] * p;
        }
        int msum = 0;
        for (int j = 0; j < 16; j++) msum += mn16[j] * bs[16 * sb + j]; /* exact: order is free */
        float D = dw * ad[sb];
        float Dm = dmin * ad[sb];
        if (sbo) {
            int total = 0;
            for (int l = 0; l < 16; l++) total += isum[l]; /* exact */
            sacc = fmaf(D, (float)total, sacc);
            sacc = fmaf(-Dm, (float)msum, sacc);
            continue;
        }
        for (int l = 0; l < 16; l++) acc[l] = acc[l] + D * (float)isum[l];
        macc = macc + Dm * (float)msum;
    }
    return sbo ? sacc : ck_tree16(acc) - macc;
}

void ck_gemm_q_portable(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                        const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    int ab = ck_type_act_block(type);
    for (int t = t0; t < t1; t++) {
        const int8_t *aq = a->q + (size_t)t * a->qStride;
        const float *ad = a->d + (size_t)t * a->dStride;
        for (int r = r0; r < r1; r++) {
            const uint8_t *row = w + (size_t)r * rb;
            float v;
            if (ab == 32) v = dot32(type, row, cols / 32, aq, ad, a->s + (size_t)t * a->dStride);
            else v = dotK(type, row, cols / 256, aq, ad, a->bsums + (size_t)t * a->bStride);
            y[(size_t)t * ldy + r] = v;
        }
    }
}

float ck_dot_f32_portable(const float *a, const float *b, int n) {
    float acc[16] = {0};
    for (int i = 0; i < n; i++) acc[i & 15] = acc[i & 15] + a[i] * b[i];
    return ck_tree16(acc);
}

CK_AI float ldw(int type, const uint8_t *row, int i) {
    switch (type) {
    case CK_F16: return ck_f16(ck_rd16(row + 2 * i));
    case CK_BF16: return ck_bf16(ck_rd16(row + 2 * i));
    default: { float f; memcpy(&f, row + 4 * i, 4); return f; }
    }
}

void ck_gemm_f_portable(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                        const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy) {
    for (int t = t0; t < t1; t++) {
        const float *xt = x + (size_t)t * ldx;
        for (int r = r0; r < r1; r++) {
            const uint8_t *row = w + (size_t)r * rb;
            float acc[16] = {0};
            for (int i = 0; i < cols; i++) acc[i & 15] = acc[i & 15] + ldw(type, row, i) * xt[i];
            y[(size_t)t * ldy + r] = ck_tree16(acc);
        }
    }
}
