#include "actors/engine/cuda/cuda_ops.hpp"

#include "actors/common/check.hpp"
#include "actors/engine/weights/fp8_weight.hpp"
#include "actors/engine/weights/weight_source.hpp"
#include "kernels/cuda/gather_rows.cuh"
#include "kernels/cuda/gemv.cuh"
#include "kernels/cuda/index_topk.cuh"
#include "kernels/cuda/kv_cache_write.cuh"
#include "kernels/cuda/layer_norm.cuh"
#include "kernels/cuda/mla_attention.cuh"
#include "kernels/cuda/moe.cuh"
#include "kernels/cuda/paged_attention.cuh"
#include "kernels/cuda/rms_norm.cuh"
#include "kernels/cuda/rope.cuh"
#include "kernels/cuda/silu_mul.cuh"

#include <cuda_bf16.h>

namespace proofmesh::engine {

namespace kc = kernels::cuda;

namespace {

template <typename T>
constexpr cudaDataType_t cuda_type() {
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_16BF;
}

template <typename T>
T* rows_of(const tensor& t) {
  return static_cast<T*>(t.data);
}

template <typename T>
const T* values_of(const weight& w) {
  return static_cast<const T*>(w.data);
}

// Attention over an FP8 cache: the step's keys and values quantised into it, then the
// tensor-core kernel widening its tiles. Only bf16 compute gets here (make_cuda_runner checks).
void fp8_cache_attention(const paged_kv_cache& cache, const cuda_step& step, int64_t layer,
                         tensor q, tensor k, tensor v, tensor out, const attention_shape& shape,
                         float* workspace, cudaStream_t stream) {
  using bf16 = __nv_bfloat16;
  auto* k_cache = reinterpret_cast<__nv_fp8_e4m3*>(cache.keys(layer));
  auto* v_cache = reinterpret_cast<__nv_fp8_e4m3*>(cache.values(layer));
  PM_CUDA_CHECK(kc::kv_cache_write_fp8(
      {.k = rows_of<bf16>(k), .v = rows_of<bf16>(v), .k_cache = k_cache, .v_cache = v_cache,
       .k_scales = cache.key_scales(layer), .v_scales = cache.value_scales(layer),
       .slots = step.slots, .tokens = k.rows, .kv_heads = shape.kv_heads,
       .head_dim = shape.head_dim, .src_stride = k.stride, .block_size = cache.block_size(),
       .num_blocks = cache.num_blocks()},
      stream));
  PM_CUDA_CHECK(kc::paged_attention(
      kc::fp8_attention_params{
          .q = rows_of<bf16>(q), .k_cache = k_cache, .v_cache = v_cache,
          .block_tables = step.block_tables, .token_seq = step.token_seq,
          .token_pos = step.positions, .out = rows_of<bf16>(out), .tokens = q.rows,
          .heads = shape.heads, .kv_heads = shape.kv_heads, .head_dim = shape.head_dim,
          .q_stride = q.stride, .out_stride = out.stride, .block_size = cache.block_size(),
          .max_blocks_per_seq = step.max_blocks, .scale = shape.scale,
          .num_splits = step.attention_splits, .workspace = workspace,
          .max_query_tokens = step.max_query_tokens, .k_scales = cache.key_scales(layer),
          .v_scales = cache.value_scales(layer)},
      stream));
}

} // namespace

template <typename T>
cuda_ops<T>::cuda_ops(cudaStream_t stream, kc::gemm_handle& gemm)
    : stream_(stream), gemm_(gemm), upload_(std::make_unique<weight_upload>(stream)),
      timer_(stream) {}

template <typename T>
void cuda_ops<T>::finish_loading() {
  upload_->finish();
  upload_.reset();
}

template <typename T>
weight cuda_ops<T>::load(const weight_source& source, std::span<const weight_part> parts) {
  PM_ASSERT(upload_ != nullptr, "weights load before finish_loading");
  const weight shape = stacked_shape(parts);
  const int64_t rows = shape.rows, cols = shape.cols;
  device_array<T>& out = weights_.emplace_back(static_cast<size_t>(rows * cols));
  // Row-major [rows, cols] parts stack along rows: each lands at its row offset.
  int64_t at = 0;
  for (const weight_part& p : parts) {
    const tensor_view& t = source.fetch(p.name, p.shape);
    if (t.type == dtype::dtype_f8_e4m3) {
      // Dequantised on the device into the compute type as it lands (the FP8 GEMM is later work).
      upload_->copy_fp8(t, read_fp8_scales(source, t, p.fp8.rows, p.fp8.cols), out.get() + at);
    } else {
      upload_->copy(t, out.get() + at);
    }
    source.release(t);
    at += t.num_elements();
  }
  return {.data = out.get(), .rows = rows, .cols = cols};
}

template <typename T>
weight cuda_ops<T>::load_table(std::span<const float> values) {
  device_array<float>& out = tables_.emplace_back(values.size());
  PM_CUDA_CHECK(cudaMemcpy(out.get(), values.data(), values.size_bytes(), cudaMemcpyHostToDevice));
  return {.data = out.get(), .rows = static_cast<int64_t>(values.size()), .cols = 1};
}

template <typename T>
tensor cuda_ops<T>::scratch(int32_t slot, int64_t rows, int64_t cols) {
  if (static_cast<size_t>(slot) >= scratch_.size()) {
    scratch_.resize(static_cast<size_t>(slot) + 1);
  }
  device_array<T>& buffer = scratch_[static_cast<size_t>(slot)];
  grow(buffer, static_cast<size_t>(std::max<int64_t>(1, rows * cols)));
  return {.data = buffer.get(), .rows = rows, .cols = cols, .stride = cols,
          .element_bytes = sizeof(T)};
}

template <typename T>
void cuda_ops<T>::reserve_outputs(int64_t rows, int64_t hidden, int64_t vocab) {
  grow(picked_, static_cast<size_t>(std::max<int64_t>(1, rows * hidden)));
  grow(logits_, static_cast<size_t>(std::max<int64_t>(1, rows * vocab)));
}

template <typename T>
void cuda_ops<T>::reserve_attention(size_t workspace_floats) {
  grow(attention_workspace_, std::max<size_t>(1, workspace_floats));
}

template <typename T>
void cuda_ops<T>::embed(const weight& table, tensor out) {
  const auto timed = timer_.time("embed");
  PM_CUDA_CHECK(kc::gather_rows<T>({.table = values_of<T>(table), .ids = step_.ids,
                                    .out = rows_of<T>(out), .count = out.rows, .dim = out.cols,
                                    .table_stride = table.cols, .num_rows = table.rows},
                                   stream_));
}

template <typename T>
void cuda_ops<T>::rms_norm(tensor x, const tensor* residual, const weight& w, tensor out,
                           float eps) {
  const auto timed = timer_.time("rms_norm");
  PM_ASSERT(x.stride == out.stride && (!residual || residual->stride == x.stride),
            "rms_norm: one row stride");
  PM_CUDA_CHECK(kc::rms_norm<T>({.x = rows_of<T>(x),
                                 .residual = residual ? rows_of<T>(*residual) : nullptr,
                                 .weight = values_of<T>(w), .out = rows_of<T>(out),
                                 .rows = x.rows, .dim = x.cols, .row_stride = x.stride,
                                 .eps = eps},
                                stream_));
}

template <typename T>
void cuda_ops<T>::head_rms_norm(tensor x, int64_t heads, const weight& w, float eps) {
  const auto timed = timer_.time("head_rms_norm");
  PM_CUDA_CHECK(kc::rms_norm<T>({.x = rows_of<T>(x), .residual = nullptr,
                                 .weight = values_of<T>(w), .out = rows_of<T>(x), .rows = x.rows,
                                 .dim = w.rows, .row_stride = x.stride, .eps = eps,
                                 .heads_per_row = heads},
                                stream_));
}

template <typename T>
void cuda_ops<T>::linear(tensor x, const weight& w, const weight& bias, tensor y) {
  const auto timed = timer_.time("linear");
  PM_ASSERT(x.stride == x.cols && y.stride == y.cols && x.cols == w.cols && y.cols == w.rows,
            "linear: contiguous [m, k] · [n, k]ᵀ -> [m, n]");
  matmul(rows_of<T>(x), w, bias.data, y.data, x.rows, cuda_type<T>());
}

template <typename T>
void cuda_ops<T>::rope(tensor x, const rope_shape& shape, const weight& inv_freq) {
  const auto timed = timer_.time("rope");
  PM_CUDA_CHECK(kc::rope<T>({.x = rows_of<T>(x), .positions = step_.positions,
                             .inv_freq = values_of<float>(inv_freq), .tokens = x.rows,
                             .heads = shape.heads, .head_dim = shape.dim,
                             .token_stride = x.stride, .head_stride = shape.head_stride,
                             .interleaved = shape.interleaved, .scale = shape.scale},
                            stream_));
}

template <typename T>
void cuda_ops<T>::layer_norm(tensor x, const weight& w, const weight& bias, tensor out,
                             float eps) {
  const auto timed = timer_.time("layer_norm");
  PM_ASSERT(x.stride == out.stride, "layer_norm: one row stride");
  PM_CUDA_CHECK(kc::layer_norm<T>({.x = rows_of<T>(x), .weight = values_of<T>(w),
                                   .bias = values_of<T>(bias), .out = rows_of<T>(out),
                                   .rows = x.rows, .dim = x.cols, .row_stride = x.stride,
                                   .eps = eps},
                                  stream_));
}

namespace {

// Writes the step's rows of `rows` (width columns) into a keys-only pool at the step's slots.
template <typename T>
void write_rows(tensor rows, std::byte* pool, const cuda_step& step, const paged_kv_cache& cache,
                cudaStream_t stream) {
  PM_CUDA_CHECK(kc::kv_cache_write<T>(
      {.k = rows_of<T>(rows), .v = nullptr, .k_cache = reinterpret_cast<T*>(pool),
       .v_cache = nullptr, .slots = step.slots, .tokens = rows.rows, .kv_heads = 1,
       .head_dim = rows.cols, .src_stride = rows.stride, .block_size = cache.block_size(),
       .num_blocks = cache.num_blocks()},
      stream));
}

// The (token, choice) pairs of a step grouped by expert, in token order within each expert.
struct expert_groups {
  std::vector<int64_t> first;  // [experts + 1] each expert's first row in the sorted order
  std::vector<int32_t> index;  // sorted tokens [pairs] | row of each (token, choice) [pairs]
};

expert_groups group_by_expert(const std::vector<int32_t>& ids, int64_t experts, int64_t k) {
  const auto pairs = static_cast<int64_t>(ids.size());
  expert_groups g{.first = std::vector<int64_t>(static_cast<size_t>(experts + 1), 0),
                  .index = std::vector<int32_t>(static_cast<size_t>(2 * pairs))};
  for (int32_t e : ids) {
    ++g.first[static_cast<size_t>(e) + 1];
  }
  for (size_t e = 1; e < g.first.size(); ++e) {
    g.first[e] += g.first[e - 1];
  }
  std::vector<int64_t> next(g.first.begin(), g.first.end() - 1);
  for (int64_t i = 0; i < pairs; ++i) {
    const int64_t row = next[static_cast<size_t>(ids[static_cast<size_t>(i)])]++;
    g.index[static_cast<size_t>(row)] = static_cast<int32_t>(i / k);
    g.index[static_cast<size_t>(pairs + i)] = static_cast<int32_t>(row);
  }
  return g;
}

} // namespace

template <typename T>
void cuda_ops<T>::mla_attention(int64_t layer, tensor q, tensor latent, const weight& kv_b,
                                tensor out, const mla_shape& shape) {
  const auto timed = timer_.time("mla_attention");
  PM_ASSERT(latent.cols == shape.latent_dim + shape.rope_dim, "latent rows: latent | rope key");
  PM_ASSERT(!shape.sparse || selected_topk_ > 0, "sparse attention after index_select");
  std::byte* pool = cache_->keys(layer);
  write_rows<T>(latent, pool, step_, *cache_, stream_);
  kc::mla_attention_params<T> p{
      .q = rows_of<T>(q), .kv_b = values_of<T>(kv_b), .cache = reinterpret_cast<const T*>(pool),
      .block_tables = step_.block_tables, .token_seq = step_.token_seq,
      .token_pos = step_.positions, .selected = shape.sparse ? selected_.get() : nullptr,
      .out = rows_of<T>(out), .workspace = nullptr, .tokens = q.rows, .heads = shape.heads,
      .nope = shape.nope_dim, .rope = shape.rope_dim, .v = shape.v_dim,
      .latent = shape.latent_dim, .q_stride = q.stride, .out_stride = out.stride,
      .block_size = cache_->block_size(), .max_blocks_per_seq = step_.max_blocks,
      .topk = selected_topk_, .scale = shape.scale};
  grow(mla_workspace_, std::max<size_t>(1, kc::mla_attention_workspace_floats(p)));
  p.workspace = mla_workspace_.get();
  PM_CUDA_CHECK(kc::mla_attention<T>(gemm_, p, stream_));
}

template <typename T>
void cuda_ops<T>::index_select(int64_t layer, tensor q, tensor k, tensor head_weights,
                               const index_shape& shape) {
  const auto timed = timer_.time("index_select");
  std::byte* pool = cache_->index_keys(layer);
  write_rows<T>(k, pool, step_, *cache_, stream_);
  const int64_t max_positions = step_.max_blocks * cache_->block_size();
  grow(index_scores_, std::max<size_t>(1, static_cast<size_t>(q.rows * max_positions)));
  grow(selected_, std::max<size_t>(1, static_cast<size_t>(q.rows * shape.topk)));
  selected_topk_ = shape.topk;
  PM_CUDA_CHECK(kc::index_topk<T>(
      {.q = rows_of<T>(q), .keys = reinterpret_cast<const T*>(pool),
       .weights = rows_of<T>(head_weights), .block_tables = step_.block_tables,
       .token_seq = step_.token_seq, .token_pos = step_.positions, .selected = selected_.get(),
       .scores = index_scores_.get(), .tokens = q.rows, .heads = shape.heads,
       .head_dim = shape.head_dim, .topk = shape.topk, .q_stride = q.stride,
       .weights_stride = head_weights.stride, .block_size = cache_->block_size(),
       .max_blocks_per_seq = step_.max_blocks, .max_positions = max_positions,
       .scale = shape.scale, .weight_scale = shape.weight_scale},
      stream_));
}

// Route on the device; read the choice back and sort the (token, choice) pairs by expert on the
// host; gather the tokens in that order; two cuBLASLt GEMMs per expert that has tokens (SiLU·mul
// between, over all pairs at once); then add each token's weighted expert outputs to `out`.
template <typename T>
void cuda_ops<T>::moe(tensor x, const moe_weights& w, const moe_shape& shape, tensor out) {
  const auto timed = timer_.time("moe");
  const int64_t tokens = x.rows, hidden = x.cols, k = shape.per_token, inter = shape.intermediate;
  const int64_t pairs = tokens * k;
  PM_ASSERT(x.stride == x.cols && out.cols == hidden, "moe: contiguous x, out like x");
  if (tokens == 0) {
    return;
  }
  grow(router_logits_, static_cast<size_t>(tokens * shape.experts));
  matmul(rows_of<T>(x), w.router, nullptr, router_logits_.get(), tokens, CUDA_R_32F);
  grow(route_ids_, static_cast<size_t>(pairs));
  grow(route_weights_, static_cast<size_t>(pairs));
  PM_CUDA_CHECK(kc::moe_route({.logits = router_logits_.get(),
                               .bias = values_of<float>(w.correction_bias),
                               .experts_out = route_ids_.get(),
                               .weights_out = route_weights_.get(), .tokens = tokens,
                               .experts = shape.experts, .per_token = k, .groups = shape.groups,
                               .groups_kept = shape.groups_kept, .scaling = shape.scaling,
                               .normalize = shape.normalize},
                              stream_));
  std::vector<int32_t> ids(static_cast<size_t>(pairs));
  PM_CUDA_CHECK(cudaMemcpyAsync(ids.data(), route_ids_.get(), ids.size() * sizeof(int32_t),
                                cudaMemcpyDeviceToHost, stream_));
  PM_CUDA_CHECK(cudaStreamSynchronize(stream_));
  const expert_groups groups = group_by_expert(ids, shape.experts, k);
  const std::vector<int32_t>& index = groups.index;
  grow(moe_index_, index.size());
  PM_CUDA_CHECK(cudaMemcpyAsync(moe_index_.get(), index.data(), index.size() * sizeof(int32_t),
                                cudaMemcpyHostToDevice, stream_));
  grow(moe_x_, static_cast<size_t>(pairs * hidden));
  grow(moe_gate_up_, static_cast<size_t>(pairs * 2 * inter));
  grow(moe_act_, static_cast<size_t>(pairs * inter));
  grow(moe_y_, static_cast<size_t>(pairs * hidden));
  PM_CUDA_CHECK(kc::gather_rows<T>({.table = rows_of<T>(x), .ids = moe_index_.get(),
                                    .out = moe_x_.get(), .count = pairs, .dim = hidden,
                                    .table_stride = x.stride, .num_rows = tokens},
                                   stream_));
  // y = x · W[e]ᵀ for every expert with tokens: W stacks each expert's [out_cols, in_cols].
  auto per_expert = [&](const weight& stacked, const T* x_rows, T* y_rows, int64_t in_cols,
                        int64_t out_cols) {
    for (int64_t e = 0; e < shape.experts; ++e) {
      const int64_t begin = groups.first[static_cast<size_t>(e)];
      const int64_t rows = groups.first[static_cast<size_t>(e) + 1] - begin;
      if (rows > 0) {
        const weight mine{.data = values_of<T>(stacked) + e * out_cols * in_cols,
                          .rows = out_cols, .cols = in_cols};
        matmul(x_rows + begin * in_cols, mine, nullptr, y_rows + begin * out_cols, rows,
               cuda_type<T>());
      }
    }
  };
  per_expert(w.gate_up, moe_x_.get(), moe_gate_up_.get(), hidden, 2 * inter);
  PM_CUDA_CHECK(kc::silu_mul<T>({.gate_up = moe_gate_up_.get(), .out = moe_act_.get(),
                                 .tokens = pairs, .inter = inter},
                                stream_));
  per_expert(w.down, moe_act_.get(), moe_y_.get(), inter, hidden);
  PM_CUDA_CHECK(kc::moe_combine<T>({.y = moe_y_.get(), .rows = moe_index_.get() + pairs,
                                    .weights = route_weights_.get(), .out = rows_of<T>(out),
                                    .tokens = tokens, .per_token = k, .hidden = hidden,
                                    .out_stride = out.stride},
                                   stream_));
}

template <typename T>
void cuda_ops<T>::attention(int64_t layer, tensor q, tensor k, tensor v, tensor out,
                            const attention_shape& shape) {
  const auto timed = timer_.time("attention");
  PM_ASSERT(k.stride == v.stride, "keys and values share a row stride");
  if (cache_->fp8()) {
    PM_ASSERT((std::is_same_v<T, __nv_bfloat16>), "an FP8 KV cache computes in bf16");
    fp8_cache_attention(*cache_, step_, layer, q, k, v, out, shape, attention_workspace_.get(),
                        stream_);
    return;
  }
  T* k_cache = reinterpret_cast<T*>(cache_->keys(layer));
  T* v_cache = reinterpret_cast<T*>(cache_->values(layer));
  PM_CUDA_CHECK(kc::kv_cache_write<T>(
      {.k = rows_of<T>(k), .v = rows_of<T>(v), .k_cache = k_cache, .v_cache = v_cache,
       .slots = step_.slots, .tokens = k.rows, .kv_heads = shape.kv_heads,
       .head_dim = shape.head_dim, .src_stride = k.stride, .block_size = cache_->block_size(),
       .num_blocks = cache_->num_blocks()},
      stream_));
  PM_CUDA_CHECK(kc::paged_attention<T>(
      {.q = rows_of<T>(q), .k_cache = k_cache, .v_cache = v_cache,
       .block_tables = step_.block_tables, .token_seq = step_.token_seq,
       .token_pos = step_.positions, .out = rows_of<T>(out), .tokens = q.rows,
       .heads = shape.heads, .kv_heads = shape.kv_heads, .head_dim = shape.head_dim,
       .q_stride = q.stride, .out_stride = out.stride, .block_size = cache_->block_size(),
       .max_blocks_per_seq = step_.max_blocks, .scale = shape.scale,
       .num_splits = step_.attention_splits, .workspace = attention_workspace_.get(),
       .max_query_tokens = step_.max_query_tokens},
      stream_));
}

template <typename T>
void cuda_ops<T>::silu_mul(tensor gate_up, tensor out) {
  const auto timed = timer_.time("silu_mul");
  PM_ASSERT(gate_up.stride == 2 * out.cols && out.stride == out.cols,
            "silu_mul: contiguous gate|up rows");
  PM_CUDA_CHECK(kc::silu_mul<T>({.gate_up = rows_of<T>(gate_up), .out = rows_of<T>(out),
                                 .tokens = out.rows, .inter = out.cols},
                                stream_));
}

// One and two rows take gemv's gated form: a warp computes a feature's gate and up rows and
// writes its activation, the bits the gate_up gemv and the silu_mul kernel would give, in one
// kernel instead of two. Timed as the linear it mostly is.
template <typename T>
void cuda_ops<T>::mlp_activation(tensor x, const weight& w, tensor gate_up, tensor act) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    const kc::gemv_params g{.x = rows_of<T>(x), .w = values_of<T>(w), .bias = nullptr,
                            .y = act.data, .m = x.rows, .n = w.rows, .k = w.cols,
                            .out_type = CUDA_R_16BF, .gated = true};
    if (x.rows <= kc::max_gated_gemv_rows && x.stride == x.cols && x.cols == w.cols &&
        act.stride == act.cols && 2 * act.cols == w.rows && kc::gemv_supports(g)) {
      const auto timed = timer_.time("linear");
      PM_CUDA_CHECK(kc::gemv(g, stream_));
      return;
    }
  }
  ops::mlp_activation(x, w, gate_up, act);
}

template <typename T>
void cuda_ops<T>::logits(tensor x, const weight& head) {
  const auto timed = timer_.time("logits");
  PM_CUDA_CHECK(kc::gather_rows<T>({.table = rows_of<T>(x), .ids = step_.logit_rows,
                                    .out = picked_.get(), .count = step_.rows, .dim = x.cols,
                                    .table_stride = x.stride, .num_rows = x.rows},
                                   stream_));
  matmul(picked_.get(), head, nullptr, logits_.get(), step_.rows, CUDA_R_32F);
}

// Small bf16 batches take the GEMV kernel (weight-bandwidth bound, where cuBLASLt leaves
// bandwidth unused: see bench/engine/kernel_lab); everything else, and the float32 exactness
// path, takes cuBLASLt.
template <typename T>
void cuda_ops<T>::matmul(const T* x, const weight& w, const void* bias, void* y, int64_t m,
                         cudaDataType_t out_type) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    // The lab: gemv beats cuBLASLt at 1 and 2 rows on every decode shape, and loses from 4.
    constexpr int64_t gemv_rows = 2;
    const kc::gemv_params g{.x = x, .w = values_of<T>(w), .bias = bias, .y = y, .m = m,
                            .n = w.rows, .k = w.cols, .out_type = out_type};
    if (m <= gemv_rows && kc::gemv_supports(g)) {
      PM_CUDA_CHECK(kc::gemv(g, stream_));
      return;
    }
  }
  PM_CUDA_CHECK(kc::gemm(gemm_,
                         {.x = x, .w = w.data, .bias = bias, .y = y, .m = m, .n = w.rows,
                          .k = w.cols, .a_type = cuda_type<T>(), .out_type = out_type},
                         stream_));
}

template class cuda_ops<float>;
template class cuda_ops<__nv_bfloat16>;

} // namespace proofmesh::engine
