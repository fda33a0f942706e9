// One sequence's key/value cache on the CPU backend: per layer, rows of float32 values, one row
// per position, as the model's kv_layout says (keys, values, and the DSA indexer's keys; MLA keeps
// its latent in `keys` and no values). A fork (n samples of one prompt) is a plain copy: the CPU
// backend is the reference, and the paged, shared cache belongs to the GPU runtime.
#pragma once

#include <cstdint>
#include <vector>

namespace proofmesh::engine {

struct sequence_kv {
  int64_t length = 0;                   // positions filled
  std::vector<std::vector<float>> keys;       // [layers][length * key_width]
  std::vector<std::vector<float>> values;     // [layers][length * value_width]
  std::vector<std::vector<float>> index_keys; // [layers][length * index_dim]
};

} // namespace proofmesh::engine
