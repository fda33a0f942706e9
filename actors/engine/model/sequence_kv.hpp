// One sequence's key/value cache on the CPU backend: per layer, rows of [kv_heads * head_dim]
// float32 values, one row per position. A fork (n samples of one prompt) is a plain copy: the CPU
// backend is the reference, and the paged, shared cache belongs to the GPU runtime.
#pragma once

#include <cstdint>
#include <vector>

namespace proofmesh::engine {

struct sequence_kv {
  int64_t length = 0;                   // positions filled
  std::vector<std::vector<float>> keys;   // [layers][length * kv_dim]
  std::vector<std::vector<float>> values; // [layers][length * kv_dim]
};

} // namespace proofmesh::engine
