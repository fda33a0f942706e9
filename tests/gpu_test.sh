#!/usr/bin/env bash
# The GPU suite: kernel tests against CPU references, runner tests (logits against the CPU backend
# and transformers' golden data), real-shape models against transformers (made here by
# tests/golden/real_shapes.py, and deepseek_real_width.py: a four-layer FP8 DeepSeek-V3.2 of the
# real widths, ~27 GB on disk), the batch engine on the device, then kernels, runner and engine
# again under compute-sanitizer memcheck, and CLI parity (cuda greedy == cpu greedy).
# Runs from the repository root with the binaries of `make portable` (built here or carried); on a
# machine without a GPU it says so and exits 0, as the ctest `gpu` label does.
# Usage: tests/gpu_test.sh [BUILD_DIR]   (default build-portable)
set -uo pipefail
build=${1:-build-portable}
export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-test: no GPU here (nvidia-smi found none); the GPU tests show as Skipped in ctest"
  exit 0
fi
kernels=$build/tests/kernels/cuda/cuda_kernels_test
runner=$build/tests/actors/engine/cuda/cuda_runner_test
engine=$build/tests/actors/engine/cuda/cuda_batch_engine_test
real=$build/tests/actors/engine/cuda/real_shape_test
failed=0
log=$(mktemp)
step() {
  echo "== $*"
  if "$@" >"$log" 2>&1; then
    tail -n 2 "$log"
  else
    tail -n 40 "$log"
    failed=1
  fi
}
for b in "$kernels" "$runner" "$engine"; do
  step "$b"
done
grep -h "FP8 cache" "$log" || true # the engine binary's FP8 figures, for fp8_cache_runner_test
models=$(mktemp -d)
if step python3 tests/golden/real_shapes.py "$models" &&
   step python3 tests/golden/deepseek_real_width.py "$models"; then
  PM_REAL_SHAPE_MODELS=$models step "$real"
  # The FP8 cache's figures, for real_shape_test's comment.
  grep -hE "^(fp8 cache|float32 compute) against" "$log" || true
fi
rm -rf "$models"
sanitizer=/usr/local/cuda/bin/compute-sanitizer
# The engine's 128K-prompt tests run once, above: under the sanitizer their CUDA-core attention
# would take minutes, and the kernel tests memcheck the attention kernels at 128K.
step "$sanitizer" --tool memcheck --error-exitcode 3 "$kernels"
step "$sanitizer" --tool memcheck --error-exitcode 3 "$runner"
step "$sanitizer" --tool memcheck --error-exitcode 3 "$engine" --gtest_filter='-*long_prompt_test*'
step tests/services/cli/cuda_parity.sh "$build/proofmesh"
[ $failed -eq 0 ] && echo "gpu-test: all passed" || echo "gpu-test: FAILED"
exit $failed
