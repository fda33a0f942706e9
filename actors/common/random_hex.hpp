// Random hex strings for ids and secrets that must neither repeat nor be guessed (job and
// completion ids, API keys, passwords, routing incarnations): words from std::random_device
// (the OS's entropy source), hex-encoded.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace proofmesh {

inline std::string random_hex(size_t digits) {
  static const char* hex = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  while (out.size() < digits) {
    uint32_t word = rd();
    for (int k = 0; k < 8 && out.size() < digits; ++k, word >>= 4) out += hex[word & 15];
  }
  return out;
}

inline uint64_t random_u64() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) | rd();
}

} // namespace proofmesh
