#!/usr/bin/env python3
"""#13's attention kernels alone, ours against torch's flash attention in the same run.

Usage (GPU machine, repository root): bench/engine/attention_table.py [KERNEL_LAB]

Runs `KERNEL_LAB attention` (our paged kernel on the Llama-3-8B attention shape: 32 heads, 8 kv
heads, head_dim 128, bf16, blocks of 16 slots) and times the peer on the same shapes:
torch.nn.functional.scaled_dot_product_attention with the flash backend on contiguous tensors
(prefill causal; decode one query per sequence). Prints, per case, both figures, the ratio, the
ceiling and the issue's target. Ceilings: prefill against the bf16 GEMM rate cuBLASLt reaches in
the same run (8192^3); decode against 4.3 TB/s of K and V reads. Each case runs twice, over a
bf16 cache and over the FP8 cache (e4m3 codes with a float scale per token and kv head, whose
bytes the FP8 row's ceiling counts); torch's flash attention has no FP8 form, so the FP8 rows'
peer is the same bf16 peer, and they also print their speed over our own bf16 row.
"""
import json
import subprocess
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

HEADS, KV_HEADS, HD = 32, 8, 128
TARGETS = {"prefill_attention": ("TFLOP/s", 450), "decode_attention": ("% HBM", 80)}


def time_ms(fn, reps):
    for _ in range(3):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def peer(row):
    bs, ctx = row["bs"], row["ctx"]
    prefill = row["case"] == "prefill_attention"
    queries = ctx if prefill else 1
    q = torch.randn(bs, HEADS, queries, HD, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(bs, KV_HEADS, ctx, HD, device="cuda", dtype=torch.bfloat16)
    v = torch.randn_like(k)
    try:
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            ms = time_ms(lambda: F.scaled_dot_product_attention(
                q, k, v, is_causal=prefill, enable_gqa=True), 10 if prefill else 40)
        backend = "flash"
    except RuntimeError:  # a torch without GQA in its flash backend: expanded K and V
        ke = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        ve = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            ms = time_ms(lambda: F.scaled_dot_product_attention(q, ke, ve, is_causal=prefill),
                         10 if prefill else 40)
        backend = "flash, expanded kv"
    us = 1e3 * ms
    macs = 2.0 * HD * HEADS * (ctx * (ctx + 1) / 2 if prefill else ctx) * bs
    kv_bytes = 2.0 * 2.0 * bs * ctx * KV_HEADS * HD
    return {"us": us, "tflops": 2 * macs / us / 1e6, "hbm_pct": 100 * kv_bytes / 4.3e12 * 1e6 / us,
            "backend": backend}


def main():
    lab = sys.argv[1] if len(sys.argv) > 1 else "build/bench/kernel_lab"
    lines = subprocess.run([lab, "attention"], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    rows = [json.loads(line) for line in lines if line.startswith("{")]
    ceiling = next(r["tflops"] for r in rows if r["case"] == "gemm_ceiling")
    print(f"bf16 GEMM ceiling (cuBLASLt 8192^3, this run): {ceiling:.0f} TFLOP/s; "
          f"HBM ceiling 4.3 TB/s")
    print(f"{'case':18} {'kv':>4} {'bs':>3} {'ctx':>6} {'ours us':>9} {'peer us':>9} {'ratio':>6} "
          f"{'ours':>7} {'peer':>7} {'of ceil':>8} {'target':>7}  unit / notes")
    peers, ours_bf16 = {}, {}
    for r in rows:
        if r["case"] == "gemm_ceiling":
            continue
        shape = (r["case"], r["bs"], r["ctx"])
        if shape not in peers:
            peers[shape] = peer(r)
        p = peers[shape]
        kv = r.get("kv", "bf16")
        if kv == "bf16":
            ours_bf16[shape] = r["us"]
        versus = f"; {ours_bf16[shape] / r['us']:.2f}x our bf16" if kv != "bf16" else ""
        unit, target = TARGETS[r["case"]]
        key = "tflops" if unit == "TFLOP/s" else "hbm_pct"
        of_ceiling = 100 * r["tflops"] / ceiling if key == "tflops" else r["hbm_pct"]
        print(f"{r['case']:18} {kv:>4} {r['bs']:>3} {r['ctx']:>6} {r['us']:>9.1f} "
              f"{p['us']:>9.1f} {p['us'] / r['us']:>6.2f} {r[key]:>7.1f} {p[key]:>7.1f} "
              f"{of_ceiling:>7.1f}% {target:>7}  {unit}; peer {p['backend']} bf16; "
              f"splits {r['splits']}{versus}")


if __name__ == "__main__":
    main()
