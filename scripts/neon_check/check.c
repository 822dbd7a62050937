// Bitwise check: NEON/dotprod ck_gemm_q vs the portable kernel (see run.sh).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ck_internal.h"

#if !defined(__aarch64__)
#error "build for aarch64 (see run.sh)"
#endif

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float frand(void) { return (float)((int)(rnd() % 20001) - 10000) / 10000.0f; }

/* sane f16: |x| in about [2^-12, 2^-1], random sign and mantissa */
static uint16_t rf16(void) {
    uint16_t exp = (uint16_t)(3 + rnd() % 12);
    return (uint16_t)(((rnd() & 1) << 15) | (exp << 10) | (rnd() & 0x3FF));
}

static void fill_weights(int type, uint8_t *w, int rows, int cols) {
    int bb = ck_block_bytes(type), be = ck_block_elems(type);
    int nb = cols / be;
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < nb; b++) {
            uint8_t *blk = w + ((size_t)r * nb + b) * bb;
            for (int i = 0; i < bb; i++) blk[i] = (uint8_t)rnd();
            uint16_t h;
            switch (type) {
            case CK_Q4_1: case CK_Q5_1:
                h = rf16(); memcpy(blk, &h, 2);
                h = rf16(); memcpy(blk + 2, &h, 2);
                break;
            case CK_Q4_K: case CK_Q5_K:
                h = rf16(); memcpy(blk, &h, 2);
                h = rf16(); memcpy(blk + 2, &h, 2);
                break;
            case CK_Q6_K:
                h = rf16(); memcpy(blk + 208, &h, 2);
                break;
            default:
                h = rf16(); memcpy(blk, &h, 2);
                break;
            }
        }
}

static int passed = 0, failed = 0, have = 0;

static void run_case(int type, int rows, int cols, int ntok, int sub) {
    int ab = ck_type_act_block(type);
    size_t rb = (size_t)ck_block_bytes(type) * (size_t)(cols / ck_block_elems(type));
    uint8_t *w = malloc(rb * rows + 64);
    fill_weights(type, w, rows, cols);
    int nbA = cols / ab;
    size_t qStride = (size_t)cols + 32, dStride = (size_t)nbA + 3, bStride = (size_t)(cols / 16) + 5;
    int8_t *q = calloc(qStride * ntok, 1);
    float *d = calloc(dStride * ntok, sizeof(float)), *s = calloc(dStride * ntok, sizeof(float));
    int16_t *bs = calloc(bStride * ntok, sizeof(int16_t));
    float *x = malloc(sizeof(float) * cols);
    for (int t = 0; t < ntok; t++) {
        float scale = (rnd() % 4 == 0) ? 0.01f : 3.0f;
        for (int i = 0; i < cols; i++) x[i] = frand() * scale;
        if (t == 1 && cols >= 64) for (int i = 32; i < 64; i++) x[i] = 0.0f; /* a zero block */
        if (ab == 32) ck_quantize_act32(0, x, cols, q + t * qStride, d + t * dStride, s + t * dStride, NULL);
        else ck_quantize_act256(0, x, cols, q + t * qStride, d + t * dStride, bs + t * bStride);
    }
    ck_act a = {q, d, s, bs, qStride, dStride, bStride, NULL, NULL, NULL, 0};
    size_t ldy = (size_t)rows + 3;
    float *y0 = malloc(sizeof(float) * ldy * ntok), *y1 = malloc(sizeof(float) * ldy * ntok),
          *y2 = malloc(sizeof(float) * ldy * ntok);
    for (size_t i = 0; i < ldy * ntok; i++) { y0[i] = -7.0f; y1[i] = -7.0f; y2[i] = -7.0f; }
    int r0 = 0, r1 = rows, t0 = 0, t1 = ntok;
    if (sub && rows > 2) { r0 = 1; r1 = rows - 1; }
    if (sub && ntok > 2) { t0 = 1; t1 = ntok - 1; }
    ck_gemm_q_portable(type, w, rb, r0, r1, cols, &a, t0, t1, y0, ldy);
    if (have) ck_gemm_q_neon(type, w, rb, r0, r1, cols, &a, t0, t1, y1, ldy);
    else memcpy(y1, y0, sizeof(float) * ldy * ntok); /* no dotprod: check the dispatch fallback only */
    ck_gemm_q(CK_ISA_PORTABLE, type, w, rb, r0, r1, cols, &a, t0, t1, y2, ldy); /* dispatch path */
    int ok = memcmp(y0, y1, sizeof(float) * ldy * ntok) == 0 && memcmp(y0, y2, sizeof(float) * ldy * ntok) == 0;
    if (ok) passed++;
    else {
        failed++;
        for (int t = 0; t < ntok; t++)
            for (int r = 0; r < rows; r++) {
                size_t i = (size_t)t * ldy + r;
                if (memcmp(&y0[i], &y1[i], 4) || memcmp(&y0[i], &y2[i], 4)) {
                    printf("FAIL type %d rows %d cols %d ntok %d sub %d: t %d r %d portable %.9g neon %.9g dispatch %.9g\n",
                           type, rows, cols, ntok, sub, t, r, y0[i], y1[i], y2[i]);
                    goto done;
                }
            }
    done:;
    }
    free(w); free(q); free(d); free(s); free(bs); free(x); free(y0); free(y1); free(y2);
}

int main(void) {
    have = ck_neon_dot_available();
    printf("ck_neon_dot_available() = %d (%s)\n", have,
           have ? "NEON vs portable vs dispatch" : "no dotprod: dispatch fallback vs portable only");
    const int types32[] = {CK_Q4_0, CK_Q4_1, CK_Q5_0, CK_Q5_1, CK_Q8_0};
    const int rowsv[] = {1, 5, 7, 13};
    const int nbv[] = {1, 3, 15, 16, 17, 37, 64, 128};
    const int ntv[] = {1, 3, 8, 17};
    for (int ti = 0; ti < 5; ti++)
        for (int ri = 0; ri < 4; ri++)
            for (int ci = 0; ci < 8; ci++)
                for (int ni = 0; ni < 4; ni++)
                    for (int sub = 0; sub < 2; sub++)
                        run_case(types32[ti], rowsv[ri], 32 * nbv[ci], ntv[ni], sub);
    const int typesK[] = {CK_Q4_K, CK_Q5_K, CK_Q6_K};
    const int nsbv[] = {1, 2, 5, 16};
    for (int ti = 0; ti < 3; ti++)
        for (int ri = 0; ri < 4; ri++)
            for (int ci = 0; ci < 4; ci++)
                for (int ni = 0; ni < 4; ni++)
                    for (int sub = 0; sub < 2; sub++)
                        run_case(typesK[ti], rowsv[ri], 256 * nsbv[ci], ntv[ni], sub);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
