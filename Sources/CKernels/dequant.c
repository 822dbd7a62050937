// Dequantization of ggml block formats (layouts as in ggml's block_* structs).
#pragma clang fp contract(off)
#include "ck_internal.h"

int ck_block_elems(int type) {
    switch (type) {
    case CK_F32: case CK_F16: case CK_BF16: return 1;
    case CK_Q4_0: case CK_Q4_1: case CK_Q5_0: case CK_Q5_1: case CK_Q8_0: case CK_Q8_1: return 32;
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K: case CK_Q8_K: return 256;
    default: return 0;
    }
}

int ck_block_bytes(int type) {
    switch (type) {
    case CK_F32: return 4;
    case CK_F16: case CK_BF16: return 2;
    case CK_Q4_0: return 18;
    case CK_Q4_1: return 20;
    case CK_Q5_0: return 22;
    case CK_Q5_1: return 24;
    case CK_Q8_0: return 34;
    case CK_Q8_1: return 36;
    case CK_Q2_K: return 84;
    case CK_Q3_K: return 110;
    case CK_Q4_K: return 144;
    case CK_Q5_K: return 176;
    case CK_Q6_K: return 210;
    case CK_Q8_K: return 292;
    default: return 0;
    }
}

static void dq_block(int type, const uint8_t *b, float *y) {
    switch (type) {
    case CK_Q4_0: {
        float d = ck_f16(ck_rd16(b));
        const uint8_t *qs = b + 2;
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)((qs[j] & 0xF) - 8);
            y[j + 16] = d * (float)((qs[j] >> 4) - 8);
        }
        break;
    }
    case CK_Q4_1: {
        float d = ck_f16(ck_rd16(b)), m = ck_f16(ck_rd16(b + 2));
        const uint8_t *qs = b + 4;
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)(qs[j] & 0xF) + m;
            y[j + 16] = d * (float)(qs[j] >> 4) + m;
        }
        break;
    }
    case CK_Q5_0: {
        float d = ck_f16(ck_rd16(b));
        uint32_t qh = ck_rd32(b + 2);
        const uint8_t *qs = b + 6;
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 0xF) | (int)(((qh >> j) & 1u) << 4);
            int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = d * (float)(lo - 16);
            y[j + 16] = d * (float)(hi - 16);
        }
        break;
    }
    case CK_Q5_1: {
        float d = ck_f16(ck_rd16(b)), m = ck_f16(ck_rd16(b + 2));
        uint32_t qh = ck_rd32(b + 4);
        const uint8_t *qs = b + 8;
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 0xF) | (int)(((qh >> j) & 1u) << 4);
            int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = d * (float)lo + m;
            y[j + 16] = d * (float)hi + m;
        }
        break;
    }
    case CK_Q8_0: {
        float d = ck_f16(ck_rd16(b));
        const int8_t *qs = (const int8_t *)(b + 2);
        for (int j = 0; j < 32; j++) y[j] = d * (float)qs[j];
        break;
    }
    case CK_Q8_1: {
        float d = ck_f16(ck_rd16(b));
        const int8_t *qs = (const int8_t *)(b + 4);
        for (int j = 0; j < 32; j++) y[j] = d * (float)qs[j];
        break;
    }
    case CK_Q2_K: {
        const uint8_t *sc = b, *q = b + 16;
        float d = ck_f16(ck_rd16(b + 80)), dmin = ck_f16(ck_rd16(b + 82));
        int is = 0;
        for (int n = 0; n < 256; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    uint8_t s = sc[is++];
                    float dl = d * (float)(s & 0xF), ml = dmin * (float)(s >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l + 16 * half] >> shift) & 3) - ml;
                }
            }
            q += 32;
        }
        break;
    }
    case CK_Q3_K: {
        const uint8_t *hm = b, *q = b + 32, *s = b + 96;
        float d = ck_f16(ck_rd16(b + 108));
        int scales[16];
        for (int j = 0; j < 16; j++) {
            int lo = (j < 8) ? (s[j] & 0xF) : (s[j - 8] >> 4);
            int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
            scales[j] = (lo | (hi << 4)) - 32;
        }
        int is = 0;
        for (int n = 0; n < 2; n++) {
            for (int shift = 0; shift < 8; shift += 2) {
                int hbit = n * 4 + shift / 2;
                for (int half = 0; half < 2; half++) {
                    float dl = d * (float)scales[is++];
                    for (int l = 0; l < 16; l++) {
                        int idx = l + 16 * half;
                        int v = (q[idx] >> shift) & 3;
                        if (!((hm[idx] >> hbit) & 1)) v -= 4;
                        *y++ = dl * (float)v;
                    }
                }
            }
            q += 32;
        }
        break;
    }
    case CK_Q4_K: {
        float d = ck_f16(ck_rd16(b)), dmin = ck_f16(ck_rd16(b + 2));
        const uint8_t *sc = b + 4, *q = b + 16;
        for (int j = 0; j < 4; j++) {
            int s1, m1, s2, m2;
            ck_scale_min_k4(2 * j, sc, &s1, &m1);
            ck_scale_min_k4(2 * j + 1, sc, &s2, &m2);
            float d1 = d * (float)s1, mm1 = dmin * (float)m1, d2 = d * (float)s2, mm2 = dmin * (float)m2;
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)(q[l] & 0xF) - mm1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)(q[l] >> 4) - mm2;
            y += 64;
            q += 32;
        }
        break;
    }
    case CK_Q5_K: {
        float d = ck_f16(ck_rd16(b)), dmin = ck_f16(ck_rd16(b + 2));
        const uint8_t *sc = b + 4, *qh = b + 16, *q = b + 48;
        for (int j = 0; j < 4; j++) {
            int s1, m1, s2, m2;
            ck_scale_min_k4(2 * j, sc, &s1, &m1);
            ck_scale_min_k4(2 * j + 1, sc, &s2, &m2);
            float d1 = d * (float)s1, mm1 = dmin * (float)m1, d2 = d * (float)s2, mm2 = dmin * (float)m2;
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)((q[l] & 0xF) | (((qh[l] >> (2 * j)) & 1) << 4)) - mm1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)((q[l] >> 4) | (((qh[l] >> (2 * j + 1)) & 1) << 4)) - mm2;
            y += 64;
            q += 32;
        }
        break;
    }
    case CK_Q6_K: {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        float d = ck_f16(ck_rd16(b + 208));
        for (int n = 0; n < 2; n++) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = (d * (float)sc[is + 0]) * (float)q1;
                y[l + 32] = (d * (float)sc[is + 2]) * (float)q2;
                y[l + 64] = (d * (float)sc[is + 4]) * (float)q3;
                y[l + 96] = (d * (float)sc[is + 6]) * (float)q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
        break;
    }
    case CK_Q8_K: {
        float d;
        memcpy(&d, b, 4);
        const int8_t *qs = (const int8_t *)(b + 4);
        for (int j = 0; j < 256; j++) y[j] = d * (float)qs[j];
        break;
    }
    }
}

int ck_dequantize(int type, const void *src, float *dst, size_t count) {
    const uint8_t *s = (const uint8_t *)src;
    switch (type) {
    case CK_F32:
        memcpy(dst, src, count * 4);
        return 0;
    case CK_F16:
        for (size_t i = 0; i < count; i++) dst[i] = ck_f16(ck_rd16(s + 2 * i));
        return 0;
    case CK_BF16:
        for (size_t i = 0; i < count; i++) dst[i] = ck_bf16(ck_rd16(s + 2 * i));
        return 0;
    default:
        break;
    }
    int be = ck_block_elems(type), bb = ck_block_bytes(type);
    if (be == 0) return -1;
    size_t nb = count / (size_t)be;
    for (size_t i = 0; i < nb; i++) dq_block(type, s + i * (size_t)bb, dst + i * (size_t)be);
    return 0;
}
