#!/usr/bin/env python3
"""Write tiny random-weight GGUF models for Pagewise's model tests.

Output: Tests/ModelsTests/Fixtures/tiny/*.gguf (see scripts/README.md for the
list, the shapes and the metadata conventions).

Every file is written with the `gguf` package's GGUFWriter; quantized tensors
are produced by `gguf.quants.quantize` (gguf-py's own implementation of ggml's
reference quantizers). The weights come from numpy's PCG64 generator with a
fixed seed per model, so re-running the script reproduces the files byte for
byte with the same numpy / gguf versions.

Usage:  python scripts/make_tiny_models.py [--out DIR] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import LlamaFileType as FT
from gguf import TokenType as TT

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "ModelsTests" / "Fixtures" / "tiny"

# --------------------------------------------------------------------------------------
# Tokenizers. Tokens are fed to the models as ids, so these only have to be valid
# vocabularies that llama.cpp loads; they are still well-formed (every merge result is
# in the vocabulary, byte tokens are complete).
# --------------------------------------------------------------------------------------

# 41 common pieces, written with "Ġ" (BPE) and turned into "▁" (SentencePiece).
MERGES = [
    "Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t", "Ġ w",
    "Ġ o", "e n", "Ġ c", "i t", "i s", "a n", "o r", "e s", "Ġ b", "e d", "Ġ f",
    "in g", "Ġ p", "o u", "Ġa n", "a l", "a r", "Ġt o", "Ġ m", "Ġo f", "Ġ in", "Ġ d",
    "Ġ h", "Ġan d", "i c", "a s", "l e", "Ġt h", "i on", "o m",
]


def bytes_to_unicode() -> list[str]:
    """GPT-2's byte -> printable character table, indexed by byte value."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


@dataclass
class Vocab:
    model: str                       # tokenizer.ggml.model
    pre: str | None
    tokens: list[str]
    types: list[int]
    scores: list[float] | None = None
    merges: list[str] | None = None
    special: dict[str, int] = field(default_factory=dict)   # bos/eos/unk/pad -> id
    add_bos: bool = False
    add_space_prefix: bool | None = None
    chat_template: str | None = None

    def write(self, w: gguf.GGUFWriter) -> None:
        w.add_tokenizer_model(self.model)
        if self.pre is not None:
            w.add_tokenizer_pre(self.pre)
        w.add_token_list(self.tokens)
        if self.scores is not None:
            w.add_token_scores(self.scores)
        w.add_token_types(self.types)
        if self.merges is not None:
            w.add_token_merges(self.merges)
        setters = {"bos": w.add_bos_token_id, "eos": w.add_eos_token_id,
                   "unk": w.add_unk_token_id, "pad": w.add_pad_token_id}
        for k, v in self.special.items():
            setters[k](v)
        w.add_add_bos_token(self.add_bos)
        w.add_add_eos_token(False)
        if self.add_space_prefix is not None:
            w.add_add_space_prefix(self.add_space_prefix)
        if self.chat_template is not None:
            w.add_chat_template(self.chat_template)


def spm_vocab(specials: list[tuple[str, int]], n_vocab: int, special_ids: dict[str, int],
              add_bos: bool, add_space_prefix: bool) -> Vocab:
    """SentencePiece-style ("llama") vocabulary: specials, 256 byte tokens, then pieces."""
    tokens = [t for t, _ in specials]
    types = [ty for _, ty in specials]
    scores = [0.0] * len(specials)
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        types.append(TT.BYTE)
        scores.append(0.0)
    pieces = [m.replace(" ", "").replace("Ġ", "▁") for m in MERGES]
    letters = ["▁" + c for c in "abcdefghijklmnopqrstuvwxyz"] + list("abcdefghijklmnopqrstuvwxyz")
    for p in pieces + letters:
        if len(tokens) >= n_vocab:
            break
        if p in tokens:
            continue
        tokens.append(p)
        types.append(TT.NORMAL)
        scores.append(-float(len(tokens)))
    assert len(tokens) == n_vocab, (len(tokens), n_vocab)
    assert len(set(tokens)) == len(tokens)
    return Vocab("llama", "default", tokens, [int(t) for t in types], scores, None,
                 special_ids, add_bos, add_space_prefix)


def bpe_vocab(pre: str, specials: list[str], special_ids: dict[str, str], add_bos: bool,
              chat_template: str | None = None) -> Vocab:
    """Byte-level BPE ("gpt2") vocabulary: 256 byte characters, merge results, specials last."""
    tokens = bytes_to_unicode()
    types = [int(TT.NORMAL)] * 256
    for m in MERGES:
        a, b = m.split(" ")
        assert a in tokens and b in tokens, m
        tokens.append(a + b)
        types.append(int(TT.NORMAL))
    for s in specials:
        tokens.append(s)
        types.append(int(TT.CONTROL))
    assert len(set(tokens)) == len(tokens)
    ids = {k: tokens.index(v) for k, v in special_ids.items()}
    return Vocab("gpt2", pre, tokens, types, None, list(MERGES), ids, add_bos, None, chat_template)


CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

# --------------------------------------------------------------------------------------
# Model specifications
# --------------------------------------------------------------------------------------


@dataclass
class Spec:
    name: str                 # output file stem
    arch: str                 # general.architecture
    seed: int
    vocab: Vocab
    n_embd: int = 64
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: int | None = None      # None: n_embd / n_head, key_length/value_length not written
    n_layer: int = 2
    n_ff: int = 128
    rope_base: float = 10000.0
    rms_eps: float = 1e-5
    ctx: int = 256
    tied: bool = True
    qkv_bias: bool = False
    qk_norm: bool = False
    gemma: bool = False              # post-attention / post-ffw norms
    sliding_window: int | None = None
    rope_freqs: np.ndarray | None = None
    wtype: QT = QT.F32               # type of every 2-D weight matrix (token_embd included)
    description: str = ""

    @property
    def hd(self) -> int:
        return self.head_dim if self.head_dim is not None else self.n_embd // self.n_head


def llama3_rope_factors(head_dim: int, base: float, factor: float, low_freq_factor: float,
                        high_freq_factor: float, orig_ctx: int) -> np.ndarray:
    """Llama 3.1's frequency factors, computed as Meta's reference / HF's `llama3` rope type do."""
    freqs = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    low_wavelen = orig_ctx / low_freq_factor
    high_wavelen = orig_ctx / high_freq_factor
    out = []
    for f in freqs:
        wavelen = 2 * math.pi / f
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (orig_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def llama_spm(n_vocab: int = 300) -> Vocab:
    return spm_vocab([("<unk>", TT.UNKNOWN), ("<s>", TT.CONTROL), ("</s>", TT.CONTROL)], n_vocab,
                     {"bos": 1, "eos": 2, "unk": 0}, add_bos=True, add_space_prefix=True)


def gemma_spm(n_vocab: int = 320) -> Vocab:
    return spm_vocab([("<pad>", TT.CONTROL), ("<eos>", TT.CONTROL), ("<bos>", TT.CONTROL), ("<unk>", TT.UNKNOWN),
                      ("<start_of_turn>", TT.CONTROL), ("<end_of_turn>", TT.CONTROL)], n_vocab,
                     {"bos": 2, "eos": 1, "unk": 3, "pad": 0}, add_bos=True, add_space_prefix=False)


def qwen_bpe() -> Vocab:
    return bpe_vocab("qwen2", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                     {"bos": "<|endoftext|>", "eos": "<|im_end|>", "pad": "<|endoftext|>"}, add_bos=False,
                     chat_template=CHATML)


def llama3_bpe() -> Vocab:
    return bpe_vocab("llama-bpe", ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"],
                     {"bos": "<|begin_of_text|>", "eos": "<|end_of_text|>"}, add_bos=True)


def specs() -> list[Spec]:
    out: list[Spec] = [
        Spec("llama-f32", "llama", 1001, llama_spm(), tied=False,
             description="llama, F32, GQA 4/2 heads, head dim 16, untied output"),
    ]
    for qt, tag in [(QT.Q8_0, "q8_0"), (QT.Q4_0, "q4_0"), (QT.Q4_1, "q4_1"), (QT.Q5_0, "q5_0")]:
        out.append(Spec(f"llama-{tag}", "llama", 1002, llama_spm(), wtype=qt, tied=True,
                        description=f"llama, every matrix {tag.upper()} (token_embd too), tied output; same F32 weights in every llama-q* file"))
    out += [
        Spec("llama3-ropefreqs", "llama", 1010, llama3_bpe(), rope_base=500000.0, tied=True,
             rope_freqs=llama3_rope_factors(16, 500000.0, 8.0, 1.0, 4.0, 64),
             description="llama with rope_freqs.weight (Llama 3.1 factors, original context 64), base 5e5"),
        Spec("qwen2", "qwen2", 1020, qwen_bpe(), rope_base=1000000.0, rms_eps=1e-6, tied=True, qkv_bias=True,
             description="qwen2: q/k/v biases, NeoX rope, tied output"),
        Spec("qwen3", "qwen3", 1030, qwen_bpe(), head_dim=32, rope_base=1000000.0, rms_eps=1e-6, tied=True,
             qk_norm=True,
             description="qwen3: per-head q/k RMS norms, head dim 32 != n_embd/n_head (16), NeoX rope"),
    ]
    gemma = dict(n_embd=32, n_head=4, n_head_kv=1, head_dim=16, n_layer=6, n_ff=64, rope_base=1000000.0,
                 rms_eps=1e-6, tied=True, qk_norm=True, gemma=True, sliding_window=8)
    out += [
        Spec("gemma3", "gemma3", 1040, gemma_spm(), **gemma,
             description="gemma3: 6 blocks (0-4 sliding window 8, 5 global), head dim 16 != 32/4, GeGLU"),
        Spec("gemma3-q8_0", "gemma3", 1040, gemma_spm(), wtype=QT.Q8_0, **gemma,
             description="gemma3 with every matrix Q8_0 (same F32 weights as gemma3.gguf before quantizing)"),
    ]
    return out


FILE_TYPE = {QT.F32: FT.ALL_F32, QT.Q8_0: FT.MOSTLY_Q8_0, QT.Q4_0: FT.MOSTLY_Q4_0,
             QT.Q4_1: FT.MOSTLY_Q4_1, QT.Q5_0: FT.MOSTLY_Q5_0}

# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def build(spec: Spec, out_dir: Path) -> Path:
    rng = np.random.default_rng(spec.seed)
    n_vocab = len(spec.vocab.tokens)
    E, H, KV, D, F = spec.n_embd, spec.n_head, spec.n_head_kv, spec.hd, spec.n_ff

    def mat(rows: int, cols: int, gain: float = 1.0) -> np.ndarray:
        # numpy shape (rows, cols) == ggml ne = [cols, rows]: `cols` is the input dimension.
        return (rng.standard_normal((rows, cols)) * (gain / math.sqrt(cols))).astype(np.float32)

    def norm(n: int, center: float = 1.0, spread: float = 0.2) -> np.ndarray:
        return (center + spread * rng.standard_normal(n)).astype(np.float32)

    def vec(n: int, scale: float) -> np.ndarray:
        return (scale * rng.standard_normal(n)).astype(np.float32)

    tensors: list[tuple[str, np.ndarray, bool]] = []   # (name, data, is_matrix)
    emb_scale = 1.0 / math.sqrt(E) if spec.gemma else 0.5    # gemma multiplies by sqrt(n_embd)
    tensors.append(("token_embd.weight",
                    (rng.standard_normal((n_vocab, E)) * emb_scale).astype(np.float32), True))
    for il in range(spec.n_layer):
        p = f"blk.{il}."
        tensors.append((p + "attn_norm.weight", norm(E), False))
        tensors.append((p + "attn_q.weight", mat(H * D, E, 2.0), True))
        tensors.append((p + "attn_k.weight", mat(KV * D, E, 2.0), True))
        tensors.append((p + "attn_v.weight", mat(KV * D, E), True))
        if spec.qkv_bias:
            tensors.append((p + "attn_q.bias", vec(H * D, 0.5), False))
            tensors.append((p + "attn_k.bias", vec(KV * D, 0.5), False))
            tensors.append((p + "attn_v.bias", vec(KV * D, 0.5), False))
        if spec.qk_norm:
            tensors.append((p + "attn_q_norm.weight", norm(D), False))
            tensors.append((p + "attn_k_norm.weight", norm(D), False))
        tensors.append((p + "attn_output.weight", mat(E, H * D), True))
        if spec.gemma:
            tensors.append((p + "post_attention_norm.weight", norm(E), False))
        tensors.append((p + "ffn_norm.weight", norm(E), False))
        tensors.append((p + "ffn_gate.weight", mat(F, E, 1.5), True))
        tensors.append((p + "ffn_up.weight", mat(F, E), True))
        tensors.append((p + "ffn_down.weight", mat(E, F), True))
        if spec.gemma:
            tensors.append((p + "post_ffw_norm.weight", norm(E), False))
    # Gemma's logits come from a tied, 1/sqrt(n_embd)-scaled embedding: a larger final norm
    # gives them a useful spread.
    tensors.append(("output_norm.weight", norm(E, 3.0, 0.5) if spec.gemma else norm(E), False))
    if not spec.tied:
        tensors.append(("output.weight", mat(n_vocab, E, 3.0), True))
    if spec.rope_freqs is not None:
        tensors.append(("rope_freqs.weight", spec.rope_freqs.astype(np.float32), False))

    path = out_dir / f"{spec.name}.gguf"
    w = gguf.GGUFWriter(path, spec.arch)
    a = spec.arch
    w.add_name(f"pagewise-tiny-{spec.name}")
    w.add_description(f"Random weights (seed {spec.seed}), for tests only. {spec.description}")
    w.add_context_length(spec.ctx)
    w.add_embedding_length(E)
    w.add_block_count(spec.n_layer)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    if spec.head_dim is not None:
        w.add_key_length(D)
        w.add_value_length(D)
    w.add_layer_norm_rms_eps(spec.rms_eps)
    w.add_rope_freq_base(spec.rope_base)
    if a == "llama":
        w.add_rope_dimension_count(D)
        w.add_vocab_size(n_vocab)
    if spec.sliding_window is not None:
        # No sliding_window_pattern and no rope.freq_base_swa: like the real Gemma 3 files,
        # llama.cpp's defaults apply (pattern 6, sliding-layer rope base 10000).
        w.add_sliding_window(spec.sliding_window)
    w.add_file_type(int(FILE_TYPE[spec.wtype]))
    if spec.wtype != QT.F32:
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    spec.vocab.write(w)

    for name, data, is_matrix in tensors:
        if is_matrix and spec.wtype != QT.F32:
            q = gguf.quants.quantize(data, spec.wtype)
            w.add_tensor(name, q, raw_dtype=spec.wtype)
        else:
            w.add_tensor(name, data)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", default=None, help="model names to build (default: all)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in specs():
        if args.only and spec.name not in args.only:
            continue
        path = build(spec, args.out)
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
