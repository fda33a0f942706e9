#!/usr/bin/env bash
# The mesh part of `make demo`: the search on SCRIPTED models. Each role's model writes one of a
# few fixed answers (deploy/demo/scripted/*.txt), drawn per task from the task's seed, so the job
# does what a real one does with answers of different scores: round 1 finds no passing proof,
# refinement prompts carry the analyses, a later round passes, meta-verification drops a rating,
# and the final selection names the winner. `proofmesh up` runs Redis, a coordinator, the gateway
# and one worker per role on loopback; the job goes in through the REST API with
# `proofmesh submit --watch`; story.py tells the outcome from the API's answers and fails if it
# did not happen. The Idempotency-Key fixes the job's id, hence its seeds, hence the story.
# Usage: mesh_demo.sh BUILD_DIR [KEEP]   (KEEP=1: leave the mesh up until Ctrl-C; DEMO_OUT names
# the folder for its models and logs, BUILD_DIR by default)
set -euo pipefail
build=$1
keep=${2:-}
here=$(dirname "$0")
out=${DEMO_OUT:-$build}
mkdir -p "$out"
logs=$out/demo-mesh
models=$out/demo-scripted
rm -rf "$logs" "$models"
for role in generator verifier meta_verifier; do
  args=()
  for f in "$here"/scripted/"$role"-*.txt; do args+=(--script-file "$f"); done
  "$build/proofmesh" model init --arch qwen3 --preset tiny --out "$models/$role" "${args[@]}" \
    2>/dev/null
done
# Ports below Linux's ephemeral range (32768 and up), where the kernel gives other processes'
# outgoing sockets theirs (a test's clients, run beside this one by ctest -j), and each one free
# when picked: Redis at R, the role sockets at B..B+2, the gateway at B+3.
ports_free() {
  python3 -c 'import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p))); s.close()' "$@" 2>/dev/null
}
for _ in $(seq 1 50); do
  redis_port=$((10000 + RANDOM % 10000))
  base_port=$((20000 + RANDOM % 12000))
  gateway_port=$((base_port + 3))
  ports_free "$redis_port" "$base_port" $((base_port + 1)) $((base_port + 2)) "$gateway_port" && break
done
"$build/proofmesh" up --model "$models/generator" --role-model "verifier=$models/verifier" \
  --role-model "meta_verifier=$models/meta_verifier" --log-dir "$logs" \
  --redis-port "$redis_port" --base-port "$base_port" --gateway-port "$gateway_port" \
  --slots 8 >"$out/demo-mesh.out" 2>&1 &
up=$!
stop() { kill -TERM "$up" 2>/dev/null || true; wait "$up" || true; }
trap stop EXIT
for _ in $(seq 1 300); do
  grep -q "mesh up" "$out/demo-mesh.out" 2>/dev/null && break
  kill -0 "$up" 2>/dev/null || { cat "$out/demo-mesh.out"; exit 1; }
  sleep 0.1
done
cat "$out/demo-mesh.out"
export PROOFMESH_GATEWAY="http://127.0.0.1:$gateway_port"
PROOFMESH_API_KEY="$(cat "$logs/api.key")"
export PROOFMESH_API_KEY
echo "== The answers below are SCRIPTED: each role's model writes one of the fixed texts in"
echo "   deploy/demo/scripted/, drawn per task from its seed. It shows what the search does with"
echo "   answers of different scores; no model is reasoning here."
echo "== The dashboard: $PROOFMESH_GATEWAY/ui/ (API key: $PROOFMESH_API_KEY)"
echo "== POST /v1/jobs: one problem, 4 proofs a round, 2 ratings each, every low rating meta-verified"
id=$("$build/proofmesh" submit "$here/scripted/problem.jsonl" --strategy quick \
       --idempotency-key "${DEMO_STORY_KEY:-demo-story-11}" \
       --param num_proofs=4 --param verifications_per_proof=2 --param best_proofs=2 \
       --param refinements=2 --param max_rounds=4 --param meta_counts=true \
       --param max_tokens=16 --param verify_max_tokens=16 --param empty_round_retries=0 --watch)
echo "== What happened, from GET /v1/jobs/$id/result and its pool"
python3 "$here/story.py" "$PROOFMESH_GATEWAY" "$PROOFMESH_API_KEY" "$id"
echo "== The job's page: $PROOFMESH_GATEWAY/ui/#/job/$id"
if [ -n "$keep" ]; then
  echo "== The mesh stays up (KEEP=1); Ctrl-C stops it. Logs in $logs"
  wait "$up" || true
  trap - EXIT
  exit 0
fi
trap - EXIT
stop
echo "== The mesh is down; logs in $logs (make demo KEEP=1 leaves it up to look around)"
