#!/bin/sh
# The mesh's binaries (CLI, gateway, coordinator, worker, redis-server) with every shared library
# they need except glibc's and CUDA's, in one archive for a machine without our Debian packages
# (the GPU machine: its glibc must be at least Debian 12's 2.36). There:
#   tar xJf mesh.tar.xz -C DIR; export PATH=DIR/bin:$PATH
#   export LD_LIBRARY_PATH=DIR/lib:/usr/local/cuda/lib64; proofmesh up --backend cuda ...
# Usage: deploy/bundle/mesh_bundle.sh BUILD_DIR OUT_DIR  (writes OUT_DIR/mesh.tar.xz)
set -eu
build=$1
out=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$out"
cp "$build/proofmesh" "$build/proofmesh-gateway" "$build/proofmesh-coordinator" \
  "$build/proofmesh-worker" "$(command -v redis-server)" "$stage/bin/"
for b in "$stage"/bin/*; do ldd "$b" | awk '/=>/ {print $3}'; done | sort -u |
  grep -v -E '/(libc|libm|libpthread|libdl|librt|libresolv|ld-linux[^/]*)\.so|libcublas|libcuda' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
tar cJf "$out/mesh.tar.xz" -C "$stage" bin lib
echo "wrote $out/mesh.tar.xz ($(du -h "$out/mesh.tar.xz" | cut -f1))"
