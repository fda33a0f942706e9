#!/usr/bin/env python3
"""The peer for bench/engine: transformers on the same random-weight shapes, bf16, one H200.

Same protocol as engine_bench: a 128-token prompt per sequence, prefill untimed, then 128 decode
steps timed, sampling at temperature 1.0 / top-p 0.95 as engine_bench does (torch.multinomial
over the nucleus). Uses transformers' dynamic cache (the issue's peer for batches); bs=1 with static
cache + torch.compile is the stronger peer and is not measured yet.
"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM, LlamaConfig

SHAPES = {
    "llama-3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                         tie_word_embeddings=True),
    "llama-3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=8, head_dim=128),
}


def sample(logits, top_p=0.95):
    probs = torch.softmax(logits[:, -1].float(), dim=-1)
    sorted_p, idx = probs.sort(dim=-1, descending=True)
    keep = sorted_p.cumsum(-1) - sorted_p < top_p
    sorted_p = sorted_p * keep
    pick = torch.multinomial(sorted_p / sorted_p.sum(-1, keepdim=True), 1)
    return idx.gather(-1, pick)


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "llama-3.2-1b"
    cfg = LlamaConfig(vocab_size=128256, max_position_embeddings=8192, **SHAPES[name])
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
    for bs in [1, 64, 256]:
        ids = torch.randint(0, 128000, (bs, 128), device="cuda")
        with torch.no_grad():
            out = model(ids, use_cache=True)
            past = out.past_key_values
            nxt = sample(out.logits)
            for _ in range(4):  # warm-up
                out = model(nxt, past_key_values=past, use_cache=True)
                past, nxt = out.past_key_values, sample(out.logits)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            steps = 128
            for _ in range(steps):
                out = model(nxt, past_key_values=past, use_cache=True)
                past, nxt = out.past_key_values, sample(out.logits)
            nxt.cpu()
            sec = time.perf_counter() - t0
        print(json.dumps({"engine": "transformers", "model": name, "bs": bs,
                          "tok_s": round(bs * steps / sec, 1),
                          "tpot_ms": round(1e3 * sec / steps, 3)}), flush=True)
        del past, out
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
