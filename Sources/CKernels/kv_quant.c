// Quantization of K/V rows to ggml's Q8_0 blocks for the Q8_0 KV cache, as ggml's
// quantize_row_q8_0_ref (and gguf-py's gguf.quants.Q8_0) does it: per 32 values,
// d = amax / 127, id = d != 0 ? 1 / d : 0, q = roundf(x * id) (ties away from zero), d stored as
// F16 (round to nearest even). One implementation for every ISA.
#pragma clang fp contract(off)
#include <math.h>
#include <string.h>
#include "ck_internal.h"

void ck_quantize_kv_q8_0(const float *x, uint8_t *dst, size_t n) {
    for (size_t b = 0; b < n / 32; b++, x += 32, dst += 34) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) {
            float a = fabsf(x[i]);
            amax = a > amax ? a : amax;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = ck_f16_from_f32(d);
        memcpy(dst, &dh, 2);
        for (int i = 0; i < 32; i++) {
            float r = roundf(x[i] * id);
            /* |x * id| <= 127 (+ rounding) for finite input; the clamp only keeps a non-finite
               product (subnormal or non-finite amax) from undefined conversion */
            int v = r >= 127.0f ? 127 : r <= -127.0f ? -127 : r == r ? (int)r : 0;
            dst[2 + i] = (uint8_t)(int8_t)v;
        }
    }
}
