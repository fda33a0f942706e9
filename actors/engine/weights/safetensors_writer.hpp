// Writes safetensors files that huggingface/safetensors (and so transformers) load.
// Rules of the road: the layout copies the reference Rust serializer byte for byte in spirit:
// tensors ordered by descending dtype alignment then name, packed with no gaps, compact JSON
// header with "__metadata__" first, padded with spaces to a multiple of 8 bytes. The write is
// atomic: a temp file in the same directory, fsync, then rename over `path`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "actors/engine/weights/dtype.hpp"

namespace proofmesh::engine {

struct tensor_to_write {
  std::string name;
  dtype type;
  std::vector<int64_t> shape;       // row-major; empty for a scalar
  std::span<const std::byte> bytes; // [product(shape) * dtype_size(type)], little-endian
};

/// Writes `tensors` to `path`. `metadata` goes to "__metadata__"; "format" defaults to "pt",
/// which transformers expects. input_error on a bad tensor (size mismatch, duplicate or reserved
/// name, negative dim) or when the file cannot be written.
void write_safetensors(const std::string& path, std::span<const tensor_to_write> tensors,
                       const std::map<std::string, std::string>& metadata);

} // namespace proofmesh::engine
