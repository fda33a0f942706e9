// Rules of the road: the switches list every enumerator with no default, so -Werror=switch flags
// a new dtype that is not handled here.
#include "actors/engine/weights/dtype.hpp"

#include "actors/common/check.hpp"

namespace proofmesh::engine {

size_t dtype_size(dtype type) {
  switch (type) {
  case dtype::dtype_f32: return 4;
  case dtype::dtype_f16: return 2;
  case dtype::dtype_bf16: return 2;
  case dtype::dtype_f8_e4m3: return 1;
  }
  PM_ASSERT(false, "dtype out of range");
  return 0;
}

std::string_view dtype_name(dtype type) {
  switch (type) {
  case dtype::dtype_f32: return "F32";
  case dtype::dtype_f16: return "F16";
  case dtype::dtype_bf16: return "BF16";
  case dtype::dtype_f8_e4m3: return "F8_E4M3";
  }
  PM_ASSERT(false, "dtype out of range");
  return {};
}

std::optional<dtype> dtype_from_name(std::string_view name) {
  for (dtype type : {dtype::dtype_f32, dtype::dtype_f16, dtype::dtype_bf16, dtype::dtype_f8_e4m3}) {
    if (dtype_name(type) == name) return type;
  }
  return std::nullopt;
}

} // namespace proofmesh::engine
