#!/usr/bin/env python3
"""DeepSeek-V3.2's sparse MLA alone, ours against torch in the same run.

Usage (GPU machine, repository root): bench/engine/mla_table.py [KERNEL_LAB]

Runs `KERNEL_LAB mla` (absorb GEMM, tensor-core attention over each token's 2,048 selected cache
rows, expand GEMM; 128 heads, bf16) and times the peer on the same shapes: the same absorbed form
in torch (einsum absorb, a gather of each token's rows, scores, masked softmax, the weighted sum
of latents, einsum expand), as a PyTorch user without FlashMLA would write it. transformers' own
V3.2 attention expands keys and values per head instead, which is what bench/engine's
run_deepseek.sh measures end to end. Prints, per case, both figures, the ratio and our share of
the roofline (bytes at 4.3 TB/s or FLOPs at the GEMM rate measured in the same run, the larger).
"""
import json
import subprocess
import sys

import torch

from attention_table import time_ms  # this folder is on sys.path when run as a script

HEADS, NOPE, ROPE, V, LATENT, TOPK = 128, 128, 64, 128, 512, 2048


def peer(row):
    tokens, ctx, seqs = row["tokens"], row["ctx"], row["bs"]
    queries = tokens // seqs
    dev, dt = "cuda", torch.bfloat16
    try:
        cache = torch.randn(seqs * ctx, LATENT + ROPE, device=dev, dtype=dt)
        q = torch.randn(tokens, HEADS, NOPE + ROPE, device=dev, dtype=dt)
        w_kb = torch.randn(HEADS, NOPE, LATENT, device=dev, dtype=dt) * 0.05
        w_vb = torch.randn(HEADS, V, LATENT, device=dev, dtype=dt) * 0.05
        sel = []
        for s in range(seqs):
            for t in range(ctx - queries, ctx):
                seen = min(t + 1, TOPK)
                i = torch.arange(TOPK, device=dev)
                sel.append(torch.where(i < seen, s * ctx + i * (t + 1) // seen, -1))
        sel = torch.stack(sel)  # [tokens, TOPK] rows of the flat cache, -1 padded
        mask = sel < 0
        rows_at = sel.clamp(min=0)

        def step():
            q_lat = torch.einsum("thn,hnl->thl", q[..., :NOPE], w_kb)
            qf = torch.cat([q_lat, q[..., NOPE:]], dim=-1)
            k = cache[rows_at]  # [tokens, TOPK, 576]
            s = torch.einsum("thd,tkd->thk", qf, k).float() * 0.0417
            s.masked_fill_(mask[:, None, :], float("-inf"))
            p = torch.softmax(s, dim=-1).to(dt)
            o_lat = torch.einsum("thk,tkl->thl", p, k[..., :LATENT])
            return torch.einsum("thl,hvl->thv", o_lat, w_vb)

        with torch.no_grad():
            return time_ms(step, 10 if queries > 1 else 40)
    except torch.OutOfMemoryError as e:
        return str(e).split(".")[0]


def main():
    lab = sys.argv[1] if len(sys.argv) > 1 else "build/bench/kernel_lab"
    out = subprocess.run([lab, "mla"], check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    print("| case | bs | context | tokens | ours us | of which absorb / expand GEMMs | torch us "
          "| ratio | ours TFLOP/s | ours % HBM | of roofline |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if r["case"] == "gemm_ceiling":
            print("GEMM ceiling, same run: %.1f TFLOP/s" % r["tflops"])
            continue
        theirs = peer(r)
        if isinstance(theirs, str):
            t, ratio = theirs, "-"
        else:
            t, ratio = "%.1f" % (1e3 * theirs), "%.2fx" % (1e3 * theirs / r["us"])
        print("| %s | %d | %d | %d | %.1f | %.1f / %.1f | %s | %s | %.1f | %.1f%% | %.1f%% |" % (
            r["case"], r["bs"], r["ctx"], r["tokens"], r["us"], r["absorb_us"], r["expand_us"],
            t, ratio, r["tflops"], r["hbm_pct"], r["of_roofline_pct"]))
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
