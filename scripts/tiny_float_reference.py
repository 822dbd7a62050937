#!/usr/bin/env python3
"""Float64 numpy forward pass of the tiny models, to size llama.cpp's activation-quantization noise.

llama.cpp (and Pagewise) multiply a quantized weight by an activation that was itself quantized
to 8 bits per 32-block (Q8_0, or Q8_1 for Q4_1). This script runs the same network with the
weights *exactly* as stored (dequantized with `gguf.quants.dequantize`) but every activation in
float64, so the difference to llama.cpp's fixture logits is that activation rounding (plus
llama.cpp's F32 accumulation and, for Gemma 3, its F16 GELU table) and nothing else.

Steps:
  1. validation: on the F32 tiny models (llama-f32, llama3-ropefreqs, gemma3) the numpy forward
     must reproduce `<model>.logits.json` to 1e-3 of max |logit| (llama: ~4e-6; gemma3: 6e-4 with
     exact GELU, 1.3e-4 with the F16 table);
  2. for every quantized tiny model, write `<model>.float-logits.json` (same format as
     `<model>.logits.json`) and `activation-quant-noise.json`:
     {"<model>": {"max_abs": max |llama.cpp - float|, "mean_abs": mean |...|,
                  "max_abs_logit": max |llama.cpp logit|, ...}}.

Semantics follow scripts/README.md (llama: NORM rope, GQA, RMSNorm; gemma3: embedding x
sqrt(n_embd), per-head q/k RMS norms, NeoX rope, sliding layers il % 6 < 5 with window rule
`p1 - p0 >= window` masked and rope base 10000, global layers rope.freq_base, post norms,
GeGLU with GELU-tanh, tied output). Exact GELU-tanh is used unless --gelu-f16, which emulates
llama.cpp's F16 lookup table (input and output rounded to F16).

Usage:  python scripts/tiny_float_reference.py [--gelu-f16] [--no-write]
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGUFReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llama_ref import REPO, dump_json, sig  # noqa: E402  (llama_ref imports llama_cpp; only for helpers)

TINY = REPO / "Tests" / "ModelsTests" / "Fixtures" / "tiny"
F32_MODELS = ["llama-f32", "llama3-ropefreqs", "gemma3"]
QUANT_MODELS = ["llama-q8_0", "llama-q4_0", "llama-q4_1", "llama-q5_0", "gemma3-q8_0"]
VALIDATION_TOL = 1e-3   # of max |logit|


class Model:
    def __init__(self, path: Path):
        r = GGUFReader(path)
        self.arch = r.get_field("general.architecture").contents()
        a = self.arch

        def kv(key, default=None):
            f = r.get_field(f"{a}.{key}")
            return default if f is None else f.contents()

        self.n_embd = kv("embedding_length")
        self.n_layer = kv("block_count")
        self.n_head = kv("attention.head_count")
        self.n_head_kv = kv("attention.head_count_kv")
        self.head_dim = kv("attention.key_length", self.n_embd // self.n_head)
        self.eps = kv("attention.layer_norm_rms_epsilon")
        self.rope_base = kv("rope.freq_base", 10000.0)
        self.rope_base_swa = kv("rope.freq_base_swa", 10000.0)
        self.window = kv("attention.sliding_window", 0)
        assert kv("attention.sliding_window_pattern") is None, "only the default pattern (6) is handled"
        assert kv("final_logit_softcapping") is None
        self.w: dict[str, np.ndarray] = {}
        self.wtype: dict[str, gguf.GGMLQuantizationType] = {}
        self.q4_1_min: dict[str, np.ndarray] = {}   # per-block minimum m of Q4_1 matrices, [out, in/32]
        for t in r.tensors:
            self.wtype[t.name] = t.tensor_type
            if t.tensor_type == gguf.GGMLQuantizationType.Q4_1:
                raw = np.asarray(t.data, dtype=np.uint8).reshape(-1, 20)    # d f16, m f16, 16 nibble bytes
                self.q4_1_min[t.name] = raw[:, 2:4].copy().view(np.float16).astype(np.float64).reshape(
                    int(t.shape[1]), int(t.shape[0]) // 32)
            data = gguf.quants.dequantize(t.data, t.tensor_type)
            shape = tuple(int(d) for d in reversed(t.shape))   # numpy order [out, in]
            self.w[t.name] = np.asarray(data, dtype=np.float64).reshape(shape)
        if "output.weight" not in self.w:
            self.w["output.weight"] = self.w["token_embd.weight"]   # tied
            self.wtype["output.weight"] = self.wtype["token_embd.weight"]
            if "token_embd.weight" in self.q4_1_min:
                self.q4_1_min["output.weight"] = self.q4_1_min["token_embd.weight"]


def float_matmul(m: Model, x: np.ndarray, name: str) -> np.ndarray:
    """x [T, in] times weight [out, in]^T, all float64: the reference."""
    return x @ m.w[name].T


def llamacpp_matmul(m: Model, x: np.ndarray, name: str) -> np.ndarray:
    """Diagnostic only: emulate llama.cpp's x86 activation quantization for a quantized weight.

    Per 32-block: amax, d = amax/127 (F32), id = 127/amax, q = round-half-even(x*id) (F32), scale
    stored as F16 (Q8_0); for Q4_1 weights Q8_1 also stores s = F16(d * sum q), used with the weight's
    block minimum m, so the product gains m * (s - F16(d) * sum q) per block."""
    if m.wtype[name] in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
        return x @ m.w[name].T
    T_, n = x.shape
    b = x.astype(np.float32).reshape(T_, n // 32, 32)
    amax = np.abs(b).max(axis=-1, keepdims=True)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(amax > 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint((b * idv).astype(np.float32)).astype(np.float64)
    d16 = d.astype(np.float16).astype(np.float64)
    out = (q * d16).reshape(T_, n) @ m.w[name].T
    if name in m.q4_1_min:
        sq = q.sum(axis=-1)                                           # [T, blocks]
        s16 = (d[..., 0] * sq.astype(np.float32)).astype(np.float16).astype(np.float64)
        out += (s16 - d16[..., 0] * sq) @ m.q4_1_min[name].T
    return out


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * w


def rope(x: np.ndarray, pos: np.ndarray, base: float, neox: bool, freq_factors=None) -> np.ndarray:
    """x: [T, heads, d]. NORM pairs (2i, 2i+1), NeoX pairs (i, i + d/2); angle pos * base^(-2i/d) / ff[i]."""
    d = x.shape[-1]
    inv = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    if freq_factors is not None:
        inv = inv / freq_factors
    ang = pos[:, None].astype(np.float64) * inv[None, :]          # [T, d/2]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if neox:
        a, b = x[..., : d // 2], x[..., d // 2:]
        return np.concatenate([a * c - b * s, a * s + b * c], axis=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * x * (1.0 + 0.044715 * x * x)))


def gelu_f16_table(x: np.ndarray) -> np.ndarray:
    """llama.cpp CPU: x <= -10 -> 0, x >= 10 -> x, else F16 table of F32 gelu at the F16-rounded input."""
    x16 = x.astype(np.float16).astype(np.float32)
    y = gelu_tanh(x16.astype(np.float32)).astype(np.float32).astype(np.float16).astype(np.float64)
    return np.where(x <= -10, 0.0, np.where(x >= 10, x, y))


def attention(q, k, v, mask):
    """q [T, H, d], k/v [T, KV, d], mask [T, T] bool (True = visible). Q is already scaled."""
    H, KV = q.shape[1], k.shape[1]
    g = H // KV
    out = np.empty_like(q)
    for h in range(H):
        kh, vh = k[:, h // g], v[:, h // g]
        s = q[:, h] @ kh.T
        s = np.where(mask, s, -np.inf)
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        out[:, h] = p @ vh
    return out


def forward(m: Model, tokens: list[int], gelu_f16: bool = False, matmul=float_matmul) -> np.ndarray:
    W = m.w
    mm = lambda x, name: matmul(m, x, name)   # noqa: E731
    T = len(tokens)
    pos = np.arange(T)
    H, KV, D = m.n_head, m.n_head_kv, m.head_dim
    gemma = m.arch == "gemma3"
    causal = pos[None, :] <= pos[:, None]                           # [query p1, key p0]
    swa = causal & ((pos[:, None] - pos[None, :]) < m.window) if m.window else causal
    x = W["token_embd.weight"][tokens]
    if gemma:
        x = x * math.sqrt(m.n_embd)
    ff = W.get("rope_freqs.weight")
    for il in range(m.n_layer):
        p = f"blk.{il}."
        h = rms_norm(x, W[p + "attn_norm.weight"], m.eps)
        q = mm(h, p + "attn_q.weight")
        k = mm(h, p + "attn_k.weight")
        v = mm(h, p + "attn_v.weight")
        for name, t in (("q", q), ("k", k), ("v", v)):
            b = W.get(p + f"attn_{name}.bias")
            if b is not None:
                t += b
        q, k, v = q.reshape(T, H, D), k.reshape(T, KV, D), v.reshape(T, KV, D)
        if p + "attn_q_norm.weight" in W:
            q = rms_norm(q, W[p + "attn_q_norm.weight"], m.eps)
            k = rms_norm(k, W[p + "attn_k_norm.weight"], m.eps)
        if gemma:
            sliding = m.window > 0 and il % 6 < 5
            base, mask, neox = (m.rope_base_swa, swa, True) if sliding else (m.rope_base, causal, True)
        else:
            assert m.arch == "llama", m.arch
            base, mask, neox = m.rope_base, causal, False
        q = rope(q, pos, base, neox, ff) / math.sqrt(D)
        k = rope(k, pos, base, neox, ff)
        a = mm(attention(q, k, v, mask).reshape(T, H * D), p + "attn_output.weight")
        if gemma:
            a = rms_norm(a, W[p + "post_attention_norm.weight"], m.eps)
        x = x + a
        h = rms_norm(x, W[p + "ffn_norm.weight"], m.eps)
        g = mm(h, p + "ffn_gate.weight")
        u = mm(h, p + "ffn_up.weight")
        if gemma:
            act = (gelu_f16_table(g) if gelu_f16 else gelu_tanh(g)) * u
        else:
            act = g / (1.0 + np.exp(-g)) * u                        # SwiGLU
        f = mm(act, p + "ffn_down.weight")
        if gemma:
            f = rms_norm(f, W[p + "post_ffw_norm.weight"], m.eps)
        x = x + f
    x = rms_norm(x, W["output_norm.weight"], m.eps)
    return mm(x, "output.weight")


def load_fixture(name: str) -> dict:
    with open(TINY / f"{name}.logits.json") as f:
        return json.load(f)


def compare(ref: np.ndarray, ours: np.ndarray) -> dict:
    d = np.abs(ref - ours)
    mx = float(np.abs(ref).max())
    return {"max_abs": float(d.max()), "mean_abs": float(d.mean()), "max_abs_logit": mx,
            "max_rel": float(d.max() / mx), "mean_rel": float(d.mean() / mx),
            "argmax_agree": float((ref.argmax(1) == ours.argmax(1)).mean())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gelu-f16", action="store_true",
                    help="emulate llama.cpp's F16 GELU table in the quantized runs too (default: exact GELU)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()

    ok = True
    print("validation on F32 models (numpy float64 vs llama.cpp fixture), relative to max |logit|:")
    for name in F32_MODELS:
        fx = load_fixture(name)
        ref = np.array(fx["logits"], dtype=np.float64)
        m = Model(TINY / f"{name}.gguf")
        variants = [("exact gelu", False)] + ([("f16 gelu", True)] if m.arch == "gemma3" else [])
        for label, g16 in variants:
            c = compare(ref, forward(m, fx["tokens"], gelu_f16=g16))
            passed = c["max_rel"] <= VALIDATION_TOL
            ok &= passed or (m.arch == "gemma3" and not g16)   # exact GELU on gemma may sit at ~1e-3
            print(f"  {name:18s} {label:10s} max {c['max_abs']:.2e} mean {c['mean_abs']:.2e} "
                  f"max|logit| {c['max_abs_logit']:.3f}  max rel {c['max_rel']:.2e}  "
                  f"{'PASS' if passed else 'over 1e-3'}")
    if not ok:
        print("F32 validation FAILED: fix the numpy forward before trusting the numbers below")
        return 1

    print("\nquantized models: llama.cpp (activations quantized to 8 bits) vs float64 reference "
          f"(dequantized weights, float activations, {'F16' if args.gelu_f16 else 'exact'} GELU):")
    noise = {}
    for name in QUANT_MODELS:
        fx = load_fixture(name)
        ref = np.array(fx["logits"], dtype=np.float64)
        m = Model(TINY / f"{name}.gguf")
        flt = forward(m, fx["tokens"], gelu_f16=args.gelu_f16)
        c = compare(ref, flt)
        entry = {k: sig(v) for k, v in c.items()}
        # Cross-check: with llama.cpp's activation quantization emulated, the same forward should
        # land on llama.cpp's logits (up to rare single-value rounding flips), which shows that the
        # float-vs-llama.cpp gap above is the activation quantization and not a modelling error.
        emu = compare(ref, forward(m, fx["tokens"], gelu_f16=True, matmul=llamacpp_matmul))
        pos_exact = int((np.abs(ref - forward(m, fx["tokens"], gelu_f16=True, matmul=llamacpp_matmul))
                         .max(axis=1) <= 1e-3).sum())
        entry["emulated_q8_max_abs"] = sig(emu["max_abs"])
        entry["emulated_q8_mean_abs"] = sig(emu["mean_abs"])
        entry["emulated_q8_positions_within_1e-3"] = pos_exact
        if m.arch == "gemma3":
            entry["gelu"] = "f16-table" if args.gelu_f16 else "exact"
        noise[name] = entry
        print(f"  {name:12s} max {c['max_abs']:.4f} mean {c['mean_abs']:.4f} max|logit| {c['max_abs_logit']:.3f} "
              f" max rel {c['max_rel']:.4f} mean rel {c['mean_rel']:.5f} argmax agree {c['argmax_agree']:.3f}"
              f"  | emulated act-quant: max {emu['max_abs']:.4f} mean {emu['mean_abs']:.5f}, "
              f"{pos_exact}/{len(ref)} positions within 1e-3")
        if not args.no_write:
            out = {"model": fx["model"], "tokens": fx["tokens"], "n_vocab": fx["n_vocab"],
                   "reference": {"generator": "scripts/tiny_float_reference.py",
                                 "numpy": np.__version__, "gguf": importlib.metadata.version("gguf"),
                                 "note": "float64 forward, weights = gguf.quants.dequantize of the file, "
                                         "activations not quantized, "
                                         + ("F16-table GELU" if args.gelu_f16 else "exact GELU-tanh")},
                   "logits": [[sig(float(x)) for x in row] for row in flt]}
            dump_json(out, TINY / f"{name}.float-logits.json")
    if not args.no_write:
        dump_json(noise, TINY / "activation-quant-noise.json")
        print(f"wrote {len(noise)} float-logits files and activation-quant-noise.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
