#!/usr/bin/env bash
# The GPU suite: kernel tests, runner tests (logits against the CPU and transformers' golden data),
# both again under compute-sanitizer memcheck, and CLI parity (cuda greedy == cpu greedy).
# Runs from the repository root with built binaries; on a machine without a GPU it says so and
# exits 0, as the ctest `gpu` label does. Usage: tests/gpu_test.sh [BUILD_DIR] [PORTABLE_CLI]
set -uo pipefail
build=${1:-build}
cli=${2:-build-portable/proofmesh}
export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-test: no GPU here (nvidia-smi found none); the GPU tests show as Skipped in ctest"
  exit 0
fi
binaries=("$build/tests/kernels/cuda/cuda_kernels_test" "$build/tests/actors/engine/cuda/cuda_runner_test"
          "$(dirname "$cli")/tests/actors/engine/cuda/cuda_batch_engine_test")
failed=0
step() {
  echo "== $*"
  if "$@" >/tmp/gpu_test_step.log 2>&1; then
    tail -n 2 /tmp/gpu_test_step.log
  else
    tail -n 40 /tmp/gpu_test_step.log
    failed=1
  fi
}
for b in "${binaries[@]}"; do
  step "$b"
done
sanitizer=/usr/local/cuda/bin/compute-sanitizer
for b in "${binaries[@]}"; do
  step "$sanitizer" --tool memcheck --error-exitcode 3 "$b"
done
if [ -x "$cli" ]; then
  step tests/services/cli/cuda_parity.sh "$cli"
else
  echo "== $cli not built (make portable): CLI parity not run"
  failed=1
fi
[ $failed -eq 0 ] && echo "gpu-test: all passed" || echo "gpu-test: FAILED"
exit $failed
