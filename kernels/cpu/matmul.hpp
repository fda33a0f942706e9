// y = x · wᵀ (+ bias): the linear layer of the CPU backend, in float32.
// Rules of the road: weights are row-major [n, k] as Hugging Face stores them, so each output is
// one contiguous dot product. Work is split over output features across the global thread pool;
// rows of x are taken four at a time so each weight row is read once per four tokens. Every dot
// is summed in the same order whatever the thread count, so results are reproducible.
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct matmul_params {
  const float* x;    // [m, k] activations, row stride k
  const float* w;    // [n, k] weights, row stride k
  const float* bias; // [n] or nullptr
  float* y;          // [m, n] output, row stride n
  int64_t m;
  int64_t n;
  int64_t k;
};

void matmul(const matmul_params& p);

/// Dot product of two float32 vectors of length k, vectorised where the CPU allows.
float dot(const float* a, const float* b, int64_t k);

} // namespace proofmesh::kernels::cpu
