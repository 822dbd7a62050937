// Quantization of float activations to 8-bit blocks. One implementation for every ISA,
// so quantized activations never depend on the dispatch level.
#pragma clang fp contract(off)
#include <math.h>
#include "ck_internal.h"

/* Round to nearest even using the 1.5*2^23 trick: pure IEEE float ops, |v| <= 127 here. */
CK_AI int ck_round127(float v) {
    float r = (v + 12582912.0f) - 12582912.0f;
    int i = (int)r;
    if (i > 127) i = 127;
    if (i < -127) i = -127;
    return i;
}

void ck_quantize_act32(const float *x, int cols, int8_t *q, float *d, float *s) {
    int nb = cols / 32;
    for (int b = 0; b < nb; b++) {
        const float *xb = x + 32 * b;
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) {
            float a = fabsf(xb[i]);
            amax = a > amax ? a : amax;
        }
        float dd = amax / 127.0f;
        float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            int v = ck_round127(xb[i] * id);
            q[32 * b + i] = (int8_t)v;
            sum += v;
        }
        d[b] = dd;
        s[b] = dd * (float)sum;
    }
}

void ck_quantize_act256(const float *x, int cols, int8_t *q, float *d, int16_t *bsums) {
    int nb = cols / 256;
    for (int b = 0; b < nb; b++) {
        const float *xb = x + 256 * b;
        float amax = 0.0f;
        for (int i = 0; i < 256; i++) {
            float a = fabsf(xb[i]);
            amax = a > amax ? a : amax;
        }
        float dd = amax / 127.0f;
        float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                int v = ck_round127(xb[16 * g + i] * id);
                q[256 * b + 16 * g + i] = (int8_t)v;
                sum += v;
            }
            bsums[16 * b + g] = (int16_t)sum;
        }
        d[b] = dd;
    }
}

int ck_type_act_block(int type) {
    switch (type) {
    case CK_Q4_0: case CK_Q4_1: case CK_Q5_0: case CK_Q5_1: case CK_Q8_0: return 32;
    case CK_Q4_K: case CK_Q5_K: case CK_Q6_K: return 256;
    default: return 0;
    }
}
