// The largest elementwise difference between two float vectors, relative to the largest
// magnitude in the reference: the measure the logits tests state their tolerances in.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>

namespace proofmesh::testing {

inline double max_rel_diff(std::span<const float> got, std::span<const float> ref) {
  double scale = 0, diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(ref[i])));
    diff = std::max(diff, std::abs(static_cast<double>(got[i]) - ref[i]));
  }
  return diff / scale;
}

} // namespace proofmesh::testing
