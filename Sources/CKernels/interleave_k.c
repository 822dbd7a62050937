// Row-interleaved copies of K-quant matrices (Q4_K, Q5_K; layout in CKernels.h). Byte
// moves and unpacking of the 6-bit scales only: the copy holds the same values.
#include "ck_internal.h"

size_t ck_xk_record_bytes(int type) {
    switch (type) {
    case CK_Q4_K: return CK_XK_Q4K_REC;
    case CK_Q5_K: return CK_XK_Q5K_REC;
    default: return 0;
    }
}

size_t ck_interleave_k_bytes(int type, int rows, int cols) {
    const size_t rec = ck_xk_record_bytes(type);
    if (rec == 0 || rows <= 0 || rows % 16 != 0 || cols <= 0 || cols % 256 != 0) return 0;
    return (size_t)(rows / 16) * (size_t)(cols / 256) * rec;
}

void ck_interleave_k(int type, const void *src, size_t rowBytes, int rows, int cols, void *dst) {
    if (ck_interleave_k_bytes(type, rows, cols) == 0) return;
    const int nsb = cols / 256, bb = ck_bbytes(type);
    const size_t rec = ck_xk_record_bytes(type);
    for (int g = 0; g < rows / 16; g++) {
        for (int sb = 0; sb < nsb; sb++) {
            uint8_t *o = (uint8_t *)dst + ((size_t)g * (size_t)nsb + (size_t)sb) * rec;
            for (int r = 0; r < 16; r++) {
                const uint8_t *b = (const uint8_t *)src + (size_t)(16 * g + r) * rowBytes + (size_t)sb * (size_t)bb;
                memcpy(o + 2 * r, b, 2);
                memcpy(o + 32 + 2 * r, b + 2, 2);
                for (int j = 0; j < 8; j++) {
                    int sc, mn;
                    ck_scale_min_k4(j, b + 4, &sc, &mn);
                    o[64 + 16 * j + r] = (uint8_t)sc;
                    o[192 + 16 * j + r] = (uint8_t)mn;
                }
                const int qo = type == CK_Q4_K ? 16 : 48;
                const int qd = type == CK_Q4_K ? CK_XK_Q4K_Q : CK_XK_Q5K_Q;
                for (int v = 0; v < 32; v++) memcpy(o + qd + 64 * v + 4 * r, b + qo + 4 * v, 4);
                if (type == CK_Q5_K)
                    for (int v = 0; v < 8; v++) memcpy(o + CK_XK_Q5K_QH + 64 * v + 4 * r, b + 16 + 4 * v, 4);
            }
        }
    }
}
