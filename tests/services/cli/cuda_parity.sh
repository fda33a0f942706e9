#!/usr/bin/env bash
# On a GPU machine: `proofmesh generate --backend cuda` against --backend cpu on `model init`
# models of each architecture. Greedy ids must be identical (float32 on both backends); the
# streamed text and tokens/s line show the CUDA path end to end. Then the DeepSeek golden models
# that transformers saved (tests/golden/data/deepseek): CUDA float32 greedy ids must equal
# transformers' own. Usage: cuda_parity.sh PROOFMESH
set -euo pipefail
pm=${1:-build-portable/proofmesh}
dir=$(mktemp -d)
status=0
for arch in llama qwen2 qwen3 deepseek_v3 deepseek_v32; do
  "$pm" model init --arch "$arch" --preset small --seed 3 --out "$dir/$arch" 2>/dev/null
  args=(--model "$dir/$arch" --prompt "Let n be a positive integer. Prove that" --temperature 0
        --max-tokens 32 --logprobs 1 --json)
  cpu=$("$pm" generate "${args[@]}" --backend cpu | python3 -c 'import json,sys; print(json.load(sys.stdin)["ids"])')
  gpu=$("$pm" generate "${args[@]}" --backend cuda | python3 -c 'import json,sys; print(json.load(sys.stdin)["ids"])')
  if [ "$cpu" = "$gpu" ]; then echo "$arch: greedy ids identical on cpu and cuda (32 tokens)";
  else echo "$arch: MISMATCH cpu=$cpu cuda=$gpu"; status=1; fi
done
for d in tests/golden/data/deepseek/*/; do
  ids=$(python3 -c "import json; print(','.join(map(str, json.load(open('$d/expected.json'))['prompt_ids'])))")
  got=$("$pm" generate --model "$d" --backend cuda --dtype float32 --prompt-ids "$ids" \
        --temperature 0 --max-tokens 12 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ids"])')
  want=$(python3 -c "import json; print(json.load(open('$d/expected.json'))['greedy_ids'])")
  if [ "$got" = "$want" ]; then echo "$(basename "$d"): cuda greedy ids equal transformers' (12 tokens)";
  else echo "$(basename "$d"): MISMATCH cuda=$got transformers=$want"; status=1; fi
done
echo "== streamed, cuda, bf16:"
"$pm" generate --model "$dir/qwen3" --chat --prompt "Prove it." --max-tokens 48 --backend cuda \
  --dtype bfloat16 --temperature 0.8 --seed 1
exit $status
