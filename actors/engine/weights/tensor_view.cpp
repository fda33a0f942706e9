// Rules of the road: decode through memcpy into a native integer and swap bytes on big-endian
// hosts, so the same code is correct for unaligned data on any host.
#include "actors/engine/weights/tensor_view.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "actors/common/check.hpp"
#include "actors/engine/weights/half_precision.hpp"

namespace proofmesh::engine {

namespace {

template <typename T>
T load_little_endian(const std::byte* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    auto bytes = std::bit_cast<std::array<std::byte, sizeof(T)>>(value);
    std::reverse(bytes.begin(), bytes.end());
    value = std::bit_cast<T>(bytes);
  }
  return value;
}

} // namespace

int64_t tensor_view::num_elements() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;  // cannot overflow: the parser bounded it by file size
  return count;
}

void to_f32(const tensor_view& tensor, std::span<float> out) {
  const auto count = static_cast<size_t>(tensor.num_elements());
  PM_ASSERT(out.size() == count, "to_f32: output size differs from the element count");
  PM_ASSERT(count * dtype_size(tensor.type) == tensor.num_bytes, "tensor_view byte count");
  const std::byte* at = tensor.data;
  switch (tensor.type) {
  case dtype::dtype_f32:
    for (size_t i = 0; i < count; ++i) out[i] = std::bit_cast<float>(load_little_endian<uint32_t>(at + 4 * i));
    return;
  case dtype::dtype_f16:
    for (size_t i = 0; i < count; ++i) out[i] = f16_to_f32(load_little_endian<uint16_t>(at + 2 * i));
    return;
  case dtype::dtype_bf16:
    for (size_t i = 0; i < count; ++i) out[i] = bf16_to_f32(load_little_endian<uint16_t>(at + 2 * i));
    return;
  case dtype::dtype_f8_e4m3:
    for (size_t i = 0; i < count; ++i) out[i] = e4m3_to_f32(static_cast<uint8_t>(at[i]));
    return;
  }
  PM_ASSERT(false, "dtype out of range");
}

std::string shape_string(std::span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

} // namespace proofmesh::engine
