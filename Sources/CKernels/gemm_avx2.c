// AVX2 kernels. Until dedicated AVX2 tiles land, this level uses the portable kernels
// (bitwise identical by construction).
#pragma clang fp contract(off)
#include "ck_internal.h"
#if defined(__x86_64__)
void ck_gemm_q_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const ck_act *a, int t0, int t1, float *y, size_t ldy) {
    ck_gemm_q_portable(type, w, rb, r0, r1, cols, a, t0, t1, y, ldy);
}
void ck_gemm_f_avx2(int type, const uint8_t *w, size_t rb, int r0, int r1, int cols,
                    const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy) {
    ck_gemm_f_portable(type, w, rb, r0, r1, cols, x, ldx, t0, t1, y, ldy);
}
float ck_dot_f32_avx2(const float *a, const float *b, int n) { return ck_dot_f32_portable(a, b, n); }
#endif
