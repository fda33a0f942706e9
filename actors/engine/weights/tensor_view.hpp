// A read-only view of one tensor inside a mapped weight file.
// Rules of the road: a view owns nothing; `data` points into the safetensors_file (or
// weight_store) that produced it and lives exactly as long as that object. Data is little-endian
// and may be unaligned, so read it with to_f32 or memcpy, never by casting the pointer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "actors/engine/weights/dtype.hpp"

namespace proofmesh::engine {

struct tensor_view {
  std::string name;
  dtype type;
  std::vector<int64_t> shape;  // row-major, outermost first; empty for a scalar
  const std::byte* data;       // [num_bytes] inside the mapped file
  size_t num_bytes;            // num_elements() * dtype_size(type), checked at parse time

  /// Product of the shape (1 for a scalar).
  int64_t num_elements() const;
};

/// Decodes a tensor's elements to f32, whatever its dtype; `out` must hold num_elements().
void to_f32(const tensor_view& tensor, std::span<float> out);

/// "[2, 3]": the form error messages use for shapes.
std::string shape_string(std::span<const int64_t> shape);

} // namespace proofmesh::engine
