#!/usr/bin/env bash
# bench/engine: our CUDA runner and transformers on the same shapes in one run, on one GPU.
# Prints a table: our tok/s, the peer's, the ratio, and the bandwidth roofline.
# Usage (GPU machine, repository root): bench/engine/run.sh [BUILD_DIR] [MODEL...]
set -euo pipefail
build=${1:-build}
shift || true
models=${*:-llama-3.2-1b}
out=$(mktemp -d)
for m in $models; do
  "$build/bench/engine_bench" "$m" | tee -a "$out/ours.jsonl"
  python3 "$(dirname "$0")/peer_transformers.py" "$m" | tee -a "$out/peer.jsonl"
done
python3 - "$out" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1])
ours = {(r["model"], r["bs"]): r for r in map(json.loads, (d / "ours.jsonl").read_text().split("\n")[:-1])}
peer = {(r["model"], r["bs"]): r for r in map(json.loads, (d / "peer.jsonl").read_text().split("\n")[:-1])}
print(f"{'model':14} {'bs':>4} {'proofmesh tok/s':>16} {'transformers':>13} {'ratio':>6} {'roofline':>9} {'of roofline':>11}")
for key, r in sorted(ours.items()):
    p = peer.get(key, {}).get("tok_s", float("nan"))
    print(f"{key[0]:14} {key[1]:>4} {r['tok_s']:>16.1f} {p:>13.1f} {r['tok_s'] / p:>6.2f} "
          f"{r['roofline_tok_s']:>9.0f} {100 * r['tok_s'] / r['roofline_tok_s']:>10.1f}%")
PY
