#!/usr/bin/env python3
"""The prompt jinja2 renders from SmolLM2's own chat template (read from the GGUF with the `gguf`
package) for a three-turn conversation, as the reference for ChatPromptTemplate.

    PYTHONPATH=/tmp/gguflib python3 scripts/gen_chat_prompt_fixture.py \
        ~/.cache/pagewise/models/smollm2-135m-instruct.gguf Tests/PagewiseTests/Fixtures/chat-smollm2.json
"""
import json
import sys

import gguf
import jinja2

reader = gguf.GGUFReader(sys.argv[1])
source = reader.fields["tokenizer.chat_template"].contents()
tokens = reader.fields["tokenizer.ggml.tokens"].contents()
bos = tokens[reader.fields["tokenizer.ggml.bos_token_id"].contents()]
eos = tokens[reader.fields["tokenizer.ggml.eos_token_id"].contents()]
messages = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name a colour."},
    {"role": "assistant", "content": "Blue."},
    {"role": "user", "content": "Another,\non two lines."},
]
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
prompt = env.from_string(source).render(messages=messages, add_generation_prompt=True, bos_token=bos, eos_token=eos)
no_system = env.from_string(source).render(messages=messages[1:2], add_generation_prompt=True, bos_token=bos, eos_token=eos)
json.dump({"messages": messages, "prompt": prompt, "first_user_only": no_system}, open(sys.argv[2], "w"), indent=1)
