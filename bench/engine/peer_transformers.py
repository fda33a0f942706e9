#!/usr/bin/env python3
"""The peer for bench/engine: transformers on the same random-weight shapes, bf16, one H200.

Cases, matching engine_bench's JSON keys (model, case, bs):
  decode bs=1     static cache + torch.compile (transformers' generate with
                  cache_implementation="static", which compiles the decode step): decode time
                  per token is the difference of two runs (288 and 160 new tokens) over 128 steps,
                  so prefill and compilation drop out.
  decode bs=64/256  dynamic cache, a manual loop: 128-token prompts prefilled untimed, then 128
                  steps timed, sampling at temperature 1.0 / top-p 0.95 as engine_bench does.
  offline         generate() with the dynamic cache, 256 x 128 in; 256 out, not 2,048 (a full run
                  would take most of the device budget). Shorter contexts favour the peer.
  fanout          64 samples of one 4,096-token prompt: transformers has no prefix sharing, so
                  prefill of a [64, 4096] batch (in chunks of 16) against one [1, 4096] prefill.
  decode_long     bs 16 over 32,768-token contexts: a static cache prefilled in chunks of 2,048
                  (generate()'s one-call prefill needs a 32 GiB mask), then 64 eager decode steps
                  timed.
A case that fails prints an "transformers-error" line; bs=1 then falls back to the dynamic cache.
Usage: peer_transformers.py MODEL [CASE...]   (default: every case)
"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM, LlamaConfig

SHAPES = {
    "llama-3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                         tie_word_embeddings=True,
                         rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=32.0,
                                              low_freq_factor=1.0, high_freq_factor=4.0,
                                              original_max_position_embeddings=8192)),
    "llama-3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                       rope_parameters=dict(rope_type="default", rope_theta=500000.0)),
}


def emit(**row):
    print(json.dumps({"engine": "transformers", **row}), flush=True)


def sample(logits, top_p=0.95):
    probs = torch.softmax(logits[:, -1].float(), dim=-1)
    sorted_p, idx = probs.sort(dim=-1, descending=True)
    keep = sorted_p.cumsum(-1) - sorted_p < top_p
    sorted_p = sorted_p * keep
    pick = torch.multinomial(sorted_p / sorted_p.sum(-1, keepdim=True), 1)
    return idx.gather(-1, pick)


def timed(fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def decode_dynamic(model, name, bs, steps=128):
    ids = torch.randint(0, 128000, (bs, 128), device="cuda")
    with torch.no_grad():
        out = model(ids, use_cache=True)
        past, nxt = out.past_key_values, sample(out.logits)
        for _ in range(4):  # warm-up
            out = model(nxt, past_key_values=past, use_cache=True)
            past, nxt = out.past_key_values, sample(out.logits)

        def loop():
            nonlocal past, nxt
            for _ in range(steps):
                out = model(nxt, past_key_values=past, use_cache=True)
                past, nxt = out.past_key_values, sample(out.logits)
        sec, _ = timed(loop)
    emit(model=name, case="decode", bs=bs, tok_s=round(bs * steps / sec, 1),
         tpot_ms=round(1e3 * sec / steps, 3), peer="transformers dynamic cache")


def static_step_seconds(model, ids, short, long, warm_long=False):
    """Seconds per decode step of generate() with the static cache (torch.compile): the
    difference of a run of `long` and one of `short` new tokens, so prefill and compilation drop
    out. The first run compiles; warm_long runs the long one untimed too."""
    args = dict(do_sample=True, temperature=1.0, top_p=0.95, top_k=0,
                cache_implementation="static", pad_token_id=0)

    def run(n):
        return model.generate(ids, max_new_tokens=n, min_new_tokens=n, **args)
    with torch.no_grad():
        run(short)  # compiles the decode step
        if warm_long:
            run(long)
        long_s, _ = timed(lambda: run(long))
        short_s, _ = timed(lambda: run(short))
    return (long_s - short_s) / (long - short)


def decode_static_compiled(model, name):
    ids = torch.randint(0, 128000, (1, 128), device="cuda")
    per_token = static_step_seconds(model, ids, 160, 288, warm_long=True)
    emit(model=name, case="decode", bs=1, tok_s=round(1 / per_token, 1),
         tpot_ms=round(1e3 * per_token, 3), peer="transformers static cache + torch.compile")


def decode_long(model, name, bs=16, ctx=32768, chunk=2048, steps=64):
    # generate() prefills the whole [16, 32768] batch in one call, whose causal mask alone is
    # 32 GiB: the prefill runs here in chunks into a static cache, then decode steps are timed
    # (eager: at 68 GB of KV a step the GPU, not Python, sets the pace).
    from transformers import StaticCache
    length = ctx + steps + 8
    try:
        cache = StaticCache(config=model.config, max_cache_len=length)
    except TypeError:  # before v5: sized and placed up front
        cache = StaticCache(config=model.config, max_batch_size=bs, max_cache_len=length,
                            device="cuda", dtype=torch.bfloat16)
    ids = torch.randint(0, 128000, (bs, ctx), device="cuda")
    with torch.no_grad():
        for a in range(0, ctx, chunk):
            out = model(ids[:, a:a + chunk], past_key_values=cache, use_cache=True,
                        cache_position=torch.arange(a, a + chunk, device="cuda"),
                        logits_to_keep=1)
        token = out.logits[:, -1:].argmax(-1)

        def step(pos):
            nonlocal token
            out = model(token, past_key_values=cache, use_cache=True,
                        cache_position=torch.tensor([pos], device="cuda"), logits_to_keep=1)
            token = out.logits[:, -1:].argmax(-1)
        for i in range(4):  # warm-up
            step(ctx + i)
        sec, _ = timed(lambda: [step(ctx + 4 + i) for i in range(steps)])
    per_step = sec / steps
    emit(model=name, case="decode_long", bs=bs, ctx=ctx, tok_s=round(bs / per_step, 1),
         tpot_ms=round(1e3 * per_step, 3), peer="transformers static cache, chunked prefill")


def offline(model, name, bs=256, new=256):
    ids = torch.randint(0, 128000, (bs, 128), device="cuda")
    args = dict(do_sample=True, temperature=1.0, top_p=0.95, top_k=0, pad_token_id=0)
    with torch.no_grad():
        ttft, _ = timed(lambda: model.generate(ids, max_new_tokens=1, **args))
        sec, _ = timed(lambda: model.generate(ids, max_new_tokens=new, min_new_tokens=new, **args))
    emit(model=name, case="offline", bs=bs, tok_s=round(bs * new / sec, 1),
         ttft_ms_p50=round(1e3 * ttft, 1), tpot_ms_p50=round(1e3 * (sec - ttft) / (new - 1), 3),
         out=new, peer="transformers dynamic cache, 256 out")


def fanout(model, name, samples=64, length=4096, chunk=16):
    one_ids = torch.randint(0, 128000, (1, length), device="cuda")
    many_ids = torch.randint(0, 128000, (chunk, length), device="cuda")
    with torch.no_grad():
        model(one_ids, logits_to_keep=1)  # warm-up
        model(many_ids, logits_to_keep=1)
        one, _ = timed(lambda: model(one_ids, logits_to_keep=1))

        def many():
            for _ in range(samples // chunk):
                model(many_ids, logits_to_keep=1)
        fan, _ = timed(many)
    emit(model=name, case="fanout", bs=samples, one_prefill_ms=round(1e3 * one, 2),
         fanout_prefill_ms=round(1e3 * fan, 2), ratio=round(fan / one, 3))


def guarded(case, name, bs, fn):
    try:
        fn()
        return True
    except Exception as e:  # report, keep measuring the other cases
        print(json.dumps({"engine": "transformers-error", "model": name, "case": case, "bs": bs,
                          "error": f"{type(e).__name__}: {e}"[:300]}), flush=True)
        return False
    finally:
        torch.cuda.empty_cache()


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "llama-3.2-1b"
    cases = set(sys.argv[2:]) or {"decode", "fanout", "offline", "decode_long"}
    # Room for decode_long's 32K contexts (RoPE reads no table; llama3 scaling uses its own
    # original_max_position_embeddings).
    cfg = LlamaConfig(vocab_size=128256, max_position_embeddings=40960, **SHAPES[name])
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
    if "decode" in cases:
        if not guarded("decode", name, 1, lambda: decode_static_compiled(model, name)):
            guarded("decode", name, 1, lambda: decode_dynamic(model, name, 1))
        for bs in [64, 256]:
            guarded("decode", name, bs, lambda: decode_dynamic(model, name, bs))
    if "fanout" in cases:
        guarded("fanout", name, 64, lambda: fanout(model, name))
    if "offline" in cases:
        guarded("offline", name, 256, lambda: offline(model, name))
    if "decode_long" in cases:
        guarded("decode_long", name, 16, lambda: decode_long(model, name))


if __name__ == "__main__":
    main()
