// The element types a weight file may hold.
// Rules of the road: the engine computes in f32 or bf16 and reads weights stored as F32, F16, BF16
// or F8_E4M3 (DeepSeek's block-scaled FP8, which is only valid beside its weight_scale_inv: the
// model's loader checks that pairing). Those four are the whole enum; any other safetensors dtype
// (I8, F64, F8_E5M2, ...) is refused at parse time with an input_error naming it, never mapped to
// something close.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace proofmesh::engine {

enum class dtype : uint8_t { dtype_f32, dtype_f16, dtype_bf16, dtype_f8_e4m3 };

/// Bytes per element.
size_t dtype_size(dtype type);

/// The safetensors spelling: "F32", "F16", "BF16", "F8_E4M3".
std::string_view dtype_name(dtype type);

/// Inverse of dtype_name; nullopt for any name we do not support (the caller names the file).
std::optional<dtype> dtype_from_name(std::string_view name);

} // namespace proofmesh::engine
