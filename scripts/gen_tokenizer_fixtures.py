#!/usr/bin/env python3
"""Generate tokenizer goldens for Tests/TokenizationTests from llama.cpp (llama-cpp-python).

Run:  /work/tools/venv/bin/python scripts/gen_tokenizer_fixtures.py
Needs the real models under $PAGEWISE_CACHE/models (default ~/.cache/pagewise/models).

Every expected value comes from llama.cpp (via llama_cpp.Llama(..., vocab_only=True) and the
low-level llama_detokenize / llama_token_to_piece / llama_vocab_* functions), never from Pagewise.
Writes Tests/TokenizationTests/Fixtures/tokenizer-goldens.json.
"""
from __future__ import annotations

import ctypes
import json
import os
import random
import sys
import tempfile
from pathlib import Path

import llama_cpp
from llama_cpp import Llama

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "TokenizationTests" / "Fixtures" / "tokenizer-goldens.json"
CACHE = Path(os.environ.get("PAGEWISE_CACHE", Path.home() / ".cache" / "pagewise"))

MODELS = ["smollm2-135m-instruct", "gemma3-270m"]


def corpus() -> list[str]:
    c: list[str] = [
        "",
        " ",
        "  ",
        "   ",
        "\t",
        "\n",
        "\n\n",
        "\n\n\n\n",
        " \n",
        "\n ",
        "\r\n",
        "a\r\nb\r\n\r\nc",
        "Hello",
        "Hello world",
        " Hello world",
        "Hello world ",
        "Hello  world",
        "Hello   world   ",
        "Hello, world!",
        "hello world. How are you? I'm fine, thanks!",
        "The quick brown fox jumps over the lazy dog.",
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
        "I'm, you're, he's, she'd, we'll, they've, can't, won't, don't.",
        "I'M YOU'RE HE'S SHE'D WE'LL THEY'VE CAN'T",
        "'s 't 're 've 'm 'll 'd",
        "' s ' t '  re",
        "rock'n'roll 'quoted' \"double quoted\"",
        "It’s a curly apostrophe — and an em dash – en dash…",
        "1",
        "12",
        "123",
        "1234",
        "12345",
        "123456",
        "1234567",
        "12345678901234567890",
        "3.14159 2.71828 1e-10 -42 +7",
        "Call 555-1234 or (800) 123-4567 now",
        "Version 1.2.3-beta4 released on 2024-01-15T12:34:56Z",
        "a1b2c3 x86_64 utf8 v2",
        " 1 22 333 4444 55555",
        "$100.00, €50, £30, ¥1000, ₹500",
        "100%",
        "٠١٢٣٤٥٦٧٨٩ Arabic-Indic digits",
        "①②③ Ⅻ ½ ¾ ² ³",
        "१२३ देवनागरी अंक",
        "café naïve résumé façade coöperate",
        "cafe\u0301 nai\u0308ve",  # combining marks
        "Zoë Brontë Ångström Øresund",
        "Straße groß ß ẞ",
        "İstanbul ıi Iİ",
        "Ελληνικά: Καλημέρα κόσμε",
        "Русский текст: Привет, мир!",
        "Українська: Привіт, світе!",
        "עברית: שלום עולם",
        "العربية: مرحبا بالعالم",
        "हिन्दी: नमस्ते दुनिया",
        "ภาษาไทย: สวัสดีชาวโลก",
        "Tiếng Việt: Xin chào thế giới",
        "中文：你好，世界！",
        "日本語：こんにちは世界。カタカナ、ひらがな、漢字。",
        "한국어: 안녕하세요 세계",
        "混合mixed中英文text123数字",
        "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ　１２３",
        "ideographic\u3000space",
        "no\u00a0break\u00a0space",
        "thin\u2009space and\u200bzero width",
        "line\u2028separator\u2029para",
        "next\u0085line",
        "emoji 😀😃😄",
        "👍🏽 thumbs up with skin tone",
        "👨‍👩‍👧‍👦 family ZWJ",
        "🏳️‍🌈 flag ZWJ",
        "🇺🇸🇬🇧🇯🇵 flags",
        "❤️ heart with VS16",
        "🤷‍♀️ shrug",
        "😀",
        "a😀b",
        " 😀 ",
        "∑∫∂√∞≠≤≥ math",
        "→ ← ↑ ↓ ⇒ arrows",
        "©®™ symbols",
        "<html><body><p class=\"x\">Hi</p></body></html>",
        "<table><tr><td>cell</td></tr></table>",
        "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
        "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
        "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
        "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}",
        "func greet(_ name: String) -> String {\n    return \"Hello, \\(name)!\"\n}",
        "const add = (a, b) => a + b; // arrow fn\nconsole.log(add(1, 2));",
        "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}",
        "public static void main(String[] args) { System.out.println(\"Hello\"); }",
        "if x == 1 && y != 2 || !z { return }",
        "a += 1; b -= 2; c *= 3; d /= 4; e %= 5; f **= 6; g //= 7",
        "x<<=2 y>>=3 z>>>=1 a&&b a||b a::b a->b a=>b",
        "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
        "key: value\nlist:\n  - one\n  - two\n",
        "# Heading\n\n* bullet\n* **bold** and _italic_\n\n```python\nprint(1)\n```\n",
        "https://example.com/path?query=1&other=two#frag",
        "user@example.com, admin+tag@mail.co.uk",
        "C:\\Windows\\System32\\drivers\\etc\\hosts",
        "/usr/local/bin/python3 --version",
        "    indented with four spaces",
        "\tindented with a tab",
        "\t\ttwo tabs\t\tinside",
        "trailing spaces    ",
        "   leading spaces",
        "mixed \t \n \t\n whitespace",
        "a  b   c    d     e      f       g",
        "a\n\nb\n\n\nc\n\n\n\nd",
        "line one\nline two\nline three",
        "word\n",
        "\nword",
        "...!!!???,,,;;;:::",
        "--- === *** ___ ~~~ ^^^",
        "(parens) [brackets] {braces} <angles>",
        "\"quotes\" 'single' `backticks`",
        "#hashtag @mention $dollar %percent &amp",
        "a-b_c.d,e;f:g!h?i",
        "ALLCAPS lowercase MixedCase camelCase snake_case kebab-case",
        "supercalifragilisticexpialidocious",
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        "antidisestablishmentarianism " * 3,
        "a" * 300,
        "ab" * 200,
        "x" * 1000,
        " " * 50,
        "\n" * 40,
        "9" * 64,
        "🙂" * 20,
        "中" * 100,
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
        "<|im_start|>user\nhi<|im_end|>",
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>assistant\nThe answer is 4.<|im_end|>",
        "<|endoftext|>",
        "text<|endoftext|>more text",
        "<|im_end|><|im_end|>",
        "<|im_start|>",
        "< |im_start| >",
        "<|im_start",
        "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n",
        "<start_of_turn>",
        "<end_of_turn>",
        "<bos>Hello<eos>",
        "<pad><unk><mask>",
        "<unused0> <unused99>",
        "[multimodal]",
        "<repo_name>pagewise<file_sep>main.swift",
        "<jupyter_code>print(1)<jupyter_output>1",
        "<s>Hello</s>",
        "[INST] Hello [/INST]",
        "<|eot_id|><|start_header_id|>user<|end_header_id|>",
        "Multiple\n\n\nnewlines and    spaces",
        "Tab\tseparated\tvalues\t1\t2\t3",
        "CSV,line,1,2,3\nnext,line,4,5,6",
        "A sentence with a number 42 in it.",
        "The year 1999 and the year 2024.",
        "Price: 1,234,567.89 USD",
        "phone: +1 (555) 010-9999",
        "3rd 21st 42nd 100th",
        "0x1F 0b1010 0o777 1_000_000",
        "¿Qué tal? ¡Muy bien!",
        "Ça va? Oui, très bien.",
        "«guillemets» „German quotes“ 「Japanese quotes」",
        "Numbers: ０１２３ (fullwidth)",
        "Emoji in text: I love 🍕 and 🍣!",
        "Keycap: 1️⃣ 2️⃣ #️⃣",
        "Mathematical 𝐀𝐁𝐂 𝑥𝑦𝑧 bold italic",
        "Old Italic 𐌀𐌁𐌂 and Gothic 𐌰𐌱",
        "a\u0000b",
        "control\u0001\u0002\u0007chars",
        "\u00ad soft hyphen",
        "Zalgo: Z̴̡̪̫̖̥͓̮a̸͔̤l̵̰͉g̷̯̤o̶̢",
        "ﬁ ﬂ ligatures",
        "Ⅰ Ⅱ Ⅲ Roman numerals",
        "x²+y²=z²",
        "H₂O CO₂",
        " ' ",
        " 's",
        "don 't",
        "it 's ok",
        "hello .",
        "hello , world",
        "what ?",
        "wow !",
        "a ' b",
    ]
    # deterministic pseudo-random mixes of tricky characters
    rng = random.Random(1234)
    pool = list("aAzZ09 \t\n\r'.,!?-_()[]{}<>|\\/\"@#$%^&*+=~`") + [
        "é", "ß", "ñ", "ü", "\u0301", "\u0308", "中", "文", "字", "あ", "ア", "한", "ا", "ש", "Ж", "Ω",
        "😀", "👍", "🏽", "\u200d", "\ufe0f", "♀", "🇺", "🇸", "\u00a0", "\u3000", "\u2028", "½", "²", "٣",
        "१", "€", "™", "→", "…", "“", "”", "’", "–", "—",
    ]
    for n in range(70):
        length = rng.randint(1, 40)
        c.append("".join(rng.choice(pool) for _ in range(length)))
    words = ["the", "The", " a", "cat", "CAT", "'s", "'ll", "123", "4567", " ", "  ", "\n", "\t", "!", "?!",
             "naïve", "東京", "🚀", "x", "_", "-", "<|im_start|>", "<end_of_turn>", "\n\n", "don't", "I'M"]
    for n in range(40):
        c.append("".join(rng.choice(words) for _ in range(rng.randint(1, 25))))
    return c


def no_special_subset(c: list[str]) -> list[str]:
    picks = [s for s in c if "<" in s or "[" in s]
    picks += c[:40]
    seen, out = set(), []
    for s in picks:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def detok(vocab, ids: list[int], remove_special: bool, unparse_special: bool) -> bytes:
    n = len(ids)
    arr = (llama_cpp.llama_token * max(n, 1))(*ids)
    size = 64 + 32 * n
    while True:
        buf = ctypes.create_string_buffer(size)
        r = llama_cpp.llama_detokenize(vocab, arr, n, buf, size, remove_special, unparse_special)
        if r < 0:
            size = -r + 16
            continue
        return buf.raw[:r]


def piece(vocab, tid: int, special: bool) -> bytes:
    buf = ctypes.create_string_buffer(1024)
    r = llama_cpp.llama_token_to_piece(vocab, tid, buf, 1024, 0, special)
    assert r >= 0
    return buf.raw[:r]


def model_goldens(path: Path, c: list[str]) -> dict:
    llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    model = llm.model
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)

    def tok(s: str, special: bool) -> list[int]:
        return llm.tokenize(s.encode("utf-8"), add_bos=True, special=special)

    def tok_nospecial(s: str, special: bool) -> list[int]:
        return llm.tokenize(s.encode("utf-8"), add_bos=False, special=special)

    encode = [{"text": s, "ids": tok(s, True)} for s in c]
    encode_plain = [{"text": s, "ids": tok(s, False)} for s in no_special_subset(c)]
    encode_noadd = [{"text": s, "ids": tok_nospecial(s, True)} for s in c[:60]]

    rng = random.Random(99)
    detoks = []
    lists = [e["ids"] for e in encode[:: 3]]
    for _ in range(30):
        lists.append([rng.randrange(n_vocab) for _ in range(rng.randint(1, 12))])
    for ids in lists:
        detoks.append({
            "ids": ids,
            "keep_special": detok(vocab, ids, False, True).hex(),
            "skip_special": detok(vocab, ids, True, False).hex(),
        })

    piece_ids = sorted(set(list(range(min(n_vocab, 400))) + [rng.randrange(n_vocab) for _ in range(600)] + [n_vocab - 1]))
    pieces = [{"id": t, "special": piece(vocab, t, True).hex(), "plain": piece(vocab, t, False).hex()} for t in piece_ids]

    eog = [t for t in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, t)]
    return {
        "vocab_size": n_vocab,
        "bos": llama_cpp.llama_vocab_bos(vocab),
        "eos": llama_cpp.llama_vocab_eos(vocab),
        "eot": llama_cpp.llama_vocab_eot(vocab),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(vocab)),
        "eog": eog,
        "encode": encode,
        "encode_no_parse_special": encode_plain,
        "encode_no_add_special": encode_noadd,
        "detokenize": detoks,
        "pieces": pieces,
    }


def main() -> int:
    c = corpus()
    assert len(c) >= 200, len(c)
    out = {"generator": f"llama-cpp-python {llama_cpp.__version__}", "corpus_size": len(c), "models": {}}
    for name in MODELS:
        p = CACHE / "models" / f"{name}.gguf"
        if not p.exists():
            print(f"missing model {p}; skipping", file=sys.stderr)
            continue
        out["models"][name] = model_goldens(p, c)
        print(f"{name}: {len(out['models'][name]['encode'])} strings", file=sys.stderr)
    try:
        import tiny_bpe_goldens  # noqa: F401  (optional, see gen_tiny_bpe below)
    except ImportError:
        pass
    out["tiny_bpe"] = tiny_bpe(c)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, ensure_ascii=True, separators=(",", ":")))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)
    return 0


def tiny_bpe(c: list[str]) -> dict:
    """Placeholder, filled in below when the tiny byte-level BPE vocabularies are built."""
    return {}


if __name__ == "__main__":
    sys.exit(main())
