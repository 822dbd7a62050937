/// CKernels: the hot inner loops of Pagewise's Kernels module, written in C so that
/// per-ISA variants (AVX2, AVX-512 VNNI) can be compiled with target attributes and
/// chosen at run time, without unsafe compiler flags in Package.swift.
/// Every function here has a portable scalar variant that produces bitwise-identical
/// results (see ck_internal.h for the canonical summation order).
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "ck_bandwidth.h"

#ifdef __cplusplus
extern "C" {
#endif

/// ggml type ids (same numbering as GGUF).
enum {
    CK_F32 = 0, CK_F16 = 1, CK_Q4_0 = 2, CK_Q4_1 = 3, CK_Q5_0 = 6, CK_Q5_1 = 7,
    CK_Q8_0 = 8, CK_Q8_1 = 9, CK_Q2_K = 10, CK_Q3_K = 11, CK_Q4_K = 12, CK_Q5_K = 13,
    CK_Q6_K = 14, CK_Q8_K = 15, CK_BF16 = 30
};

/// Instruction-set levels for the dispatcher.
enum { CK_ISA_PORTABLE = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 };

/// Best level this CPU supports (0 on non-x86).
int ck_detect_isa(void);
/// Level used by the dispatcher: the detected one, lowered by an override (-1 = none).
int ck_active_isa(void);
void ck_set_isa_override(int level);
/// Monotonic clock in nanoseconds (for benchmarks).
uint64_t ck_now_ns(void);
int ck_get_isa_override(void);

/// Elements / bytes per block of a ggml type (0 when unknown).
int ck_block_elems(int type);
int ck_block_bytes(int type);

/// Dequantize `count` elements (a multiple of the type's block size) of `type`.
/// Returns 0 on success, -1 when the type is not supported.
int ck_dequantize(int type, const void *src, float *dst, size_t count);

/// Quantized activations for one call. Token t's data:
///   q + t*qStride (int8, cols values),
///   d + t*dStride (one float scale per activation block),
///   s + t*dStride (32-blocks only: d*sum(q) of the block),
///   bsums + t*bStride (256-blocks only: int16 sum of each 16 values).
typedef struct {
    const int8_t *q;
    const float *d;
    const float *s;
    const int16_t *bsums;
    size_t qStride;
    size_t dStride;
    size_t bStride;
    /// Optional token-interleaved copy of q/d/s for 32-blocks (made by `ck_pack_act32`; NULL
    /// when absent). Kernels that do not use it ignore it.
    const int8_t *pq;
    const float *pd;
    const float *ps;
    /// Tokens in the packed copy (the call's nTokens), 0 when absent.
    int pn;
    /// Optional exact integer sum of each 32-block of q (stride dStride; written by the
    /// quantizer, `ck_quantize_act_range`; NULL when absent): the row-interleaved kernels need it.
    const int32_t *asum;
} ck_act;

/// Quantize one token's activations to 8-bit blocks of 32 (every isa level gives identical bytes) (Q8_0-like, plus block sums);
/// `isum` (may be NULL) receives each block's exact integer sum.
void ck_quantize_act32(int isa, const float *x, int cols, int8_t *q, float *d, float *s, int32_t *isum);
/// Quantizes tokens [t0, t1) of x (token stride ldx) into the buffers of `a` (32-blocks when
/// actBlock is 32, else 256-blocks), and for 32-blocks also their block sums into `sums` (stride
/// a->dStride) when `sums` is not NULL. The same bytes as the one-token functions.
void ck_quantize_act_range(int isa, int actBlock, const float *x, size_t ldx, int cols, int t0, int t1,
                           const ck_act *a, int32_t *sums);
/// Quantize one token's activations to 8-bit blocks of 256 (Q8_K-like: float scale, int16 sums per 16).
void ck_quantize_act256(int isa, const float *x, int cols, int8_t *q, float *d, int16_t *bsums);

/// Scratch parts beside the quantized activations: the token-interleaved copy (read by the
/// batched kernel on the original weight layout, made by `ck_pack_act32`) and the per-block
/// integer sums (read by the kernel on the row-interleaved layout, written by
/// `ck_quantize_act_range`).
enum { CK_PACK_COPY = 1, CK_PACK_SUMS = 2 };
/// Bytes of scratch the parts in `what` need for `nTokens` tokens of `cols` (a multiple of 32) at
/// level `isa`, the copy first; 0 when that level uses none of them.
size_t ck_pack_act32_bytes(int isa, int cols, int nTokens, int what);
/// Fills `buf` (64-byte aligned, `ck_pack_act32_bytes(.., CK_PACK_COPY)` long) with the
/// token-interleaved copy of the 32-block activations in `a` (tokens 0..<nTokens) and sets
/// a->pq/pd/ps/pn (NULL / 0 when the level makes none).
void ck_pack_act32(int isa, ck_act *a, int cols, int nTokens, void *buf);

/// Row-interleaved layout of a 32-block matrix (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 with rows a
/// multiple of 16), read by the AVX-512 batched kernel: rows in groups of 16; each block of a group
/// is one record of 16 * blockBytes bytes; groups 2P and 2P+1 form a pair whose records alternate
/// (block 0 of 2P, block 0 of 2P+1, block 1 of 2P, ...), so that the kernel, which does a pair in
/// one pass, reads one stream; the last group of an odd count has its blocks in order. A record: the 16 rows' f16
/// scales (then the 16 mins for Q4_1/Q5_1), for Q5 the 16 rows' fifth bits (a 32-bit word per
/// row, rearranged: byte i, bit k = the bit of chunk k's byte i), then the quants with row r in
/// 32-bit lane r: for Q4/Q5 four 64-byte chunks (chunk c, lane r = bytes 4c..4c+3 of row r's 16
/// nibble bytes; their low nibbles are chunk c, their high nibbles chunk c + 4), for Q8_0 eight
/// chunks (lane r = bytes 4c..4c+3 of row r's 32 values, XOR 0x80, i.e. value + 128 as u8).
/// Q4_K and Q5_K (rows a multiple of 16, cols of 256), read by the AVX2 K kernel (at the AVX2 and
/// AVX-512 levels): one record per 16-row group and super-block, groups in order, super-blocks in
/// order within a group. Q4_K / Q5_K record: the 16 rows' f16 d, their f16 dmin, the 8 unpacked 6-bit
/// scales (byte 64 + 16j + r = scale j of row r), the 8 mins likewise from byte 192, for Q5_K the 32 qh
/// bytes as 8 vectors of 64 (lane r = row r's bytes 4v..4v+3), then the 128 quant bytes as 32 vectors of
/// 64 (lane r = row r's bytes 4v..4v+3): 2368 / 2880 bytes. (Q6_K has none: its kernel on the stored
/// rows is as fast.)
/// Bytes of that copy (the same as the original for 32-block types), or 0 when the type or shape has none.
size_t ck_interleave_bytes(int type, int rows, int cols);
/// Writes the row-interleaved copy of `rows` rows of `rowBytes` bytes at `src` into `dst`.
void ck_interleave(int type, const void *src, size_t rowBytes, int rows, int cols, void *dst);

/// Whether `type` has an integer dot product kernel (activations quantized as 32-blocks or 256-blocks).
int ck_type_act_block(int type);

/// y[t*ldy + r] = dot(row r of w, token t) for r in [r0,r1), t in [t0,t1), quantized weights.
void ck_gemm_q(int isa, int type, const void *w, size_t rowBytes, int r0, int r1, int cols,
               const ck_act *a, int t0, int t1, float *y, size_t ldy);

/// `ck_gemm_q` with an optional row-interleaved copy `wx` of the same matrix (`ck_interleave`;
/// NULL when there is none; `rows`: the whole matrix's row count, which places its records): the
/// AVX-512 level reads whole 16-row groups from it. Results are bitwise those of `ck_gemm_q`.
void ck_gemm_qx(int isa, int type, const void *w, const void *wx, int rows, size_t rowBytes, int r0, int r1, int cols,
                const ck_act *a, int t0, int t1, float *y, size_t ldy);

/// Same for float weights (F32/F16/BF16); x is float with token stride ldx.
void ck_gemm_f(int isa, int type, const void *w, size_t rowBytes, int r0, int r1, int cols,
               const float *x, size_t ldx, int t0, int t1, float *y, size_t ldy);

/// Canonical float dot used for float weights and fallbacks (16 lanes, lane = i % 16, tree reduce).
float ck_dot_f32(int isa, const float *a, const float *b, int n);

/// Worker pool. `threads` counts the calling thread, so threads-1 workers are spawned.
typedef struct ck_pool ck_pool;
typedef void (*ck_task_fn)(void *ctx, long index);
ck_pool *ck_pool_create(int threads);
void ck_pool_destroy(ck_pool *pool);
/// Runs fn(ctx, i) for i in 0..<n on the workers and the calling thread; returns when all are done.
void ck_pool_run(ck_pool *pool, long n, ck_task_fn fn, void *ctx);
/// One dispatch in two phases: pf(pctx, i) for i in 0..<np, then — each only after all of those
/// have finished — fn(ctx, i) for i in 0..<n.
void ck_pool_run_phased(ck_pool *pool, long np, ck_task_fn pf, void *pctx, long n, ck_task_fn fn, void *ctx);

/// Work in contiguous ranges: `units` units split into `n` ranges (one per task of a dispatch of
/// n tasks, in `ck_ranges_bytes(n)` bytes at `mem`, 64-byte aligned). Task k claims range k's
/// units in order, then what is left of the others; -1 when every unit is taken.
size_t ck_ranges_bytes(int n);
void ck_ranges_init(void *mem, int n, long units);
long ck_ranges_claim(void *mem, int n, int k);

/// Attention for one query token over paged K/V (see Swift docs).
void ck_paged_attention(int isa, const float *q, const float *kCache, const float *vCache,
                        const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                        int nHeads, int kvHeads, int headDim, float scale, float *out);
/// Same, computing only query heads [h0, h1).
void ck_paged_attention_heads(int isa, const float *q, const float *kCache, const float *vCache,
                              const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                              int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1);
/// `ck_paged_attention_heads` over an F16 cache (IEEE binary16 bits, same layout). Every value is
/// widened to float exactly before the float path's arithmetic, so at each level the result is,
/// bit for bit, that of `ck_paged_attention_heads` over a float cache holding the widened values.
void ck_paged_attention_heads_f16(int isa, const float *q, const uint16_t *kCache, const uint16_t *vCache,
                                  const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                                  int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1);

/// `ck_paged_attention_heads` over a Q8_0 cache: each position's row of kvHeads * headDim values
/// (headDim a multiple of 32) stored as ggml Q8_0 blocks (F16 scale, 32 int8; 34 bytes per 32
/// values). Every value is dequantized ((float)q * (float)d, exact) before the float path's
/// arithmetic, so at each level the result is, bit for bit, that of `ck_paged_attention_heads`
/// over a float cache holding the dequantized values.
void ck_paged_attention_heads_q8_0(int isa, const float *q, const void *kCache, const void *vCache,
                                   const int32_t *blockTable, int blockSize, int windowStart, int contextLen,
                                   int nHeads, int kvHeads, int headDim, float scale, float *out, int h0, int h1);
/// Queries of one sequence sharing its block table and `windowStart`: query i (all nHeads heads at
/// q + i * qStride) attends [windowStart, contextLens[i]) and writes out + i * outStride. The cache is
/// float (kvType 0), F16 (1) or Q8_0 (2). Each query's result is, bit for bit, that of
/// `ck_paged_attention_heads` (or its F16 / Q8_0 form) for it alone; the K/V rows that several
/// queries read are loaded and widened once for all of them (prefill).
void ck_paged_attention_multi(int isa, int kvType, const float *q, size_t qStride, int nq, const int32_t *contextLens,
                              const void *kCache, const void *vCache, const int32_t *blockTable, int blockSize,
                              int windowStart, int nHeads, int kvHeads, int headDim, float scale, float *out,
                              size_t outStride);
/// The canonical attention of a query over [windowStart, contextLen) is computed in partitions of
/// fixed absolute positions, [k * 512, (k + 1) * 512) cut by the window and the context, each in one
/// online-softmax pass, folded in partition order (`ck_attention_merge`); within one partition it
/// is one pass. Returns how many partitions the range spans (1 for an empty range) and, in *first,
/// the first one's index k.
int ck_attention_partitions(int windowStart, int contextLen, int *first);
/// Partition `part` (an absolute index from `ck_attention_partitions`) of query heads [h0, h1) of one
/// query over a float (kvType 0), F16 (1) or Q8_0 (2) cache: the normalized output of each head at
/// out + (h - h0) * headDim, and its running max and sum at ml + 2 * (h - h0) (l = 0: nothing attended).
void ck_paged_attention_partition(int isa, int kvType, const float *q, const void *kCache, const void *vCache,
                                  const int32_t *blockTable, int blockSize, int windowStart, int contextLen, int part,
                                  int nHeads, int kvHeads, int headDim, float scale, float *out, float *ml, int h0, int h1);
/// Folds `parts` partition results of nHeads heads (partition k's outputs at outs + k * outStride,
/// its (m, l) pairs at mls + k * mlStride), in order, into out: bit for bit what
/// `ck_paged_attention_heads` computes for the heads alone.
void ck_attention_merge(int nHeads, int headDim, int parts, const float *outs, size_t outStride, const float *mls,
                        size_t mlStride, float *out);
/// n floats (a multiple of 32) -> n / 32 ggml Q8_0 blocks (34 bytes each), exactly as ggml's
/// quantize_row_q8_0_ref: d = amax / 127, q = roundf(x * (1 / d)) (0 when d == 0), d as F16.
void ck_quantize_kv_q8_0(const float *x, uint8_t *dst, size_t n);

/// Prefetches (prefetch instructions only) the K and V rows of positions [p0, p1) of a sequence
/// (`kRowBytes` / `vRowBytes` per position, pages of `blockSize` through `blockTable`): a thread
/// about to do another sequence's attention asks for its rows while it finishes this one.
void ck_prefetch_kv_rows(const void *kCache, const void *vCache, size_t kRowBytes, size_t vRowBytes,
                         const int32_t *blockTable, int blockSize, int p0, int p1);

/// Float -> IEEE binary16 bits, round to nearest even: overflow (|x| >= 65520) to ±inf, subnormal
/// halves below 2^-14, ±0 kept, a NaN stays NaN (sign and top 10 payload bits kept, quiet bit set).
/// Every level gives the bits of F16C's `vcvtps2ph` with rounding immediate 0 (`_cvtss_sh(x, 0)`).
void ck_f32_to_f16(int isa, const float *src, uint16_t *dst, size_t n);
/// IEEE binary16 bits -> float, exact (every level gives the same bits for every non-NaN input).
void ck_f16_to_f32(int isa, const uint16_t *src, float *dst, size_t n);

/// Element-wise activation: kind 0 = SiLU, 1 = GELU (tanh approximation); out = act(x) * up
/// (up may be NULL). out may alias x or up.
void ck_activation(int isa, int kind, const float *x, const float *up, int n, float *out);
/// In-place softmax.
void ck_softmax(int isa, float *x, int n);
/// Index of the first largest value of x[0..<n] (NaN never wins; 0 when no value exceeds -inf).
long ck_argmax(int isa, const float *x, long n);

#ifdef __cplusplus
}
#endif
#endif
