// Wall-clock time as the mesh records it: milliseconds since the Unix epoch (job records,
// OpenAI "created" fields divided by 1000), the scale of Redis stream ids.
#pragma once

#include <chrono>
#include <cstdint>

namespace proofmesh {

inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace proofmesh
