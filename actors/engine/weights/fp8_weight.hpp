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

namespace proofmesh::engine {

std::string fp8_scale_name(std::string_view weight_name); // NAME + "_scale_inv"

/// The scale tensor of the e4m3 matrix `weight`, fetched and checked: F32, of shape
/// [ceil(rows / block_rows), ceil(cols / block_cols)], every scale finite and >= 0. block_rows 0
/// means the config has no FP8 block for this weight. The caller releases it.
const tensor_view& fetch_fp8_scale(const weight_source& source, const tensor_view& weight,
                                   int64_t block_rows, int64_t block_cols);

/// out[r, c] = e4m3(weight[r, c]) * scale[r / block_rows, c / block_cols].
void dequantize_fp8(const tensor_view& weight, const tensor_view& scale, int64_t block_rows,
                    int64_t block_cols, std::span<float> out);

} // namespace proofmesh::engine
