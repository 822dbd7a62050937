// Element-wise activations and softmax. The AVX-512 variants use a polynomial exp
// (max relative error ~2 ulp); the portable ones use libm expf.
#include <math.h>
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { ACT_SILU = 0, ACT_GELU_TANH = 1 };

#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */

/* silu(x) = x / (1 + e^-x); gelu_tanh(x) = 0.5 x (1 + tanh(u)) = x / (1 + e^(-2u)),
   u = sqrt(2/pi) (x + 0.044715 x^3). */
static inline float act1(int kind, float x) {
    if (kind == ACT_SILU) return x / (1.0f + expf(-x));
    float u = GELU_C * (x + 0.044715f * x * x * x);
    return x / (1.0f + expf(-2.0f * u));
}

static void act_portable(int kind, const float *x, const float *up, int n, float *out) {
    for (int i = 0; i < n; i++) {
        float v = act1(kind, x[i]);
        out[i] = up ? v * up[i] : v;
    }
}

static void softmax_portable(float *x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    float s = 0.0f;
    for (int i = 0; i < n; i++) { float e = expf(x[i] - m); x[i] = e; s += e; }
    float inv = 1.0f / s;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

#if defined(__x86_64__)
#define T512E __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

CK_AI T512E __m512 exp512(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

CK_AI T512E __m512 act512(int kind, __m512 x) {
    __m512 t;
    if (kind == ACT_SILU) {
        t = _mm512_sub_ps(_mm512_setzero_ps(), x);
    } else {
        __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
        __m512 u = _mm512_mul_ps(_mm512_set1_ps(GELU_C), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
        t = _mm512_mul_ps(_mm512_set1_ps(-2.0f), u);
    }
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(t)));
}

static T512E void act_avx512(int kind, const float *x, const float *up, int n, float *out) {
    int i = 0;
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = act512(kind, _mm512_maskz_loadu_ps(m, x + i));
        if (up) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, up + i));
        _mm512_mask_storeu_ps(out + i, m, v);
    }
}

static T512E void softmax_avx512(float *x, int n) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        mv = _mm512_mask_max_ps(mv, m, mv, _mm512_maskz_loadu_ps(m, x + i));
    }
    __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
    __m512 sv = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mx));
        sv = _mm512_mask_add_ps(sv, m, sv, e);
        _mm512_mask_storeu_ps(x + i, m, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sv));
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    }
}
#endif

void ck_activation(int isa, int kind, const float *x, const float *up, int n, float *out) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) { act_avx512(kind, x, up, n, out); return; }
#endif
    (void)isa;
    act_portable(kind, x, up, n, out);
}

void ck_softmax(int isa, float *x, int n) {
    if (n <= 0) return;
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) { softmax_avx512(x, n); return; }
#endif
    (void)isa;
    softmax_portable(x, n);
}

/* ---- argmax: first index of the largest value; NaN never wins; 0 when nothing beats -inf ---- */
static long argmax_portable(const float *x, long n) {
    long best = 0;
    float bv = -INFINITY;
    for (long i = 0; i < n; i++)
        if (x[i] > bv) { bv = x[i]; best = i; }
    return best;
}

#if defined(__x86_64__)
static T512E long argmax_avx512(const float *x, long n) {
    /* pass 1: the maximum (NaN lanes masked out); pass 2: its first position */
    __m512 mv = _mm512_set1_ps(-INFINITY);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        mv = _mm512_mask_max_ps(mv, _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), mv, v);
    }
    float m = _mm512_reduce_max_ps(mv);
    for (long k = i; k < n; k++) if (x[k] > m) m = x[k];
    if (!(m > -INFINITY)) return 0;
    const __m512 target = _mm512_set1_ps(m);
    for (i = 0; i + 16 <= n; i += 16) {
        __mmask16 eq = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), target, _CMP_EQ_OQ);
        if (eq) return i + __builtin_ctz((unsigned)eq);
    }
    for (; i < n; i++) if (x[i] == m) return i;
    return 0;
}
#endif

long ck_argmax(int isa, const float *x, long n) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) return argmax_avx512(x, n);
#endif
    (void)isa;
    return argmax_portable(x, n);
}
