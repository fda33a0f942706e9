# Thin wrapper over CMake, in the DuckDB manner. Every target first runs deploy/setup.sh, which is
# idempotent and installs only missing Debian packages.
BUILD_DIR ?= build
JOBS ?= 2
SANITIZE ?=
CMAKE_FLAGS ?=

.PHONY: setup configure build test demo bench gpu-test fuzz clean

setup:
	@deploy/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DSANITIZE=$(SANITIZE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD_DIR) build-fuzz
