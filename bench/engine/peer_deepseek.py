#!/usr/bin/env python3
"""The peer for bench/engine's DeepSeek-V3.2 cases: transformers' DeepseekV32ForCausalLM on the
same weights, bf16, one H200. It first writes the model's FP8 checkpoint for our bench
(tests/golden/deepseek_real_width.py's write_checkpoint: real widths, four layers, the real
index_topk of 2048) and keeps exactly the dequantised weights in bf16 for itself.
Cases it can run: prefill of an 8,192-token prompt (sdpa), and decode at bs 1 with a 4,096-token
context (dynamic cache, greedy). Cases it cannot: transformers' V3.2 caches expanded per-head
keys and values (128 heads x (192 + 128) x 2 bytes = 80 KB per token and layer, 70x our latent
rows), so the other decode cases do not fit beside the weights; it prints the bytes they would
need instead of a figure.
Usage: peer_deepseek.py OUT_DIR   (writes OUT_DIR/deepseek_v32; JSON lines on stdout)
"""
import json
import pathlib
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden"))
from deepseek_real_width import write_checkpoint  # noqa: E402


def emit(**row):
    print(json.dumps({"engine": "transformers", "model": "deepseek-v3.2-4l", **row}), flush=True)


def timed(fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def main():
    out = pathlib.Path(sys.argv[1]) / "deepseek_v32"
    model = write_checkpoint(out, dtype=torch.bfloat16, index_topk=2048, attn="sdpa")
    torch.cuda.empty_cache()
    gen = torch.Generator(device="cuda").manual_seed(0)
    with torch.no_grad():
        warm = torch.randint(0, 128000, (1, 512), device="cuda", generator=gen)
        model(warm, use_cache=False)
        ids = torch.randint(0, 128000, (1, 8192), device="cuda", generator=gen)
        try:
            sec, _ = timed(lambda: model(ids, use_cache=False, logits_to_keep=1))
            emit(case="prefill", bs=1, context=8192, seconds=round(sec, 4),
                 tok_s=round(8192 / sec, 1), peer="transformers sdpa")
        except torch.OutOfMemoryError as e:
            emit(case="prefill", bs=1, context=8192, error=f"out of memory: {e}"[:200])
        torch.cuda.empty_cache()
        ctx = torch.randint(0, 128000, (1, 4096), device="cuda", generator=gen)
        try:
            o = model(ctx, use_cache=True, logits_to_keep=1)
            past, nxt = o.past_key_values, o.logits[:, -1:].argmax(-1)
            o = model(nxt, past_key_values=past, use_cache=True)  # warm-up
            past, nxt = o.past_key_values, o.logits[:, -1:].argmax(-1)
            steps = 8

            def loop():
                nonlocal past, nxt
                for _ in range(steps):
                    o = model(nxt, past_key_values=past, use_cache=True)
                    past, nxt = o.past_key_values, o.logits[:, -1:].argmax(-1)

            sec, _ = timed(loop)
            emit(case="decode", bs=1, context=4096, seconds=round(sec, 4),
                 tok_s=round(steps / sec, 1), peer="transformers dynamic cache")
        except torch.OutOfMemoryError as e:
            emit(case="decode", bs=1, context=4096, error=f"out of memory: {e}"[:200])
    free = torch.cuda.mem_get_info()[0]
    per_token = 4 * 128 * (192 + 128) * 2
    for context in (4096, 32768):
        for bs in (1, 64, 256):
            if (context, bs) == (4096, 1):
                continue
            need = per_token * context * bs
            why = (f"does not fit: its expanded KV cache needs {need / 1e9:.0f} GB, "
                   f"{free / 1e9:.0f} GB free beside the weights" if need > free else
                   f"not run, to save device time (its KV cache would fit: {need / 1e9:.0f} GB)")
            emit(case="decode", bs=bs, context=context, error=why)


if __name__ == "__main__":
    main()
