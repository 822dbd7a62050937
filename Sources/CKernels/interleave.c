// Row-interleaved copies of 32-block matrices (layout documented in CKernels.h). Plain byte
// moves: the copy holds exactly the original bits, rearranged so that one 64-byte load gives
// the same 4 weights of 16 rows.
#include "ck_internal.h"

size_t ck_interleave_bytes(int type, int rows, int cols) {
    if (type != CK_Q4_0 && type != CK_Q4_1 && type != CK_Q8_0) return 0;
    if (rows <= 0 || rows % 16 != 0 || cols <= 0 || cols % 32 != 0) return 0;
    return (size_t)rows * (size_t)(cols / 32) * (size_t)ck_bbytes(type);
}

void ck_interleave(int type, const void *src, size_t rowBytes, int rows, int cols, void *dst) {
    if (ck_interleave_bytes(type, rows, cols) == 0) return;
    const int nb = cols / 32, bb = ck_bbytes(type);
    const size_t rec = 16 * (size_t)bb;
    const int hm = type == CK_Q4_1;
    const int sc = hm ? 64 : 32;      /* scale (and min) bytes at the start of a record */
    const int qo = hm ? 4 : 2;        /* quant offset inside an original block */
    const int chunks = type == CK_Q8_0 ? 8 : 4;
    for (int g = 0; g < rows / 16; g++) {
        for (int b = 0; b < nb; b++) {
            uint8_t *o = (uint8_t *)dst + ((size_t)g * (size_t)nb + (size_t)b) * rec;
            for (int r = 0; r < 16; r++) {
                const uint8_t *blk = (const uint8_t *)src + (size_t)(16 * g + r) * rowBytes + (size_t)b * (size_t)bb;
                memcpy(o + 2 * r, blk, 2);
                if (hm) memcpy(o + 32 + 2 * r, blk + 2, 2);
                for (int c = 0; c < chunks; c++) {
                    uint32_t v = ck_rd32(blk + qo + 4 * c);
                    if (type == CK_Q8_0) v ^= 0x80808080u;
                    memcpy(o + sc + 64 * c + 4 * r, &v, 4);
                }
            }
        }
    }
}
