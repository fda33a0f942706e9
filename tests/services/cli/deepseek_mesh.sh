#!/usr/bin/env bash
# A `quick` job end to end on a tiny scripted DeepSeek-V3.2 (MLA, MoE, the indexer keeping 16
# keys of much longer prompts, its chat format with thinking on) served by one combined worker:
# `proofmesh up`, then `proofmesh submit --strategy quick --watch`. make test runs the same job on
# the CPU (strategies_test); this script is for a GPU machine with the mesh bundle
# (make mesh-bundle), e.g. `deepseek_mesh.sh DIR/bin cuda`. Usage: deepseek_mesh.sh BIN BACKEND
set -euo pipefail
bin=$1
backend=${2:-cuda}
dir=$(mktemp -d)
trap 'kill $up 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
script=$'</think>\n## Solution\nBy the scripted argument, the claim holds.\n## Self Evaluation\nHere is my evaluation of the solution: one step is thin.\n\nBased on my evaluation, the final overal score should be:\n\\boxed{0.5}'
printf '%s' "$script" > "$dir/script.txt"
"$bin/proofmesh" model init --arch deepseek_v32 --out "$dir/model" --script-file "$dir/script.txt"
base=$((20000 + RANDOM % 20000))
"$bin/proofmesh" up --model "$dir/model" --log-dir "$dir/mesh" --redis-port $base \
  --base-port $((base + 1)) --gateway-port $((base + 4)) --workers 1 --slots 6 \
  --backend "$backend" > "$dir/up.out" 2>&1 &
up=$!
for _ in $(seq 600); do
  grep -q "mesh up" "$dir/up.out" && break
  kill -0 $up 2>/dev/null || { cat "$dir/up.out"; exit 1; }
  sleep 0.1
done
echo '[{"id": 1, "question": "Prove that 2 is even.", "answer": "null", "contest": "test", "problem_idx": "deepseek-1"}]' > "$dir/problems.json"
"$bin/proofmesh" submit "$dir/problems.json" --strategy quick --watch \
  --gateway "http://127.0.0.1:$((base + 4))" --api-key "$(cat "$dir/mesh/api.key")"
grep -h "backend\|serving" "$dir"/mesh/*.log | head -5 || true
echo "deepseek_mesh: a quick job completed on the $backend backend"
