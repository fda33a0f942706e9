#include "actors/engine/model/cpu_ops.hpp"

#include "actors/common/check.hpp"
#include "actors/common/error.hpp"
#include "actors/engine/weights/fp8_weight.hpp"
#include "actors/engine/weights/half_precision.hpp"
#include "actors/engine/weights/weight_source.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/index_topk.hpp"
#include "kernels/cpu/layer_norm.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/mla_attention.hpp"
#include "kernels/cpu/moe_route.hpp"
#include "kernels/cpu/rms_norm.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu/silu_mul.hpp"

#include <algorithm>
#include <cstring>

namespace proofmesh::engine {

namespace cpu = kernels::cpu;

namespace {

float* rows_of(const tensor& t) { return static_cast<float*>(t.data); }

// Appends the first `width` columns of `rows`' rows for `item`'s new tokens to a cache.
void append_rows(std::vector<float>& cache, const tensor& rows, const cpu_step_item& item,
                 int64_t width) {
  for (int64_t t = 0; t < item.tokens; ++t) {
    const float* r = rows_of(rows) + (item.first_row + t) * rows.stride;
    cache.insert(cache.end(), r, r + width);
  }
}
const float* values_of(const weight& w) { return static_cast<const float*>(w.data); }

// The last `rows` rows of a cache as the FP8 cache holds them, in place: each head of each row
// becomes its e4m3 codes times its scale (quantise_e4m3).
void round_as_fp8(std::vector<float>& cache, int64_t rows, int64_t kv_heads, int64_t head_dim) {
  float* first = cache.data() + cache.size() - static_cast<size_t>(rows * kv_heads * head_dim);
  std::vector<uint8_t> codes(static_cast<size_t>(head_dim));
  for (int64_t h = 0; h < rows * kv_heads; ++h) {
    const std::span<float> x(first + h * head_dim, static_cast<size_t>(head_dim));
    const float scale = quantise_e4m3(x, codes);
    for (size_t d = 0; d < x.size(); ++d) {
      x[d] = e4m3_to_f32(codes[d]) * scale;
    }
  }
}

} // namespace

weight cpu_ops::load(const weight_source& source, std::span<const weight_part> parts) {
  const weight shape = stacked_shape(parts);
  const int64_t rows = shape.rows, cols = shape.cols;
  std::vector<float>& values = weights_.emplace_back(static_cast<size_t>(rows * cols));
  size_t at = 0;
  for (const weight_part& p : parts) {
    const tensor_view& t = source.fetch(p.name, p.shape);
    const auto n = static_cast<size_t>(t.num_elements());
    if (t.type == dtype::dtype_f8_e4m3) {
      dequantize_fp8(t, read_fp8_scales(source, t, p.fp8.rows, p.fp8.cols),
                     std::span(values).subspan(at, n));
    } else {
      to_f32(t, std::span(values).subspan(at, n));
    }
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

void cpu_ops::layer_norm(tensor x, const weight& w, const weight& bias, tensor out, float eps) {
  PM_ASSERT(x.stride == out.stride, "layer_norm: one row stride");
  cpu::layer_norm({.x = rows_of(x), .weight = values_of(w), .bias = values_of(bias),
                   .out = rows_of(out), .rows = x.rows, .dim = x.cols, .row_stride = x.stride,
                   .eps = eps});
}

void cpu_ops::rope(tensor x, const rope_shape& shape, const weight& inv_freq) {
  cpu::rope({.x = rows_of(x), .positions = step_.positions.data(),
             .inv_freq = values_of(inv_freq), .tokens = x.rows, .heads = shape.heads,
             .head_dim = shape.dim, .head_stride = shape.head_stride, .token_stride = x.stride,
             .interleaved = shape.interleaved, .scale = shape.scale});
}

void cpu_ops::attention(int64_t layer, tensor q, tensor k, tensor v, tensor out,
                        const attention_shape& shape) {
  const int64_t kv_dim = shape.kv_heads * shape.head_dim;
  const auto li = static_cast<size_t>(layer);
  for (const cpu_step_item& item : step_.items) {
    std::vector<float>& keys = item.kv->keys[li];
    std::vector<float>& values = item.kv->values[li];
    append_rows(keys, k, item, kv_dim);
    append_rows(values, v, item, kv_dim);
    if (fp8_kv_cache_) {
      round_as_fp8(keys, item.tokens, shape.kv_heads, shape.head_dim);
      round_as_fp8(values, item.tokens, shape.kv_heads, shape.head_dim);
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

void cpu_ops::mla_attention(int64_t layer, tensor q, tensor latent, const weight& kv_b,
                            tensor out, const mla_shape& shape) {
  const int64_t row = shape.latent_dim + shape.rope_dim;
  PM_ASSERT(latent.cols == row, "mla_attention: latent rows are latent | rope key");
  PM_ASSERT(!shape.sparse || selected_topk_ > 0, "sparse attention after index_select");
  const auto li = static_cast<size_t>(layer);
  for (const cpu_step_item& item : step_.items) {
    std::vector<float>& cache = item.kv->keys[li];
    append_rows(cache, latent, item, row);
    cpu::mla_attention({.q = rows_of(q) + item.first_row * q.stride,
                        .cache = cache.data(),
                        .kv_b = values_of(kv_b),
                        .selected = shape.sparse ? selected_.data() + item.first_row * selected_topk_
                                                 : nullptr,
                        .out = rows_of(out) + item.first_row * out.stride,
                        .tokens = item.tokens,
                        .first_position = item.kv->length,
                        .heads = shape.heads,
                        .nope = shape.nope_dim,
                        .rope = shape.rope_dim,
                        .v = shape.v_dim,
                        .latent = shape.latent_dim,
                        .q_stride = q.stride,
                        .out_stride = out.stride,
                        .selected_stride = selected_topk_,
                        .scale = shape.scale});
  }
}

void cpu_ops::index_select(int64_t layer, tensor q, tensor k, tensor head_weights,
                           const index_shape& shape) {
  PM_ASSERT(k.cols == shape.head_dim && q.cols == shape.heads * shape.head_dim,
            "index_select: q [tokens, heads * head_dim], k [tokens, head_dim]");
  selected_topk_ = shape.topk;
  selected_.assign(static_cast<size_t>(q.rows * shape.topk), -1);
  const auto li = static_cast<size_t>(layer);
  for (const cpu_step_item& item : step_.items) {
    std::vector<float>& keys = item.kv->index_keys[li];
    append_rows(keys, k, item, shape.head_dim);
    cpu::index_topk({.q = rows_of(q) + item.first_row * q.stride,
                     .keys = keys.data(),
                     .weights = rows_of(head_weights) + item.first_row * head_weights.stride,
                     .selected = selected_.data() + item.first_row * shape.topk,
                     .tokens = item.tokens,
                     .first_position = item.kv->length,
                     .heads = shape.heads,
                     .head_dim = shape.head_dim,
                     .topk = shape.topk,
                     .q_stride = q.stride,
                     .weights_stride = head_weights.stride,
                     .scale = shape.scale,
                     .weight_scale = shape.weight_scale});
  }
}

// Per token: route in float32, then each chosen expert's down(silu(gate x) * up x), weighted.
void cpu_ops::moe(tensor x, const moe_weights& w, const moe_shape& shape, tensor out) {
  const int64_t hidden = x.cols, inter = shape.intermediate;
  PM_ASSERT(x.stride == x.cols && out.cols == hidden && w.router.rows == shape.experts,
            "moe: contiguous x, out like x");
  std::vector<float> logits(static_cast<size_t>(x.rows * shape.experts));
  cpu::matmul({.x = rows_of(x), .w = values_of(w.router), .bias = nullptr, .y = logits.data(),
               .m = x.rows, .n = shape.experts, .k = hidden});
  std::vector<int32_t> chosen(static_cast<size_t>(x.rows * shape.per_token));
  std::vector<float> weights(chosen.size());
  cpu::moe_route({.logits = logits.data(), .bias = values_of(w.correction_bias),
                  .experts_out = chosen.data(), .weights_out = weights.data(), .tokens = x.rows,
                  .experts = shape.experts, .per_token = shape.per_token, .groups = shape.groups,
                  .groups_kept = shape.groups_kept, .scaling = shape.scaling,
                  .normalize = shape.normalize});
  std::vector<float> gate_up(static_cast<size_t>(2 * inter)), act(static_cast<size_t>(inter));
  std::vector<float> y(static_cast<size_t>(hidden));
  for (int64_t t = 0; t < x.rows; ++t) {
    const float* xt = rows_of(x) + t * x.stride;
    float* ot = rows_of(out) + t * out.stride;
    for (int64_t k = 0; k < shape.per_token; ++k) {
      const int64_t e = chosen[static_cast<size_t>(t * shape.per_token + k)];
      cpu::matmul({.x = xt, .w = values_of(w.gate_up) + e * 2 * inter * hidden, .bias = nullptr,
                   .y = gate_up.data(), .m = 1, .n = 2 * inter, .k = hidden});
      cpu::silu_mul({.gate = gate_up.data(), .up = gate_up.data() + inter, .out = act.data(),
                     .n = inter});
      cpu::matmul({.x = act.data(), .w = values_of(w.down) + e * hidden * inter, .bias = nullptr,
                   .y = y.data(), .m = 1, .n = hidden, .k = inter});
      const float wk = weights[static_cast<size_t>(t * shape.per_token + k)];
      for (int64_t d = 0; d < hidden; ++d) {
        ot[d] += wk * y[static_cast<size_t>(d)];
      }
    }
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
