// Row-interleaved copies of 32-block matrices (layout documented in CKernels.h). Plain byte
// moves: the copy holds exactly the original bits, rearranged so that one 64-byte load gives
// the same 4 weights of 16 rows.
#include "ck_internal.h"

size_t ck_interleave_bytes(int type, int rows, int cols) {
    if (type == CK_Q4_K || type == CK_Q5_K) return ck_interleave_k_bytes(type, rows, cols);
    if (type != CK_Q4_0 && type != CK_Q4_1 && type != CK_Q5_0 && type != CK_Q5_1 && type != CK_Q8_0) return 0;
    if (rows <= 0 || rows % 16 != 0 || cols <= 0 || cols % 32 != 0) return 0;
    return (size_t)rows * (size_t)(cols / 32) * (size_t)ck_bbytes(type);
}

/* Q5 fifth bits, rearranged: byte i, bit k of a row's word = the fifth bit of the element that
   chunk k's byte i holds (chunk k < 4: element 4k + i; chunk k >= 4: element 16 + 4(k - 4) + i),
   so that one shift and one mask put chunk k's bits at bit 4 of every byte. */
static uint32_t q5_high_bits(uint32_t qh) {
    uint32_t v = 0;
    for (int k = 0; k < 8; k++)
        for (int i = 0; i < 4; i++) {
            const int e = k < 4 ? 4 * k + i : 16 + 4 * (k - 4) + i;
            v |= ((qh >> e) & 1u) << (8 * i + k);
        }
    return v;
}

void ck_interleave(int type, const void *src, size_t rowBytes, int rows, int cols, void *dst) {
    if (type == CK_Q4_K || type == CK_Q5_K) { ck_interleave_k(type, src, rowBytes, rows, cols, dst); return; }
    if (ck_interleave_bytes(type, rows, cols) == 0) return;
    const int nb = cols / 32, bb = ck_bbytes(type);
    const size_t rec = 16 * (size_t)bb;
    const int hm = type == CK_Q4_1 || type == CK_Q5_1;
    const int q5 = type == CK_Q5_0 || type == CK_Q5_1;
    const int hb = hm ? 64 : 32;                 /* scale (and min) bytes at the start of a record */
    const int sc = hb + (q5 ? 64 : 0);           /* then the Q5 high-bit words, then the quants */
    const int qo = (hm ? 4 : 2) + (q5 ? 4 : 0);  /* quant offset inside an original block */
    const int chunks = type == CK_Q8_0 ? 8 : 4;
    const int ng = rows / 16;
    for (int g = 0; g < ng; g++) {
        for (int b = 0; b < nb; b++) {
            uint8_t *o = (uint8_t *)dst + ck_x16_record(g, b, ng, nb) * rec;
            for (int r = 0; r < 16; r++) {
                const uint8_t *blk = (const uint8_t *)src + (size_t)(16 * g + r) * rowBytes + (size_t)b * (size_t)bb;
                memcpy(o + 2 * r, blk, 2);
                if (hm) memcpy(o + 32 + 2 * r, blk + 2, 2);
                if (q5) {
                    const uint32_t h = q5_high_bits(ck_rd32(blk + (hm ? 4 : 2)));
                    memcpy(o + hb + 4 * r, &h, 4);
                }
                for (int c = 0; c < chunks; c++) {
                    uint32_t v = ck_rd32(blk + qo + 4 * c);
                    if (type == CK_Q8_0) v ^= 0x80808080u;
                    memcpy(o + sc + 64 * c + 4 * r, &v, 4);
                }
            }
        }
    }
}
