#include "actors/engine/cuda/cuda_runner.hpp"

#include "actors/common/check.hpp"
#include "actors/common/error.hpp"
#include "actors/engine/cuda/cuda_weights.hpp"
#include "actors/engine/cuda/decode_graphs.hpp"
#include "actors/engine/cuda/paged_kv_cache.hpp"
#include "actors/engine/cuda/pinned_array.hpp"
#include "kernels/cuda/gather_rows.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/gemv.cuh"
#include "kernels/cuda/kv_cache_write.cuh"
#include "kernels/cuda/paged_attention.cuh"
#include "kernels/cuda/rms_norm.cuh"
#include "kernels/cuda/rope.cuh"
#include "kernels/cuda/sample.cuh"
#include "kernels/cuda/silu_mul.cuh"
#include "kernels/cpu/rope.hpp"

#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>

namespace proofmesh::engine {

namespace kc = kernels::cuda;

namespace {

template <typename T>
constexpr cudaDataType_t cuda_type() {
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_16BF;
}

// The host plan of one forward call: what every kernel of the step reads.
struct step_plan {
  std::vector<int32_t> ids;          // [tokens]
  std::vector<int32_t> positions;    // [tokens]
  std::vector<int32_t> token_seq;    // [tokens] index into the batch
  std::vector<int32_t> slots;        // [tokens] KV cache slots
  std::vector<int32_t> block_tables; // [batch, max_blocks]
  std::vector<int32_t> logit_rows;   // [rows] tokens whose logits the caller wants
  int64_t max_blocks = 0;            // row length of block_tables
  int64_t out_rows = 0;              // logit rows the caller reads (padding excluded)
  int64_t graph_bucket = 0;          // > 0: a padded decode step replayed from a graph
  int32_t attention_splits = 1;      // flash-decoding key ranges (paged_attention_splits)
};

// A decode step: one new token per item, logits of that token only.
bool is_decode(std::span<const runner_item> batch) {
  return std::all_of(batch.begin(), batch.end(), [](const runner_item& item) {
    return item.tokens.size() == 1 && !item.all_logits;
  });
}

// Pads a decode plan to its graph bucket and table width. Padded tokens belong to sequence 0 at
// position 0 (a valid read of one cached key) and store nothing (slot -1); their logit rows are
// computed and ignored.
void pad_to_graph(step_plan& plan, int64_t bucket) {
  const auto real = static_cast<int64_t>(plan.ids.size());
  const int64_t width = decode_graphs::width_for(plan.max_blocks);
  const auto b = static_cast<size_t>(bucket);
  plan.ids.resize(b, 0);
  plan.positions.resize(b, 0);
  plan.token_seq.resize(b, 0);
  plan.slots.resize(b, -1);
  for (int64_t r = real; r < bucket; ++r) {
    plan.logit_rows.push_back(static_cast<int32_t>(r));
  }
  std::vector<int32_t> tables(b * static_cast<size_t>(width), 0);
  for (int64_t r = 0; r < real; ++r) {
    std::copy_n(plan.block_tables.begin() + r * plan.max_blocks, plan.max_blocks,
                tables.begin() + r * width);
  }
  plan.block_tables = std::move(tables);
  plan.max_blocks = width;
  plan.graph_bucket = bucket;
}

template <typename T>
class runner_impl final : public model_runner {
public:
  runner_impl(const model_config& config, const model_weights& weights,
              const cuda_runner_params& params)
      : config_(config), use_graphs_(params.cuda_graphs) {
    PM_CUDA_CHECK(cudaSetDevice(params.device));
    PM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    PM_CUDA_CHECK(kc::gemm_handle_create(gemm_));
    PM_CUDA_CHECK(cudaDeviceGetAttribute(&num_sms_, cudaDevAttrMultiProcessorCount, params.device));
    weights_ = upload_weights<T>(config, weights);
    const rope_config& r = config.rope;
    std::vector<float> inv_freq = kernels::cpu::rope_inv_freq(
        {.head_dim = config.head_dim, .theta = r.theta,
         .llama3 = r.kind == rope_kind::rope_kind_llama3, .factor = r.factor,
         .low_freq_factor = r.low_freq_factor, .high_freq_factor = r.high_freq_factor,
         .original_max_position = static_cast<double>(r.original_max_position_embeddings)});
    inv_freq_.reserve(inv_freq.size());
    PM_CUDA_CHECK(cudaMemcpy(inv_freq_.get(), inv_freq.data(), inv_freq.size() * sizeof(float),
                             cudaMemcpyHostToDevice));
    cache_ = std::make_unique<paged_kv_cache>(paged_kv_cache_params{
        .num_layers = config.num_hidden_layers,
        .kv_heads = config.num_key_value_heads,
        .head_dim = config.head_dim,
        .block_size = params.block_size,
        .num_blocks = pool_blocks(params),
        .element_bytes = sizeof(T)});
  }

  ~runner_impl() override {
    cache_.reset();
    kc::gemm_handle_destroy(gemm_);
    cudaStreamDestroy(stream_);
  }

  const model_config& config() const override { return config_; }
  sequence_id create_sequence() override { return cache_->create(); }
  sequence_id fork_sequence(sequence_id parent) override { return cache_->fork(parent); }
  void release_sequence(sequence_id seq) override { cache_->release(seq); }
  std::optional<sequence_id> fork_prefix(sequence_id parent, int64_t length) override {
    return cache_->fork(parent, length);
  }
  int64_t adopt_cached_prefix(sequence_id seq, std::span<const int32_t> tokens) override {
    return cache_->match_prefix(seq, tokens);
  }
  runner_stats stats() const override {
    return {.prefix_hit_tokens = cache_->prefix_hit_tokens(),
            .free_kv_blocks = cache_->num_free_blocks(),
            .graph_steps = graph_steps_,
            .graph_captures = graphs_.num_captured()};
  }

  std::vector<float> forward(std::span<const runner_item> batch) override {
    step_plan plan = make_plan(batch);
    execute(plan);
    return download_logits(plan);
  }

  bool samples_on_device() const override { return true; }

  // Forward, then the sampling kernel on the logits rows: only tokens and top-k logprobs cross
  // to the host.
  std::vector<sample_result> forward_sample(std::span<const runner_item> batch,
                                            std::span<const sample_spec> specs) override {
    PM_ASSERT(batch.size() == specs.size(), "one sample spec per item");
    for (const runner_item& item : batch) {
      PM_ASSERT(!item.all_logits, "sampling reads the last position only");
    }
    step_plan plan = make_plan(batch);
    execute(plan);
    const auto rows = static_cast<int64_t>(batch.size());
    int32_t k = 0;
    host_specs_.reserve(specs.size());
    for (size_t r = 0; r < specs.size(); ++r) {
      const sample_spec& s = specs[r];
      k = std::max(k, s.params.num_logprobs);
      host_specs_.get()[r] = kc::sample_row_params({.temperature = s.params.temperature, .top_k = s.params.top_k,
                             .top_p = s.params.top_p, .seed = s.params.seed,
                             .stream = s.stream, .step = s.step});
    }
    if (k > kc::max_sample_logprobs) {
      throw input_error("at most " + std::to_string(kc::max_sample_logprobs) +
                        " logprobs per token on the cuda backend");
    }
    specs_.reserve(specs.size());
    sampled_.reserve(static_cast<size_t>(rows * (1 + k)));
    sampled_logprobs_.reserve(static_cast<size_t>(std::max<int64_t>(1, rows * k)));
    PM_CUDA_CHECK(cudaMemcpyAsync(specs_.get(), host_specs_.get(),
                                  specs.size() * sizeof(kc::sample_row_params),
                                  cudaMemcpyHostToDevice, stream_));
    int32_t* tokens = sampled_.get();
    sample_workspace_.reserve(kc::sample_workspace_bytes(rows));
    PM_CUDA_CHECK(kc::sample({.logits = logits_.get(), .params = specs_.get(), .tokens = tokens,
                              .top_ids = k ? tokens + rows : nullptr,
                              .top_logprobs = k ? sampled_logprobs_.get() : nullptr,
                              .rows = rows, .vocab = config_.vocab_size, .num_logprobs = k,
                              .workspace = sample_workspace_.get()},
                             stream_));
    std::vector<int32_t> ids(static_cast<size_t>(rows * (1 + k)));
    std::vector<float> logprobs(static_cast<size_t>(rows * k));
    PM_CUDA_CHECK(cudaMemcpyAsync(ids.data(), tokens, ids.size() * sizeof(int32_t),
                                  cudaMemcpyDeviceToHost, stream_));
    if (k > 0) {
      PM_CUDA_CHECK(cudaMemcpyAsync(logprobs.data(), sampled_logprobs_.get(),
                                    logprobs.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                    stream_));
    }
    PM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::vector<sample_result> out(batch.size());
    for (size_t r = 0; r < batch.size(); ++r) {
      out[r].token = ids[r];
      const int32_t want = specs[r].params.num_logprobs;
      auto row_ids = ids.begin() + static_cast<std::ptrdiff_t>(rows + static_cast<int64_t>(r) * k);
      auto row_lp = logprobs.begin() + static_cast<std::ptrdiff_t>(static_cast<int64_t>(r) * k);
      out[r].logprobs.top_ids.assign(row_ids, row_ids + want);
      out[r].logprobs.top_logprobs.assign(row_lp, row_lp + want);
    }
    return out;
  }

private:
  int32_t pool_blocks(const cuda_runner_params& p) const {
    if (p.num_kv_blocks > 0) {
      return p.num_kv_blocks;
    }
    size_t free_bytes = 0, total_bytes = 0;
    PM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    size_t per_block = 2 * static_cast<size_t>(config_.num_hidden_layers * p.block_size *
                                               config_.kv_dim()) * sizeof(T);
    auto blocks = static_cast<int64_t>(p.kv_memory_fraction * static_cast<double>(free_bytes)) /
                  static_cast<int64_t>(per_block);
    return static_cast<int32_t>(std::clamp<int64_t>(blocks, 1, INT32_MAX / p.block_size));
  }

  // Describe and plan: reuse cached prefixes, then cache slots for every new token, block
  // tables and logit rows. All prefix matches happen before any append, so a batch never reads
  // blocks that another of its own items is still writing.
  step_plan make_plan(std::span<const runner_item> batch) {
    step_plan plan;
    std::vector<size_t> skip(batch.size(), 0);
    for (size_t b = 0; b < batch.size(); ++b) {
      const runner_item& item = batch[b];
      PM_ASSERT(!item.tokens.empty(), "every batch item brings at least one token");
      if (cache_->length(item.seq) == 0 && !item.all_logits) {
        skip[b] = static_cast<size_t>(cache_->match_prefix(item.seq, item.tokens));
      }
    }
    for (size_t b = 0; b < batch.size(); ++b) {
      int64_t n = static_cast<int64_t>(batch[b].tokens.size() - skip[b]);
      if (!cache_->can_append(batch[b].seq, n)) {
        throw input_error("KV cache is full: " + std::to_string(cache_->num_free_blocks()) +
                          " free blocks");
      }
    }
    for (size_t b = 0; b < batch.size(); ++b) {
      const runner_item& item = batch[b];
      std::span<const int32_t> fresh = item.tokens.subspan(skip[b]);
      int64_t start = cache_->length(item.seq);
      int64_t n = static_cast<int64_t>(fresh.size());
      cache_->append(item.seq, fresh, stream_, plan.slots);
      for (int64_t t = 0; t < n; ++t) {
        int32_t id = fresh[static_cast<size_t>(t)];
        PM_ASSERT(id >= 0 && id < config_.vocab_size, "token id checked by the caller");
        if (item.all_logits || t == n - 1) {
          plan.logit_rows.push_back(static_cast<int32_t>(plan.ids.size()));
        }
        plan.ids.push_back(id);
        plan.positions.push_back(static_cast<int32_t>(start + t));
        plan.token_seq.push_back(static_cast<int32_t>(b));
      }
      plan.max_blocks = std::max<int64_t>(
          plan.max_blocks, static_cast<int64_t>(cache_->block_table(item.seq).size()));
    }
    plan.block_tables.assign(batch.size() * static_cast<size_t>(plan.max_blocks), 0);
    for (size_t b = 0; b < batch.size(); ++b) {
      const auto& table = cache_->block_table(batch[b].seq);
      std::copy(table.begin(), table.end(),
                plan.block_tables.begin() + static_cast<std::ptrdiff_t>(b * plan.max_blocks));
    }
    plan.out_rows = static_cast<int64_t>(plan.logit_rows.size());
    if (use_graphs_ && is_decode(batch)) {
      if (int64_t bucket = decode_graphs::bucket_for(static_cast<int64_t>(batch.size()))) {
        pad_to_graph(plan, bucket);
      }
    }
    plan.attention_splits = kc::paged_attention_splits(
        static_cast<int64_t>(plan.ids.size()), config_.num_attention_heads,
        plan.max_blocks * cache_->block_size(), num_sms_);
    return plan;
  }

  // Upload the plan, then run the forward pass: eagerly, or as the replay of its decode graph.
  void execute(const step_plan& plan) {
    upload(plan);
    if (plan.graph_bucket == 0) {
      run(plan);
      return;
    }
    graphs_.launch({.bucket = plan.graph_bucket, .table_width = plan.max_blocks,
                    .epoch = scratch_epoch_},
                   stream_, [&] { run(plan); });
    ++graph_steps_;
  }

  void upload(const step_plan& plan) {
    const size_t tokens = plan.ids.size();
    const model_config& c = config_;
    // Scratch grows to the largest step seen; a move makes the captured graphs stale.
    const size_t rows = plan.logit_rows.size();
    bool moved = false;
    moved |= h_.reserve(tokens * c.hidden_size);
    moved |= x_.reserve(tokens * c.hidden_size);
    moved |= qkv_.reserve(tokens * (c.q_dim() + 2 * c.kv_dim()));
    moved |= attn_.reserve(tokens * c.q_dim());
    moved |= o_.reserve(tokens * c.hidden_size);
    moved |= gate_up_.reserve(tokens * 2 * c.intermediate_size);
    moved |= act_.reserve(tokens * c.intermediate_size);
    moved |= mlp_.reserve(tokens * c.hidden_size);
    moved |= picked_.reserve(rows * c.hidden_size);
    moved |= logits_.reserve(rows * c.vocab_size);
    moved |= attention_workspace_.reserve(kc::paged_attention_workspace_floats(
        static_cast<int64_t>(tokens), c.num_attention_heads, c.head_dim, plan.attention_splits));
    // One pinned host buffer, one copy: ids | positions | token_seq | slots | logit_rows |
    // block_tables.
    const size_t total = 4 * tokens + rows + plan.block_tables.size();
    moved |= index_.reserve(total);
    host_index_.reserve(total);
    int32_t* out = host_index_.get();
    for (const auto* v : {&plan.ids, &plan.positions, &plan.token_seq, &plan.slots,
                          &plan.logit_rows, &plan.block_tables}) {
      out = std::copy(v->begin(), v->end(), out);
    }
    scratch_epoch_ += moved ? 1 : 0;
    PM_CUDA_CHECK(cudaMemcpyAsync(index_.get(), host_index_.get(), total * sizeof(int32_t),
                                  cudaMemcpyHostToDevice, stream_));
  }

  // The forward pass, top to bottom, as in decoder_model.cpp.
  void run(const step_plan& plan) {
    const model_config& c = config_;
    const int64_t tokens = static_cast<int64_t>(plan.ids.size());
    const int64_t qkv_dim = c.q_dim() + 2 * c.kv_dim();
    const int32_t* ids = index_.get();
    const int32_t* positions = ids + tokens;
    const int32_t* token_seq = positions + tokens;
    const int32_t* slots = token_seq + tokens;
    const int32_t* logit_rows = slots + tokens;
    const int32_t* block_tables = logit_rows + plan.logit_rows.size();
    const float eps = static_cast<float>(c.rms_norm_eps);

    PM_CUDA_CHECK(kc::gather_rows<T>({.table = weights_.embed.get(), .ids = ids, .out = h_.get(),
                                      .count = tokens, .dim = c.hidden_size,
                                      .table_stride = c.hidden_size,
                                      .num_rows = c.vocab_size},
                                     stream_));
    for (size_t li = 0; li < weights_.layers.size(); ++li) {
      const cuda_layer_weights<T>& lw = weights_.layers[li];
      // h += mlp (of the previous layer); x = norm(h).
      norm(h_.get(), li == 0 ? nullptr : mlp_.get(), lw.input_norm.get(), x_.get(), tokens, eps);
      linear(x_.get(), lw.wqkv.get(), lw.bqkv.get(), qkv_.get(), tokens, qkv_dim, c.hidden_size);
      T* q = qkv_.get();
      T* k = q + c.q_dim();
      T* v = k + c.kv_dim();
      if (c.qk_norm) {
        head_norm(q, lw.q_norm.get(), tokens, c.num_attention_heads, qkv_dim, eps);
        head_norm(k, lw.k_norm.get(), tokens, c.num_key_value_heads, qkv_dim, eps);
      }
      // q's heads and then k's sit side by side in each qkv row: one launch rotates both.
      rotate(q, positions, tokens, c.num_attention_heads + c.num_key_value_heads, qkv_dim);
      T* k_cache = reinterpret_cast<T*>(cache_->keys(static_cast<int64_t>(li)));
      T* v_cache = reinterpret_cast<T*>(cache_->values(static_cast<int64_t>(li)));
      PM_CUDA_CHECK(kc::kv_cache_write<T>(
          {.k = k, .v = v, .k_cache = k_cache, .v_cache = v_cache, .slots = slots,
           .tokens = tokens, .kv_heads = c.num_key_value_heads, .head_dim = c.head_dim,
           .src_stride = qkv_dim, .block_size = cache_->block_size(),
           .num_blocks = cache_->num_blocks()},
          stream_));
      PM_CUDA_CHECK(kc::paged_attention<T>(
          {.q = q, .k_cache = k_cache, .v_cache = v_cache, .block_tables = block_tables,
           .token_seq = token_seq, .token_pos = positions, .out = attn_.get(), .tokens = tokens,
           .heads = c.num_attention_heads, .kv_heads = c.num_key_value_heads,
           .head_dim = c.head_dim, .q_stride = qkv_dim, .out_stride = c.q_dim(),
           .block_size = cache_->block_size(), .max_blocks_per_seq = plan.max_blocks,
           .scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim)),
           .num_splits = plan.attention_splits, .workspace = attention_workspace_.get()},
          stream_));
      linear(attn_.get(), lw.wo.get(), lw.bo.get(), o_.get(), tokens, c.hidden_size, c.q_dim());
      // h += o; x = norm(h); then the gated MLP.
      norm(h_.get(), o_.get(), lw.post_norm.get(), x_.get(), tokens, eps);
      linear(x_.get(), lw.w_gate_up.get(), nullptr, gate_up_.get(), tokens,
             2 * c.intermediate_size, c.hidden_size);
      PM_CUDA_CHECK(kc::silu_mul<T>({.gate_up = gate_up_.get(), .out = act_.get(),
                                     .tokens = tokens, .inter = c.intermediate_size},
                                    stream_));
      linear(act_.get(), lw.w_down.get(), nullptr, mlp_.get(), tokens, c.hidden_size,
             c.intermediate_size);
    }
    // h += mlp; x = final_norm(h); logits for the wanted rows only, in float32.
    norm(h_.get(), mlp_.get(), weights_.final_norm.get(), x_.get(), tokens, eps);
    const int64_t rows = static_cast<int64_t>(plan.logit_rows.size());
    PM_CUDA_CHECK(kc::gather_rows<T>({.table = x_.get(), .ids = logit_rows, .out = picked_.get(),
                                      .count = rows, .dim = c.hidden_size,
                                      .table_stride = c.hidden_size, .num_rows = tokens},
                                     stream_));
    matmul(picked_.get(), weights_.output_weight(), nullptr, logits_.get(), rows, c.vocab_size,
           c.hidden_size, CUDA_R_32F);
  }

  std::vector<float> download_logits(const step_plan& plan) {
    std::vector<float> out(static_cast<size_t>(plan.out_rows * config_.vocab_size));
    PM_CUDA_CHECK(cudaMemcpyAsync(out.data(), logits_.get(), out.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost, stream_));
    PM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return out;
  }

  void norm(T* x, const T* residual, const T* weight, T* out, int64_t rows, float eps) {
    PM_CUDA_CHECK(kc::rms_norm<T>({.x = x, .residual = residual, .weight = weight, .out = out,
                                   .rows = rows, .dim = config_.hidden_size,
                                   .row_stride = config_.hidden_size, .eps = eps},
                                  stream_));
  }

  // RMSNorm over each head of q or k, in place inside the fused qkv rows (Qwen3's QK-norm).
  void head_norm(T* x, const T* weight, int64_t tokens, int64_t heads, int64_t stride, float eps) {
    PM_CUDA_CHECK(kc::rms_norm<T>({.x = x, .residual = nullptr, .weight = weight, .out = x,
                                   .rows = tokens, .dim = config_.head_dim, .row_stride = stride,
                                   .eps = eps, .heads_per_row = heads},
                                  stream_));
  }

  void rotate(T* x, const int32_t* positions, int64_t tokens, int64_t heads, int64_t stride) {
    PM_CUDA_CHECK(kc::rope<T>({.x = x, .positions = positions, .inv_freq = inv_freq_.get(),
                               .tokens = tokens, .heads = heads, .head_dim = config_.head_dim,
                               .token_stride = stride},
                              stream_));
  }

  void linear(const T* x, const T* w, const T* bias, T* y, int64_t m, int64_t n, int64_t k) {
    matmul(x, w, bias, y, m, n, k, cuda_type<T>());
  }

  // Small bf16 batches take the GEMV kernel (weight-bandwidth bound, where cuBLASLt leaves
  // bandwidth unused: see bench/engine/kernel_lab); everything else, and the float32 exactness
  // path, takes cuBLASLt.
  void matmul(const T* x, const T* w, const void* bias, void* y, int64_t m, int64_t n, int64_t k,
              cudaDataType_t out_type) {
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      // The lab: gemv beats cuBLASLt at 1 and 2 rows on every decode shape, and loses from 4.
      constexpr int64_t gemv_rows = 2;
      const kc::gemv_params g{.x = x, .w = w, .bias = bias, .y = y, .m = m, .n = n, .k = k,
                              .out_type = out_type};
      if (m <= gemv_rows && kc::gemv_supports(g)) {
        PM_CUDA_CHECK(kc::gemv(g, stream_));
        return;
      }
    }
    PM_CUDA_CHECK(kc::gemm(gemm_,
                           {.x = x, .w = w, .bias = bias, .y = y, .m = m, .n = n, .k = k,
                            .a_type = cuda_type<T>(), .out_type = out_type},
                           stream_));
  }

  model_config config_;
  bool use_graphs_;
  cudaStream_t stream_ = nullptr;
  kc::gemm_handle gemm_{};
  cuda_weights<T> weights_;
  device_array<float> inv_freq_;
  std::unique_ptr<paged_kv_cache> cache_;
  device_array<T> h_, x_, qkv_, attn_, o_, gate_up_, act_, mlp_, picked_;
  device_array<float> logits_;
  device_array<float> attention_workspace_; // flash-decoding partials
  int num_sms_ = 0;
  device_array<int32_t> index_;
  pinned_array<kc::sample_row_params> host_specs_;
  device_array<kc::sample_row_params> specs_;
  device_array<int32_t> sampled_;        // [rows] tokens, then [rows, k] top ids
  device_array<float> sampled_logprobs_; // [rows, k]
  device_array<std::byte> sample_workspace_; // rows split over blocks (sample.cuh)
  pinned_array<int32_t> host_index_;
  decode_graphs graphs_;
  uint64_t scratch_epoch_ = 0;
  int64_t graph_steps_ = 0;
};

} // namespace

bool cuda_device_available(std::string* why) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    if (why) {
      *why = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
    }
    return false;
  }
  return true;
}

std::unique_ptr<model_runner> make_cuda_runner(const model_config& config,
                                               const model_weights& weights,
                                               const cuda_runner_params& params) {
  std::string why;
  if (!cuda_device_available(&why)) {
    throw input_error("--backend cuda: no usable CUDA device (" + why + ")");
  }
  if (params.block_size < 1 || params.block_size > 1024) {
    throw input_error("KV block size must be in [1, 1024]");
  }
  if (params.dtype == compute_dtype::compute_dtype_f32) {
    return std::make_unique<runner_impl<float>>(config, weights, params);
  }
  return std::make_unique<runner_impl<__nv_bfloat16>>(config, weights, params);
}

} // namespace proofmesh::engine
