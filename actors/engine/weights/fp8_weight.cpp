#include "actors/engine/weights/fp8_weight.hpp"

#include "actors/common/check.hpp"
#include "actors/common/error.hpp"
#include "actors/engine/weights/half_precision.hpp"

#include <cmath>
#include <vector>

namespace proofmesh::engine {

std::string fp8_scale_name(std::string_view weight_name) {
  return std::string(weight_name) + "_scale_inv";
}

fp8_scales read_fp8_scales(const weight_source& source, const tensor_view& weight,
                           int64_t block_rows, int64_t block_cols) {
  if (block_rows <= 0 || block_cols <= 0) {
    throw input_error("tensor \"" + weight.name +
                      "\" is F8_E4M3, but config.json has no FP8 quantization_config for it");
  }
  if (weight.shape.size() != 2) {
    throw input_error("tensor \"" + weight.name + "\" is F8_E4M3 but not a matrix");
  }
  const std::string name = fp8_scale_name(weight.name);
  if (!source.contains(name)) {
    throw input_error("tensor \"" + weight.name + "\" is F8_E4M3 but \"" + name + "\" is missing");
  }
  const std::vector<int64_t> blocks = {(weight.shape[0] + block_rows - 1) / block_rows,
                                       (weight.shape[1] + block_cols - 1) / block_cols};
  const tensor_view& scale = source.fetch(name, blocks);
  const dtype type = scale.type;
  fp8_scales out{.values = std::vector<float>(static_cast<size_t>(scale.num_elements())),
                 .block_rows = block_rows, .block_cols = block_cols};
  if (type == dtype::dtype_f32) {
    to_f32(scale, out.values);
  }
  source.release(scale);
  if (type != dtype::dtype_f32) {
    throw input_error("tensor \"" + name + "\" is " + std::string(dtype_name(type)) + ", not F32");
  }
  for (float v : out.values) {
    if (!std::isfinite(v) || v < 0) {
      throw input_error("tensor \"" + name + "\" holds a scale that is negative or not finite");
    }
  }
  return out;
}

void dequantize_fp8(const tensor_view& weight, const fp8_scales& scales, std::span<float> out) {
  PM_ASSERT(weight.type == dtype::dtype_f8_e4m3 && weight.shape.size() == 2 &&
                out.size() == static_cast<size_t>(weight.num_elements()),
            "dequantize_fp8: an e4m3 matrix into its element count");
  const int64_t rows = weight.shape[0], cols = weight.shape[1];
  const int64_t block_cols_n = (cols + scales.block_cols - 1) / scales.block_cols;
  for (int64_t r = 0; r < rows; ++r) {
    const float* scale_row = scales.values.data() + (r / scales.block_rows) * block_cols_n;
    for (int64_t c = 0; c < cols; ++c) {
      const auto bits = static_cast<uint8_t>(weight.data[r * cols + c]);
      out[static_cast<size_t>(r * cols + c)] = e4m3_to_f32(bits) * scale_row[c / scales.block_cols];
    }
  }
}

} // namespace proofmesh::engine
