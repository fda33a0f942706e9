#!/usr/bin/env bash
# make bench's report: every part its folder holds (bench/engine's table over the models that
# ran, the attention kernels' table, bench/pipeline's makespans), and which parts are missing.
# Usage: bench/engine/report.sh BENCH_OUT
set -euo pipefail
out=$1
here=$(dirname "$0")
missing=()
if compgen -G "$out/ours-*.jsonl" >/dev/null; then
  python3 "$here/table.py" "$out"
  for m in llama-3.2-1b llama-3-8b; do
    [ -f "$out/ours-$m.jsonl" ] || missing+=("engine ($m)")
  done
else
  missing+=("engine-1b" "engine-8b")
fi
for part in attention pipeline; do
  if [ -f "$out/$part.txt" ]; then
    echo
    cat "$out/$part.txt"
  else
    missing+=("$part")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo
  echo "bench: not in $out yet: ${missing[*]}"
fi
