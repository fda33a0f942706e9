// A warpgroup's wgmma products alone, as the prefill attention kernel issues them, for
// wgmma_test: one 64-row A from registers against one 64-row B tile laid out in shared memory as
// the kernel's stages are (slabs of 64 columns, rows of 128 bytes, chunk c of row r at
// c ^ (r % 8), 1,024-aligned), read by descriptor.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::test {

struct wgmma_probe_params {
  const __nv_bfloat16* a; // [64, k] row-major: k = width (trans_b 0) or 64 (trans_b 1)
  const __nv_bfloat16* b; // [64, width] row-major: 64 keys of width dims
  float* d;               // [64, n] row-major: n = 64 (trans_b 0) or width (trans_b 1)
  int width;              // 64 or 128
  int trans_b;            // 0: d = a · bᵀ (scores, B K-major); 1: d = a · b (P V, B MN-major)
  uint32_t lbo;           // the descriptor's leading byte offset (the kernel: 16 K-major,
                          // 64 keys x 128 bytes = 8,192 MN-major)
};

/// cudaErrorNotSupported on a device without sm_90a's wgmma.
cudaError_t wgmma_probe(const wgmma_probe_params& p);

} // namespace proofmesh::kernels::test
