#!/usr/bin/env bash
# make bench on a GPU machine: runs the named parts, each keeping its output in OUT (a part run
# again replaces its own), then prints the report of everything OUT holds (report.sh). Parts:
#   engine-1b, engine-8b  bench/engine/run.sh on that shape (ours and transformers)
#   attention             bench/engine/attention_table.py (the kernels alone, torch flash's rate)
#   pipeline              make bench-pipeline (streaming against staged)
# Usage (repository root, binaries from make portable): bench/engine/parts.sh OUT PART...
set -euo pipefail
out=$1
shift
here=$(dirname "$0")
mkdir -p "$out"
for part in "$@"; do
  echo "== bench: $part"
  case $part in
    engine-1b) BENCH_OUT=$out "$here/run.sh" build-portable/bench/engine_bench llama-3.2-1b ;;
    engine-8b) BENCH_OUT=$out "$here/run.sh" build-portable/bench/engine_bench llama-3-8b ;;
    attention)
      python3 "$here/attention_table.py" build-portable/bench/kernel_lab | tee "$out/attention.tmp"
      mv "$out/attention.tmp" "$out/attention.txt" ;;
    pipeline)
      make --no-print-directory bench-pipeline PREBUILT=1 | tee "$out/pipeline.tmp"
      mv "$out/pipeline.tmp" "$out/pipeline.txt" ;;
    *)
      echo "bench: unknown part $part (parts: engine-1b engine-8b attention pipeline)" >&2
      exit 2 ;;
  esac
done
echo "== bench: report of $out"
"$here/report.sh" "$out"
