#!/usr/bin/env bash
# CPU backend throughput on the `small` preset (random weights): bs=1 decode and n=8 decode,
# then the batch engine's own host cost per step (bench/engine/host_bench.cpp).
# Prints tokens/s as measured by `proofmesh generate`. There is no peer on this machine (no torch),
# so this is a measurement for docs/PERFORMANCE.md, not a comparison.
set -euo pipefail # a failing generate fails the bench: its tokens/s line is the last stderr line
build=${1:-build}
model=$build/bench-small
[ -f "$model/model.safetensors" ] || "$build/proofmesh" model init --arch llama --preset small --seed 1 --out "$model" 2>/dev/null
for n in 1 8; do
  echo "== small llama, prompt 32 tokens, 64 new tokens, n=$n, threads=$(nproc)"
  "$build/proofmesh" generate --model "$model" --prompt-ids "$(seq -s, 10 41)" \
    --max-tokens 64 --temperature 0 --n "$n" --ignore-eos 2>&1 >/dev/null | tail -1
done
echo "== the batch engine's host cost per step (no model work): 256 requests of 128 + 2,048 tokens"
"$build/bench/host_bench"
