#!/usr/bin/env python3
"""Splits a tiny GGUF into shards with the `gguf` package's own writer (the split format
llama.cpp's gguf-split and convert_hf_to_gguf --split-max-tensors write), as an independent
reference for Pagewise's split-GGUF merge.

    pip install --target /tmp/gguflib gguf==0.19.0 numpy
    PYTHONPATH=/tmp/gguflib python3 scripts/gen_split_fixture.py \
        Tests/ModelsTests/Fixtures/tiny/llama-q8_0.gguf Tests/PagewiseTests/Fixtures/split/tiny-Q8_0.gguf 3
writes tiny-Q8_0-00001-of-00003.gguf ... next to the given stem.
"""
import sys
from pathlib import Path

import gguf


def main(src: str, dst: str, shards: int) -> None:
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    per_shard = -(-len(reader.tensors) // shards)
    writer = gguf.GGUFWriter(dst, arch, split_max_tensors=per_shard)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub)
    for t in reader.tensors:
        writer.add_tensor(t.name, t.data, raw_shape=list(reversed(t.shape.tolist())) if t.tensor_type in
                          (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16) else t.data.shape,
                          raw_dtype=t.tensor_type)
    writer.write_header_to_file(Path(dst))
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
