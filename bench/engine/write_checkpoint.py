#!/usr/bin/env python3
"""Writes a checkpoint of a bench shape as transformers lays it out (config.json, bf16 shards of
about 4 GB and model.safetensors.index.json), for timing a load: its weights are zeros, which
load exactly as fast as trained ones. Used on the GPU machine to measure how fast `proofmesh
generate --backend cuda` loads the Llama-3-8B shape from the page cache, and at what peak host
memory (docs/PERFORMANCE.md).
Usage: bench/engine/write_checkpoint.py llama-3-8b DIR"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig

SHAPES = {
    "llama-3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                       max_position_embeddings=8192, rope_theta=500000.0, rms_norm_eps=1e-5,
                       tie_word_embeddings=False),
}


def tensors(c):
    h, kv = c.hidden_size, c.num_key_value_heads * (c.hidden_size // c.num_attention_heads)
    yield "model.embed_tokens.weight", (c.vocab_size, h)
    for i in range(c.num_hidden_layers):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,)
        yield p + "self_attn.q_proj.weight", (h, h)
        yield p + "self_attn.k_proj.weight", (kv, h)
        yield p + "self_attn.v_proj.weight", (kv, h)
        yield p + "self_attn.o_proj.weight", (h, h)
        yield p + "post_attention_layernorm.weight", (h,)
        yield p + "mlp.gate_proj.weight", (c.intermediate_size, h)
        yield p + "mlp.up_proj.weight", (c.intermediate_size, h)
        yield p + "mlp.down_proj.weight", (h, c.intermediate_size)
    yield "model.norm.weight", (h,)
    yield "lm_head.weight", (c.vocab_size, h)


def main():
    shape, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    c = LlamaConfig(**SHAPES[shape])
    c.torch_dtype = "bfloat16"
    c.save_pretrained(out)
    shard, size, shards, weight_map = {}, 0, [], {}

    def flush():
        nonlocal shard, size
        name = f"model-{len(shards) + 1:05d}.safetensors"
        save_file(shard, os.path.join(out, name), metadata={"format": "pt"})
        shards.append(name)
        for k in shard:
            weight_map[k] = name
        shard, size = {}, 0

    for name, dims in tensors(c):
        shard[name] = torch.zeros(dims, dtype=torch.bfloat16)
        size += shard[name].numel() * 2
        if size >= 4 << 30:
            flush()
    if shard:
        flush()
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    print(f"wrote {shape}: {len(weight_map)} tensors in {len(shards)} shards to {out}")


if __name__ == "__main__":
    main()
