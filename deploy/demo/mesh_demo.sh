#!/usr/bin/env bash
# The mesh part of `make demo`: `proofmesh up` on loopback (Redis, a coordinator, the REST
# gateway, one replica per role) serving the demo model; a job of our two sample problems
# submitted through the REST API with `proofmesh submit --watch` (a progress bar fed by the job's
# server-sent events); its result summarised; then everything stopped. The model's weights
# are random, so its proofs do not parse: the demo shows the machinery (claiming, dispatch,
# parsing, accounting), not mathematics. Usage: mesh_demo.sh BUILD_DIR MODEL_DIR
set -euo pipefail
build=$1
model=$2
logs=$build/demo-mesh
rm -rf "$logs"
redis_port=$((20000 + RANDOM % 20000))
base_port=$((40000 + RANDOM % 20000))
gateway_port=$((base_port + 3))
"$build/proofmesh" up --model "$model" --log-dir "$logs" --redis-port "$redis_port" \
  --base-port "$base_port" --gateway-port "$gateway_port" --slots 4 >"$build/demo-mesh.out" 2>&1 &
up=$!
stop() { kill -TERM "$up" 2>/dev/null || true; wait "$up"; }
trap stop EXIT
for _ in $(seq 1 300); do
  grep -q "mesh up" "$build/demo-mesh.out" 2>/dev/null && break
  kill -0 "$up" 2>/dev/null || { cat "$build/demo-mesh.out"; exit 1; }
  sleep 0.1
done
cat "$build/demo-mesh.out"
export PROOFMESH_GATEWAY="http://127.0.0.1:$gateway_port"
PROOFMESH_API_KEY="$(cat "$logs/api.key")"
export PROOFMESH_API_KEY
echo "== POST /v1/jobs with our two sample problems (deploy/demo/problems.jsonl), then its events"
id=$("$build/proofmesh" submit deploy/demo/problems.jsonl --strategy quick --num-proofs 2 \
       --verifications 2 --max-tokens 32 --param verify_max_tokens=32 --param max_rounds=1 \
       --param empty_round_retries=0 --watch)
echo "== GET /v1/jobs/$id/result: per problem: status, counts, the final selection"
"$build/proofmesh" result "$id"
trap - EXIT
stop
echo "== the mesh is down; logs in $logs"
