#!/usr/bin/env python3
"""Writes GGUF reader fixtures with the independent `gguf` Python package.

- Tests/GGUFTests/Fixtures/all-types.gguf: one metadata key of every value type (nested arrays too),
  a custom alignment and three small tensors; all-types.expected.json: what gguf-py reads back.
- Tests/GGUFTests/Fixtures/<model>.directory.json: gguf-py's reading of a real model's header
  (version, metadata scalars, tensor names/types/shapes/offsets), when the model is in the cache.

Usage: python scripts/gen_gguf_fixtures.py   (needs: pip install gguf numpy)
"""
import json, os, sys
import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "GGUFTests", "Fixtures")
CACHE = os.environ.get("PAGEWISE_CACHE", os.path.expanduser("~/.cache/pagewise"))


def write_all_types():
    path = os.path.join(OUT, "all-types.gguf")
    w = gguf.GGUFWriter(path, arch="testarch")
    w.add_custom_alignment(64)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 3.25)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo ✓ 世界")
    w.add_uint64("t.u64", 18000000000000000000)
    w.add_int64("t.i64", -9000000000000000000)
    w.add_float64("t.f64", -1.0e-300)
    w.add_array("t.arr_i32", [1, -2, 3])
    w.add_array("t.arr_str", ["a", "", "ü"])
    w.add_array("t.arr_f32", [0.5, -1.5])
    w.add_array("t.nested", [[1, 2], [3], [4, 5, 6]])
    rng = np.random.default_rng(1)
    w.add_tensor("a", rng.standard_normal((3, 5)).astype(np.float32))
    w.add_tensor("b", rng.standard_normal((7,)).astype(np.float16))
    w.add_tensor("c", rng.standard_normal((2, 2, 4)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def write_unknown_arch():
    """A well-formed GGUF whose architecture Pagewise does not support (for error-path tests)."""
    out = os.path.join(HERE, "..", "Tests", "PagewiseTests", "Fixtures")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "unknown-arch.gguf")
    w = gguf.GGUFWriter(path, arch="mamba")
    w.add_block_count(1)
    w.add_embedding_length(32)
    w.add_tensor("token_embd.weight", np.zeros((16, 32), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def field_value(f):
    t = f.types[0]
    if t == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    if t == gguf.GGUFValueType.ARRAY:
        return f.contents()
    return f.parts[f.data[0]].tolist()[0]


def describe(path, scalars_only):
    r = gguf.GGUFReader(path)
    meta = {}
    types = {}
    for name, f in r.fields.items():
        if name.startswith("GGUF."):
            continue
        types[name] = int(f.types[0])
        if f.types[0] == gguf.GGUFValueType.ARRAY:
            v = f.contents()
            if scalars_only:
                meta[name] = {"array_len": len(v), "first": v[:3]}
                continue
            meta[name] = v
        else:
            meta[name] = field_value(f)
    tensors = [
        {"name": t.name, "type": int(t.tensor_type), "dims": [int(d) for d in t.shape],
         "offset": int(t.data_offset - r.data_offset), "bytes": int(t.n_bytes)}
        for t in r.tensors
    ]
    version = int(r.fields["GGUF.version"].parts[-1][0])
    return {"version": version, "metadata": meta, "value_types": types, "tensors": tensors,
            "data_offset": int(r.data_offset)}


def main():
    os.makedirs(OUT, exist_ok=True)
    write_unknown_arch()
    p = write_all_types()
    with open(os.path.join(OUT, "all-types.expected.json"), "w") as f:
        json.dump(describe(p, False), f, indent=1, ensure_ascii=False)
    for name in ["smollm2-135m-instruct", "gemma3-270m"]:
        mp = os.path.join(CACHE, "models", name + ".gguf")
        if not os.path.exists(mp):
            print("skipping", mp, file=sys.stderr)
            continue
        with open(os.path.join(OUT, name + ".directory.json"), "w") as f:
            json.dump(describe(mp, True), f, ensure_ascii=False)


if __name__ == "__main__":
    main()
