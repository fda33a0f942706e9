// Where a backend reads a model's tensors from, one at a time, by name.
// Rules of the road: a backend fetches a tensor, copies it into its own memory (in the dtype it
// computes in), then releases it, so a model streams through a bounded host footprint whatever
// its size. The tensor-by-name interface is what several ranks will share (#10): each fetches the
// slices it owns. weight_store (a model directory of safetensors) is the one that ships; the
// benchmarks serve random tensors of a real shape through the same interface.
#pragma once

#include "actors/engine/weights/tensor_view.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

class weight_source {
public:
  virtual ~weight_source() = default;

  /// The named tensor, checked against `expected_shape`; input_error if it is missing or its
  /// shape differs. The view stays valid until it is released.
  virtual const tensor_view& fetch(std::string_view name,
                                   std::span<const int64_t> expected_shape) const = 0;
  /// The caller is done with `tensor`: its host pages may go.
  virtual void release(const tensor_view& tensor) const { (void)tensor; }
  virtual bool contains(std::string_view name) const = 0;
};

/// The named tensor widened to float32 (a small table kept exact: a router's correction bias).
inline std::vector<float> fetch_f32(const weight_source& source, std::string_view name,
                                    std::span<const int64_t> expected_shape) {
  const tensor_view& t = source.fetch(name, expected_shape);
  std::vector<float> values(static_cast<size_t>(t.num_elements()));
  to_f32(t, values);
  source.release(t);
  return values;
}

} // namespace proofmesh::engine
