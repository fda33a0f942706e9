# Thin wrapper over CMake, in the DuckDB manner. Every target first runs deploy/setup.sh, which is
# idempotent and installs only missing Debian packages.
BUILD_DIR ?= build
JOBS ?= 2
SANITIZE ?=
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 20
DEMO_DIR ?= $(BUILD_DIR)/demo-model
KEEP ?=

.PHONY: setup configure build test unit-test demo bench bench-mesh bench-sse bench-pipeline gpu-test fuzz portable \
  mesh-bundle clean

setup:
	@deploy/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DSANITIZE=$(SANITIZE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

# Everything: the unit and integration tests through ctest (GPU tests show as Skipped without a
# GPU), then a short libFuzzer pass over the file parsers.
test: unit-test fuzz

unit-test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)
	@ctest --test-dir $(BUILD_DIR) -L gpu -V 2>/dev/null | grep -m1 -o "needs a CUDA GPU.*" \
	  | sed 's/^/note: GPU tests were skipped: /' || true

# The GPU machine has none of our Debian packages, so GPU binaries come from `make portable`
# (static PCRE2, ICU and libstdc++). PREBUILT=1 skips building, for binaries built elsewhere and
# carried (make portable leaves them in one archive: build-portable/gpu-bundle.tar.xz).
PREBUILT ?=
GPU_DEPS = $(if $(PREBUILT),,portable)

# On a GPU machine: tests/gpu_test.sh (kernels, runner, real shapes against transformers, engine,
# the sanitizer run, CLI parity). Without a GPU it says so and passes, as ctest's `gpu` label does.
gpu-test: $(GPU_DEPS)
	tests/gpu_test.sh build-portable

demo: build
	@echo "== proofmesh demo: a tiny model with RANDOM weights (its text is gibberish by design) =="
	@$(BUILD_DIR)/proofmesh model init --arch qwen3 --preset tiny --seed 1 --out $(DEMO_DIR)
	@$(BUILD_DIR)/proofmesh generate --model $(DEMO_DIR) --chat \
	  --prompt "Prove that the sum of two even integers is even." \
	  --max-tokens 48 --temperature 0.8 --top-p 0.95 --seed 7
	@echo "== the same prompt, greedy, as JSON with top-3 logprobs =="
	@$(BUILD_DIR)/proofmesh generate --model $(DEMO_DIR) --chat \
	  --prompt "Prove that the sum of two even integers is even." \
	  --max-tokens 8 --temperature 0 --logprobs 3 --json
	@echo "== the mesh: Redis, a coordinator, the REST gateway and one worker per role, running the search =="
	@deploy/demo/mesh_demo.sh $(BUILD_DIR) $(KEEP)

# bench/mesh: what the mesh adds per task (gateway -> Redis -> coordinator -> worker -> back) at
# max_tokens 1, against the engine's own time per task, and tasks per second.
bench-mesh: build
	@python3 bench/mesh/mesh_bench.py $(BUILD_DIR)

# 1,000 SSE streams on one job through a real gateway, against reading Redis directly.
bench-sse: build
	@$(BUILD_DIR)/bench/sse_bench $(BUILD_DIR)

# bench/pipeline: one search job staged (the reference's barriers) and streaming, on one engine:
# both makespans and their ratio. With a GPU: the Llama-3.2-1B shape; without: the tiny model.
bench-pipeline: $(if $(shell nvidia-smi -L 2>/dev/null),$(GPU_DEPS),build)
	@if nvidia-smi -L >/dev/null 2>&1; then \
	  build-portable/bench/pipeline_bench --shape llama-3.2-1b --backend cuda \
	    --lengths build-portable/proof-lengths.txt --problems 8 --slots 128 --scale 8; \
	else $(BUILD_DIR)/proofmesh model init --arch qwen3 --preset tiny --seed 1 --out $(DEMO_DIR) \
	  && bench/pipeline/proof_lengths.sh ../shared > $(BUILD_DIR)/proof-lengths.txt \
	  && $(BUILD_DIR)/bench/pipeline_bench --model $(DEMO_DIR) --lengths $(BUILD_DIR)/proof-lengths.txt; fi

# With a GPU: bench/engine (our engine and transformers on the 1B and 8B shapes, one table),
# then the attention kernels alone against torch's flash attention (#13's kernel rows), then
# bench/pipeline's streaming against staged (#13's last row). Without: the CPU backend's
# throughput. Each part's output stays in BENCH_OUT and every run ends with the report of all
# that the folder holds, so the parts can run in separate calls (a machine that stops a command
# after 10 minutes: `make bench PREBUILT=1 BENCH_PARTS=engine-8b`, then the others).
BENCH_PARTS ?= engine-1b engine-8b attention pipeline
BENCH_OUT ?= build-portable/bench-out
bench: $(if $(shell nvidia-smi -L 2>/dev/null),$(GPU_DEPS),build)
	@if nvidia-smi -L >/dev/null 2>&1; then \
	  bench/engine/parts.sh $(BENCH_OUT) $(BENCH_PARTS); \
	else bench/cpu_generate.sh $(BUILD_DIR); fi

# Binaries that run on machines without our Debian packages (the GPU machine): static PCRE2, ICU
# and libstdc++, in build-portable, and all of them in one archive to carry there. CUDA libraries
# come from the machine.
PORTABLE_TARGETS = proofmesh engine_bench deepseek_bench kernel_lab pipeline_bench cuda_kernels_test \
  cuda_runner_test cuda_batch_engine_test real_shape_test
portable: setup
	@cmake -S . -B build-portable -G Ninja -DPM_STATIC_DEPS=ON -DPM_BUILD_TESTS=ON >/dev/null
	@cmake --build build-portable -j$(JOBS) --target $(PORTABLE_TARGETS)
	@bench/pipeline/proof_lengths.sh ../shared > build-portable/proof-lengths.txt
	@cd build-portable && tar cJf gpu-bundle.tar.xz proofmesh bench/engine_bench bench/deepseek_bench bench/kernel_lab \
	  bench/pipeline_bench proof-lengths.txt \
	  tests/kernels/cuda/cuda_kernels_test tests/actors/engine/cuda/cuda_runner_test \
	  tests/actors/engine/cuda/cuda_batch_engine_test tests/actors/engine/cuda/real_shape_test

# The mesh for the GPU machine: the services and redis-server with their shared libraries, in
# build-meshgpu/mesh.tar.xz (unpack it there; deploy/bundle/mesh_bundle.sh says how to run it).
mesh-bundle: build
	@deploy/bundle/mesh_bundle.sh $(BUILD_DIR) build-meshgpu

clean:
	rm -rf $(BUILD_DIR) build-fuzz build-portable build-meshgpu

# Fuzzing (tests/fuzz): a standalone clang build in build-fuzz with libFuzzer, ASan and UBSan.
# Each fuzzer runs FUZZ_SECONDS over a working copy of its committed seeds in build-fuzz/corpus,
# so inputs it discovers never land in the source tree. Any crash, leak, timeout or OOM makes
# libFuzzer exit non-zero and fails the target; the reproducer lands in build-fuzz/artifacts.
FUZZERS = safetensors_header_fuzz tokenizer_json_fuzz wire_codec_fuzz

fuzz: setup
	@CC=clang CXX=clang++ cmake -S tests/fuzz -B build-fuzz -G Ninja >/dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@set -e; for f in $(FUZZERS); do \
	  if [ ! -x build-fuzz/$$f ]; then echo "fuzz: $$f was not built"; exit 1; fi; \
	  mkdir -p build-fuzz/corpus/$$f build-fuzz/artifacts; \
	  cp tests/fuzz/corpus/$$f/* build-fuzz/corpus/$$f/; \
	  echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
	  build-fuzz/$$f -dict=tests/fuzz/$$f.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/$$f- \
	    build-fuzz/corpus/$$f 2>build-fuzz/$$f.log || { tail -n 60 build-fuzz/$$f.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^Done' build-fuzz/$$f.log || true; \
	done
