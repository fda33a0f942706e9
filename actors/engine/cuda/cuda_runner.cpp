#include "actors/engine/cuda/cuda_runner.hpp"

#include "actors/common/check.hpp"
#include "actors/common/error.hpp"
#include "actors/engine/cuda/cuda_ops.hpp"
#include "actors/engine/cuda/decode_graphs.hpp"
#include "actors/engine/cuda/paged_kv_cache.hpp"
#include "actors/engine/cuda/pinned_array.hpp"
#include "actors/engine/model/architecture.hpp"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/paged_attention.cuh"
#include "kernels/cuda/sample.cuh"

#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace proofmesh::engine {

namespace kc = kernels::cuda;

namespace {

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
  int32_t max_query_tokens = 0;      // most fresh tokens of one item
};

// A decode step: one new token per item, logits of that token only.
bool is_decode(std::span<const runner_item> batch) {
  return std::all_of(batch.begin(), batch.end(), [](const runner_item& item) {
    return item.tokens.size() == 1 && !item.all_logits && item.draws == 1;
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
  runner_impl(const model_config& config, const weight_source& source,
              const cuda_runner_params& params)
      // DeepSeek's MoE reads its routing back to the host mid-step: no graph can hold that; nor
      // can one hold the timing events of PM_OP_TIMES.
      : config_(config), use_graphs_(params.cuda_graphs && !config.is_deepseek() &&
                                     !op_timer::enabled_by_environment()) {
    PM_CUDA_CHECK(cudaSetDevice(params.device));
    PM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    PM_CUDA_CHECK(kc::gemm_handle_create(gemm_));
    PM_CUDA_CHECK(cudaDeviceGetAttribute(&num_sms_, cudaDevAttrMultiProcessorCount, params.device));
    ops_ = std::make_unique<cuda_ops<T>>(stream_, gemm_);
    model_ = load_architecture(config, source, *ops_, &load_);
    const kv_layout layout = model_->cache_layout();
    paged_kv_cache_params cache{.num_layers = layout.num_layers,
                                .key_width = layout.key_width(),
                                .value_width = layout.value_width(),
                                .index_width = layout.index_dim,
                                .block_size = params.block_size,
                                .num_blocks = 1,
                                .element_bytes = sizeof(T),
                                .fp8_scales = params.fp8_kv_cache ? layout.kv_heads : 0};
    PM_ASSERT(!params.fp8_kv_cache || (std::is_same_v<T, __nv_bfloat16> && layout.value_dim > 0),
              "an FP8 cache is bf16 and dense (checked by make_runner)");
    cache.num_blocks = pool_blocks(params, cache);
    cache_ = std::make_unique<paged_kv_cache>(cache);
    ops_->set_cache(cache_.get());
  }

  ~runner_impl() override {
    cudaStreamSynchronize(stream_);
    cache_.reset();
    model_.reset();
    ops_.reset();
    kc::gemm_handle_destroy(gemm_);
    cudaStreamDestroy(stream_);
  }

  const model_config& config() const override { return config_; }
  sequence_id create_sequence() override { return cache_->create(); }
  sequence_id fork_sequence(sequence_id parent) override { return cache_->fork(parent); }
  void release_sequence(sequence_id seq) override { cache_->release(seq); }
  int64_t blocks_freed_by_release(sequence_id seq) const override {
    return cache_->blocks_freed_by_release(seq);
  }
  std::optional<sequence_id> fork_prefix(sequence_id parent, int64_t length) override {
    return cache_->fork(parent, length);
  }
  int64_t adopt_cached_prefix(sequence_id seq, std::span<const int32_t> tokens) override {
    return cache_->match_prefix(seq, tokens);
  }
  int32_t kv_block_size() const override { return cache_->block_size(); }
  runner_stats stats() const override {
    return {.prefix_hit_tokens = cache_->prefix_hit_tokens(),
            .free_kv_blocks = cache_->num_free_blocks(),
            .graph_steps = graph_steps_,
            .graph_captures = graphs_.num_captured(),
            .loaded_bytes = load_.bytes,
            .load_seconds = load_.seconds};
  }

  std::vector<float> forward(std::span<const runner_item> batch) override {
    step_plan plan = make_plan(batch, false);
    execute(plan);
    return download_logits(plan);
  }

  bool samples_on_device() const override { return true; }

  // Forward, then the sampling kernel on the logits rows: only tokens and top-k logprobs cross
  // to the host.
  std::vector<sample_result> forward_sample(std::span<const runner_item> batch,
                                            std::span<const sample_spec> specs) override {
    size_t draws = 0;
    for (const runner_item& item : batch) {
      PM_ASSERT(!item.all_logits && item.draws >= 1, "sampling reads the last position only");
      draws += static_cast<size_t>(item.draws);
    }
    PM_ASSERT(draws == specs.size(), "one sample spec per draw");
    step_plan plan = make_plan(batch, true);
    execute(plan);
    // One logits row per draw: an item drawn n times has its last position's row n times.
    const auto rows = static_cast<int64_t>(specs.size());
    int32_t k = 0;
    host_specs_.reserve(specs.size());
    for (size_t r = 0; r < specs.size(); ++r) {
      const sample_spec& s = specs[r];
      k = std::max(k, s.params.num_logprobs);
      host_specs_.get()[r] = kc::sample_row_params({.temperature = s.params.temperature,
                                                    .top_k = s.params.top_k,
                                                    .top_p = s.params.top_p,
                                                    .seed = s.params.seed,
                                                    .stream = s.stream,
                                                    .step = s.step});
    }
    if (k > kc::max_sample_logprobs) {
      throw input_error("at most " + std::to_string(kc::max_sample_logprobs) +
                        " logprobs per token on the cuda backend");
    }
    // The sampler's share of a step (#13 wants it under 3%): its upload and kernels.
    int32_t* tokens = nullptr;
    {
      const auto timed = ops_->time_op("sample");
      specs_.reserve(specs.size());
      sampled_.reserve(static_cast<size_t>(rows * (1 + k)));
      // Each row's top k, then every row's sampled-token logprob.
      sampled_logprobs_.reserve(static_cast<size_t>(std::max<int64_t>(1, rows * (k + 1))));
      PM_CUDA_CHECK(cudaMemcpyAsync(specs_.get(), host_specs_.get(),
                                    specs.size() * sizeof(kc::sample_row_params),
                                    cudaMemcpyHostToDevice, stream_));
      tokens = sampled_.get();
      sample_workspace_.reserve(kc::sample_workspace_bytes(rows));
      PM_CUDA_CHECK(kc::sample({.logits = ops_->logits(), .params = specs_.get(), .tokens = tokens,
                                .top_ids = k ? tokens + rows : nullptr,
                                .top_logprobs = k ? sampled_logprobs_.get() : nullptr,
                                .token_logprobs = k ? sampled_logprobs_.get() + rows * k : nullptr,
                                .rows = rows, .vocab = config_.vocab_size, .num_logprobs = k,
                                .workspace = sample_workspace_.get()},
                               stream_));
    }
    std::vector<int32_t> ids(static_cast<size_t>(rows * (1 + k)));
    std::vector<float> logprobs(static_cast<size_t>(k ? rows * (k + 1) : 0));
    PM_CUDA_CHECK(cudaMemcpyAsync(ids.data(), tokens, ids.size() * sizeof(int32_t),
                                  cudaMemcpyDeviceToHost, stream_));
    if (k > 0) {
      PM_CUDA_CHECK(cudaMemcpyAsync(logprobs.data(), sampled_logprobs_.get(),
                                    logprobs.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                    stream_));
    }
    PM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    ops_->collect_op_times();
    std::vector<sample_result> out(specs.size());
    for (size_t r = 0; r < specs.size(); ++r) {
      out[r].token = ids[r];
      const int32_t want = specs[r].params.num_logprobs;
      auto row_ids = ids.begin() + static_cast<std::ptrdiff_t>(rows + static_cast<int64_t>(r) * k);
      auto row_lp = logprobs.begin() + static_cast<std::ptrdiff_t>(static_cast<int64_t>(r) * k);
      out[r].logprobs.top_ids.assign(row_ids, row_ids + want);
      out[r].logprobs.top_logprobs.assign(row_lp, row_lp + want);
      if (want > 0) out[r].logprobs.token_logprob = logprobs[static_cast<size_t>(rows * k) + r];
    }
    return out;
  }

private:
  int32_t pool_blocks(const cuda_runner_params& p, const paged_kv_cache_params& cache) const {
    if (p.num_kv_blocks > 0) {
      return p.num_kv_blocks;
    }
    size_t free_bytes = 0, total_bytes = 0;
    PM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const size_t per_block = paged_kv_cache::bytes_per_block(cache);
    auto blocks = static_cast<int64_t>(p.kv_memory_fraction * static_cast<double>(free_bytes)) /
                  static_cast<int64_t>(per_block);
    return static_cast<int32_t>(std::clamp<int64_t>(blocks, 1, INT32_MAX / p.block_size));
  }

  // Describe and plan: reuse cached prefixes, then cache slots for every new token, block
  // tables and logit rows. All prefix matches happen before any append, so a batch never reads
  // blocks that another of its own items is still writing.
  step_plan make_plan(std::span<const runner_item> batch, bool draw_rows) {
    step_plan plan;
    std::vector<size_t> skip(batch.size(), 0);
    for (size_t b = 0; b < batch.size(); ++b) {
      const runner_item& item = batch[b];
      PM_ASSERT(!item.tokens.empty(), "every batch item brings at least one token");
      if (cache_->length(item.seq) == 0 && !item.all_logits) {
        skip[b] = static_cast<size_t>(cache_->match_prefix(item.seq, item.tokens));
      }
    }
    // The whole step's need, before any append: items that each fit alone can still run the
    // pool dry together, and an append past the pool's end is an assertion, not an error.
    std::vector<std::pair<sequence_id, int64_t>> appends(batch.size());
    for (size_t b = 0; b < batch.size(); ++b) {
      appends[b] = {batch[b].seq, static_cast<int64_t>(batch[b].tokens.size() - skip[b])};
    }
    if (!cache_->can_append_all(appends)) {
      throw input_error("KV cache is full: " + std::to_string(cache_->num_free_blocks()) +
                        " free blocks");
    }
    for (size_t b = 0; b < batch.size(); ++b) {
      const runner_item& item = batch[b];
      std::span<const int32_t> fresh = item.tokens.subspan(skip[b]);
      int64_t start = cache_->length(item.seq);
      int64_t n = static_cast<int64_t>(fresh.size());
      plan.max_query_tokens = std::max(plan.max_query_tokens, static_cast<int32_t>(n));
      cache_->append(item.seq, fresh, stream_, plan.slots);
      for (int64_t t = 0; t < n; ++t) {
        int32_t id = fresh[static_cast<size_t>(t)];
        PM_ASSERT(id >= 0 && id < config_.vocab_size, "token id checked by the caller");
        if (item.all_logits || t == n - 1) {
          const int32_t copies = draw_rows && t == n - 1 ? item.draws : 1;
          plan.logit_rows.insert(plan.logit_rows.end(), static_cast<size_t>(copies),
                                 static_cast<int32_t>(plan.ids.size()));
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
    // One new token per sequence: a decode step; anything else holds a prefill (counted by
    // tokens, not logit rows, which repeat for n samples drawn from one prompt).
    ops_->set_op_phase(plan.max_query_tokens <= 1 ? "decode" : "prefill");
    if (plan.graph_bucket == 0) {
      run(plan);
      return;
    }
    graphs_.launch({.bucket = plan.graph_bucket, .table_width = plan.max_blocks,
                    .epoch = index_epoch_ + ops_->epoch()},
                   stream_, [&] { run(plan); });
    ++graph_steps_;
  }

  void upload(const step_plan& plan) {
    const size_t tokens = plan.ids.size();
    const model_config& c = config_;
    // Buffers grow to the largest step seen; a move makes the captured graphs stale.
    const size_t rows = plan.logit_rows.size();
    const step_shape shape{.tokens = static_cast<int64_t>(tokens),
                           .logit_rows = static_cast<int64_t>(rows)};
    model_->prepare(*ops_, shape);
    ops_->reserve_outputs(shape.logit_rows, c.hidden_size, c.vocab_size);
    if (model_->cache_layout().value_dim > 0) { // the paged attention op's partials; MLA has none
      ops_->reserve_attention(kc::paged_attention_workspace_floats(
          shape.tokens, c.num_attention_heads, c.head_dim, plan.attention_splits));
    }
    bool moved = false;
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
    index_epoch_ += moved ? 1 : 0;
    PM_CUDA_CHECK(cudaMemcpyAsync(index_.get(), host_index_.get(), total * sizeof(int32_t),
                                  cudaMemcpyHostToDevice, stream_));
  }

  // Point the ops at the uploaded plan, then the architecture's forward pass.
  void run(const step_plan& plan) {
    const auto tokens = static_cast<int64_t>(plan.ids.size());
    const int32_t* ids = index_.get();
    const int32_t* positions = ids + tokens;
    const int32_t* token_seq = positions + tokens;
    const int32_t* slots = token_seq + tokens;
    const int32_t* logit_rows = slots + tokens;
    ops_->set_step({.ids = ids, .positions = positions, .token_seq = token_seq, .slots = slots,
                    .logit_rows = logit_rows,
                    .block_tables = logit_rows + plan.logit_rows.size(),
                    .rows = static_cast<int64_t>(plan.logit_rows.size()),
                    .max_blocks = plan.max_blocks,
                    .attention_splits = plan.attention_splits,
                    .max_query_tokens = plan.max_query_tokens});
    model_->forward(*ops_);
  }

  std::vector<float> download_logits(const step_plan& plan) {
    std::vector<float> out(static_cast<size_t>(plan.out_rows * config_.vocab_size));
    PM_CUDA_CHECK(cudaMemcpyAsync(out.data(), ops_->logits(), out.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost, stream_));
    PM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    ops_->collect_op_times();
    return out;
  }

  model_config config_;
  bool use_graphs_;
  cudaStream_t stream_ = nullptr;
  kc::gemm_handle gemm_{};
  std::unique_ptr<cuda_ops<T>> ops_;
  std::unique_ptr<architecture> model_;
  std::unique_ptr<paged_kv_cache> cache_;
  load_stats load_;
  int num_sms_ = 0;
  device_array<int32_t> index_;
  pinned_array<kc::sample_row_params> host_specs_;
  device_array<kc::sample_row_params> specs_;
  device_array<int32_t> sampled_;        // [rows] tokens, then [rows, k] top ids
  device_array<float> sampled_logprobs_; // [rows, k]
  device_array<std::byte> sample_workspace_; // rows split over blocks (sample.cuh)
  pinned_array<int32_t> host_index_;
  decode_graphs graphs_;
  uint64_t index_epoch_ = 0;
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
                                               const weight_source& source,
                                               const cuda_runner_params& params) {
  std::string why;
  if (!cuda_device_available(&why)) {
    throw input_error("--backend cuda: no usable CUDA device (" + why + ")");
  }
  PM_ASSERT(params.block_size >= 1 && params.block_size <= 1024,
            "block size checked by check_engine_config");
  if (params.dtype == compute_dtype::compute_dtype_f32) {
    return std::make_unique<runner_impl<float>>(config, source, params);
  }
  return std::make_unique<runner_impl<__nv_bfloat16>>(config, source, params);
}

} // namespace proofmesh::engine
