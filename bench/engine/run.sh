#!/usr/bin/env bash
# bench/engine: our engine and transformers on the same shapes in one run, on one GPU. Prints, per
# model and case, our figure, the peer's, the ratio, the bandwidth roofline and the issue's target.
# Usage (GPU machine, repository root): bench/engine/run.sh [ENGINE_BENCH] [MODEL...]
# Raw JSON lines stay in $BENCH_OUT (default: a temporary folder) as ours-MODEL.jsonl and
# peer-MODEL.jsonl: a run of one model replaces that model's files and keeps the others', and the
# table covers every model the folder holds (make bench runs its parts in separate calls so).
set -euo pipefail
bench=${1:-build/bench/engine_bench}
shift || true
models=${*:-llama-3.2-1b llama-3-8b}
out=${BENCH_OUT:-$(mktemp -d)}
mkdir -p "$out"
for m in $models; do
  "$bench" "$m" | tee "$out/ours-$m.jsonl"
  python3 "$(dirname "$0")/peer_transformers.py" "$m" | tee "$out/peer-$m.jsonl"
done
python3 "$(dirname "$0")/table.py" "$out"
