// FNV-1a over bytes: a stable 64-bit hash of a string, the same on every platform and run
// (std::hash is the library's choice). Used where a seed or a draw must follow from a name.
#pragma once

#include <cstdint>
#include <string_view>

namespace proofmesh {

constexpr uint64_t fnv1a(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace proofmesh
