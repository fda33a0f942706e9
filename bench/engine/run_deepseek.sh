#!/usr/bin/env bash
# bench/engine's DeepSeek-V3.2 cases in one run on one GPU: transformers writes the truncated
# real-width FP8 model and measures itself on it (peer_deepseek.py), then our engine loads the same
# checkpoint (deepseek_bench). Prints per case our figure, the peer's, the ratio and the roofline.
# Usage (GPU machine, repository root): bench/engine/run_deepseek.sh [DEEPSEEK_BENCH]
set -euo pipefail
bench=${1:-build/bench/deepseek_bench}
out=${BENCH_OUT:-$(mktemp -d)}
mkdir -p "$out"
python3 "$(dirname "$0")/peer_deepseek.py" "$out" | tee "$out/peer.jsonl"
"$bench" "$out/deepseek_v32" | tee "$out/ours.jsonl"
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
def rows(f):
    return [json.loads(l) for l in open(d + "/" + f) if l.startswith("{")]
peer = {(r["case"], r["bs"], r["context"]): r for r in rows("peer.jsonl")}
print("| case | bs | context | ours tok/s | transformers tok/s | ratio | roofline tok/s | of roofline |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for r in rows("ours.jsonl"):
    p = peer.get((r["case"], r["bs"], r["context"]), {})
    theirs = "%.1f" % p["tok_s"] if "tok_s" in p else p.get("error", "n/a")
    ratio = "%.2fx" % (r["tok_s"] / p["tok_s"]) if "tok_s" in p else "-"
    print("| %s | %d | %d | %.1f | %s | %s | %.1f | %.1f%% |" % (
        r["case"], r["bs"], r["context"], r["tok_s"], theirs, ratio, r["roofline_tok_s"],
        100 * r["tok_s"] / r["roofline_tok_s"]))
PY
