// Test-only encoders: float values to the little-endian bytes of each dtype.
// Rules of the road: these go through the library's own f32_to_* conversions, which
// half_precision_test checks independently, and write bytes explicitly little-endian.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <stdexcept>
#include <vector>

#include "actors/engine/weights/dtype.hpp"
#include "actors/engine/weights/half_precision.hpp"

namespace proofmesh::engine::testing {

inline void append_le(std::vector<std::byte>& out, uint64_t value, int num_bytes) {
  for (int i = 0; i < num_bytes; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

inline std::vector<std::byte> encode(dtype type, const std::vector<float>& values) {
  std::vector<std::byte> out;
  for (float value : values) {
    switch (type) {
    case dtype::dtype_f32: append_le(out, std::bit_cast<uint32_t>(value), 4); break;
    case dtype::dtype_f16: append_le(out, f32_to_f16(value), 2); break;
    case dtype::dtype_bf16: append_le(out, f32_to_bf16(value), 2); break;
    case dtype::dtype_f8_e4m3: throw std::logic_error("encode: the tests write no e4m3 values");
    }
  }
  return out;
}

/// A whole safetensors file: 8-byte length `declared_length`, the header text, then `data`.
inline std::vector<std::byte> raw_file(uint64_t declared_length, const std::string& header,
                                       const std::vector<std::byte>& data = {}) {
  std::vector<std::byte> out;
  append_le(out, declared_length, 8);
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

/// raw_file with the length field matching the header, as a well-formed file has.
inline std::vector<std::byte> raw_file(const std::string& header, size_t num_data_bytes) {
  return raw_file(header.size(), header, std::vector<std::byte>(num_data_bytes, std::byte{0}));
}

} // namespace proofmesh::engine::testing
