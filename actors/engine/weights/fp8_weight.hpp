// DeepSeek's block-scaled FP8 weights: an e4m3 tensor NAME with a float32 NAME_scale_inv holding
// one scale per [block_rows, block_cols] block (the edge blocks partial), w = q * scale_inv.
// Rules of the road: a tensor is FP8 only beside a valid scale, and only where the model's config
// has an FP8 quantization_config; every mismatch is an input_error naming the tensor at fault.
#pragma once

#include "actors/engine/weights/weight_source.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

std::string fp8_scale_name(std::string_view weight_name); // NAME + "_scale_inv"

/// The block scales of one e4m3 matrix, widened to float32.
struct fp8_scales {
  std::vector<float> values; // [ceil(rows / block_rows), ceil(cols / block_cols)]
  int64_t block_rows = 0;
  int64_t block_cols = 0;
};

/// The scales of the e4m3 matrix `weight`, read once and checked: the scale tensor is F32, of
/// shape [ceil(rows / block_rows), ceil(cols / block_cols)], every scale finite and >= 0; it is
/// released before this returns. block_rows 0 means the config has no FP8 block for this weight.
fp8_scales read_fp8_scales(const weight_source& source, const tensor_view& weight,
                           int64_t block_rows, int64_t block_cols);

/// out[r, c] = e4m3(weight[r, c]) * scale[r / block_rows, c / block_cols].
void dequantize_fp8(const tensor_view& weight, const fp8_scales& scales, std::span<float> out);

} // namespace proofmesh::engine
