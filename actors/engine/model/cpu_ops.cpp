#include "actors/engine/model/cpu_ops.hpp"

#include "actors/common/check.hpp"
#include "actors/common/error.hpp"
#include "actors/engine/weights/weight_source.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/rms_norm.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu/silu_mul.hpp"

#include <cstring>

namespace proofmesh::engine {

namespace cpu = kernels::cpu;

namespace {

float* rows_of(const tensor& t) { return static_cast<float*>(t.data); }
const float* values_of(const weight& w) { return static_cast<const float*>(w.data); }

} // namespace

weight cpu_ops::load(const weight_source& source, std::span<const weight_part> parts) {
  const weight shape = stacked_shape(parts);
  const int64_t rows = shape.rows, cols = shape.cols;
  std::vector<float>& values = weights_.emplace_back(static_cast<size_t>(rows * cols));
  size_t at = 0;
  for (const weight_part& p : parts) {
    const tensor_view& t = source.fetch(p.name, p.shape);
    const auto n = static_cast<size_t>(t.num_elements());
    to_f32(t, std::span(values).subspan(at, n));
    source.release(t);
    at += n;
  }
  return {.data = values.data(), .rows = rows, .cols = cols};
}

weight cpu_ops::load_table(std::span<const float> values) {
  std::vector<float>& kept = weights_.emplace_back(values.begin(), values.end());
  return {.data = kept.data(), .rows = static_cast<int64_t>(kept.size()), .cols = 1};
}

tensor cpu_ops::scratch(int32_t slot, int64_t rows, int64_t cols) {
  if (static_cast<size_t>(slot) >= scratch_.size()) {
    scratch_.resize(static_cast<size_t>(slot) + 1);
  }
  std::vector<float>& buffer = scratch_[static_cast<size_t>(slot)];
  buffer.resize(std::max(buffer.size(), static_cast<size_t>(rows * cols)));
  return {.data = buffer.data(), .rows = rows, .cols = cols, .stride = cols,
          .element_bytes = sizeof(float)};
}

void cpu_ops::embed(const weight& table, tensor out) {
  PM_ASSERT(static_cast<int64_t>(step_.ids.size()) == out.rows && table.cols == out.cols,
            "embed: one row per step token");
  for (int64_t r = 0; r < out.rows; ++r) {
    const int32_t id = step_.ids[static_cast<size_t>(r)];
    PM_ASSERT(id >= 0 && id < table.rows, "token id checked by the caller");
    std::memcpy(rows_of(out) + r * out.stride, values_of(table) + id * table.cols,
                sizeof(float) * static_cast<size_t>(out.cols));
  }
}

void cpu_ops::rms_norm(tensor x, const tensor* residual, const weight& w, tensor out, float eps) {
  PM_ASSERT(x.stride == out.stride && (!residual || residual->stride == x.stride),
            "rms_norm: one row stride");
  cpu::rms_norm({.x = rows_of(x), .residual = residual ? rows_of(*residual) : nullptr,
                 .weight = values_of(w), .out = rows_of(out), .rows = x.rows, .dim = x.cols,
                 .row_stride = x.stride, .eps = eps});
}

void cpu_ops::head_rms_norm(tensor x, int64_t heads, const weight& w, float eps) {
  for (int64_t r = 0; r < x.rows; ++r) {
    float* row = rows_of(x) + r * x.stride;
    cpu::rms_norm({.x = row, .residual = nullptr, .weight = values_of(w), .out = row,
                   .rows = heads, .dim = w.rows, .row_stride = w.rows, .eps = eps});
  }
}

void cpu_ops::linear(tensor x, const weight& w, const weight& bias, tensor y) {
  PM_ASSERT(x.stride == x.cols && y.stride == y.cols && x.cols == w.cols && y.cols == w.rows,
            "linear: contiguous [m, k] · [n, k]ᵀ -> [m, n]");
  cpu::matmul({.x = rows_of(x), .w = values_of(w),
               .bias = bias.empty() ? nullptr : values_of(bias), .y = rows_of(y), .m = x.rows,
               .n = w.rows, .k = w.cols});
}

void cpu_ops::rope(tensor x, int64_t heads, int64_t head_dim, const weight& inv_freq) {
  cpu::rope({.x = rows_of(x), .positions = step_.positions.data(),
             .inv_freq = values_of(inv_freq), .tokens = x.rows, .heads = heads,
             .head_dim = head_dim, .token_stride = x.stride});
}

void cpu_ops::attention(int64_t layer, tensor q, tensor k, tensor v, tensor out,
                        const attention_shape& shape) {
  const int64_t kv_dim = shape.kv_heads * shape.head_dim;
  const auto li = static_cast<size_t>(layer);
  for (const cpu_step_item& item : step_.items) {
    std::vector<float>& keys = item.kv->keys[li];
    std::vector<float>& values = item.kv->values[li];
    for (int64_t t = 0; t < item.tokens; ++t) {
      const float* krow = rows_of(k) + (item.first_row + t) * k.stride;
      const float* vrow = rows_of(v) + (item.first_row + t) * v.stride;
      keys.insert(keys.end(), krow, krow + kv_dim);
      values.insert(values.end(), vrow, vrow + kv_dim);
    }
    cpu::attention({.q = rows_of(q) + item.first_row * q.stride,
                    .k_cache = keys.data(),
                    .v_cache = values.data(),
                    .out = rows_of(out) + item.first_row * out.stride,
                    .tokens = item.tokens,
                    .first_position = item.kv->length,
                    .heads = shape.heads,
                    .kv_heads = shape.kv_heads,
                    .head_dim = shape.head_dim,
                    .q_stride = q.stride,
                    .out_stride = out.stride,
                    .scale = shape.scale});
  }
}

void cpu_ops::silu_mul(tensor gate_up, tensor out) {
  for (int64_t r = 0; r < out.rows; ++r) {
    const float* row = rows_of(gate_up) + r * gate_up.stride;
    cpu::silu_mul({.gate = row, .up = row + out.cols, .out = rows_of(out) + r * out.stride,
                   .n = out.cols});
  }
}

void cpu_ops::logits(tensor x, const weight& head) {
  const auto rows = static_cast<int64_t>(step_.logit_rows.size());
  picked_.resize(static_cast<size_t>(rows * x.cols));
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(picked_.data() + r * x.cols,
                rows_of(x) + step_.logit_rows[static_cast<size_t>(r)] * x.stride,
                sizeof(float) * static_cast<size_t>(x.cols));
  }
  logits_.resize(static_cast<size_t>(rows * head.rows));
  cpu::matmul({.x = picked_.data(), .w = values_of(head), .bias = nullptr,
               .y = logits_.data(), .m = rows, .n = head.rows, .k = head.cols});
}

} // namespace proofmesh::engine
