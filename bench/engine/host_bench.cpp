// The engine's host cost per step, with no GPU: the batch engine and its planner drive a runner
// that does no model work (it keeps each sequence's length and block count as a paged cache
// would, and returns a fixed pseudo-random token per draw at once), through the offline case of
// engine_bench (256 requests of 128 prompt tokens and 2,048 new ones). What it prints is the
// time a real step spends on the CPU before and after its kernels, where the GPU waits: set it
// against a step's GPU time (about 18 ms for this case on the 8B shape, docs/PERFORMANCE.md).
// Usage: host_bench [REQUESTS] [IN] [OUT]   (defaults 256 128 2048)
#include "actors/engine/model/model_runner.hpp"
#include "actors/engine/runtime/engine_config.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"
#include "bench/engine/bench_model.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

namespace pe = proofmesh::engine;
namespace pb = proofmesh::bench;

namespace {

// Sequences as lengths over a pool of fixed-size blocks; every step costs nothing.
class host_only_runner final : public pe::model_runner {
public:
  host_only_runner(const pe::model_config& config, int64_t blocks, int32_t block_size)
      : config_(config), total_blocks_(blocks), block_size_(block_size) {}

  const pe::model_config& config() const override { return config_; }
  pe::sequence_id create_sequence() override {
    lengths_[next_] = 0;
    return next_++;
  }
  pe::sequence_id fork_sequence(pe::sequence_id parent) override {
    const int64_t length = lengths_.at(parent);
    lengths_[next_] = length;
    used_ += blocks_for(length);
    return next_++;
  }
  void release_sequence(pe::sequence_id seq) override {
    used_ -= blocks_for(lengths_.at(seq));
    lengths_.erase(seq);
  }
  int32_t kv_block_size() const override { return block_size_; }
  pe::runner_stats stats() const override {
    return {.free_kv_blocks = total_blocks_ - used_};
  }
  std::vector<float> forward(std::span<const pe::runner_item> batch) override {
    extend(batch);
    return std::vector<float>(batch.size() * static_cast<size_t>(config_.vocab_size));
  }
  bool samples_on_device() const override { return true; }
  std::vector<pe::sample_result> forward_sample(std::span<const pe::runner_item> batch,
                                                std::span<const pe::sample_spec> specs) override {
    extend(batch);
    std::vector<pe::sample_result> out(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      // Any id but the special ones at the vocabulary's top: nothing stops early.
      out[i].token = static_cast<int32_t>((specs[i].stream * 7919 + specs[i].step * 104729) %
                                          static_cast<uint64_t>(config_.vocab_size / 2));
    }
    return out;
  }

private:
  int64_t blocks_for(int64_t length) const { return (length + block_size_ - 1) / block_size_; }
  void extend(std::span<const pe::runner_item> batch) {
    for (const pe::runner_item& item : batch) {
      int64_t& length = lengths_.at(item.seq);
      used_ -= blocks_for(length);
      length += static_cast<int64_t>(item.tokens.size());
      used_ += blocks_for(length);
    }
  }

  pe::model_config config_;
  int64_t total_blocks_;
  int32_t block_size_;
  int64_t used_ = 0;
  pe::sequence_id next_ = 1;
  std::unordered_map<pe::sequence_id, int64_t> lengths_;
};

std::vector<int32_t> prompt(int n, uint64_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ids[static_cast<size_t>(i)] = static_cast<int32_t>((seed * 31 + static_cast<uint64_t>(i) * 17) % 50000);
  }
  return ids;
}

} // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 256;
  const int in = argc > 2 ? std::atoi(argv[2]) : 128;
  const int out = argc > 3 ? std::atoi(argv[3]) : 2048;
  if (requests <= 0 || in <= 0 || out <= 0) {
    std::fprintf(stderr, "usage: host_bench [REQUESTS] [IN] [OUT] (positive)\n");
    return 2;
  }
  const pe::engine_config config{};
  const pe::scheduler_config planner = pe::scheduler_config_for(config);
  // A pool the whole run fits in, as the H200's 8B offline run did (54,092 blocks of 16).
  host_only_runner runner(pb::bench_shape("llama-3-8b"), 60000, planner.block_size);
  pe::batch_engine engine(runner, nullptr, planner);
  for (int r = 0; r < requests; ++r) {
    engine.submit({.prompt = prompt(in, static_cast<uint64_t>(r)), .max_tokens = out,
                   .sampling = {.temperature = 1.0f, .top_p = 0.95f, .seed = 1},
                   .stream = static_cast<uint64_t>(r)});
  }
  using clock = std::chrono::steady_clock;
  std::vector<double> step_us;
  int64_t tokens = 0;
  const auto t0 = clock::now();
  while (!engine.idle()) {
    const auto s0 = clock::now();
    tokens += static_cast<int64_t>(engine.step().size());
    step_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - s0).count());
  }
  const double total_s = std::chrono::duration<double>(clock::now() - t0).count();
  std::vector<double> sorted = step_us;
  std::sort(sorted.begin(), sorted.end());
  const double p50 = sorted[sorted.size() / 2];
  const double p99 = sorted[sorted.size() * 99 / 100];
  std::printf("{\"bench\": \"host\", \"requests\": %d, \"in\": %d, \"out\": %d, \"steps\": %zu, "
              "\"events\": %lld, \"host_us_per_step_mean\": %.1f, \"p50\": %.1f, \"p99\": %.1f}\n",
              requests, in, out, step_us.size(), static_cast<long long>(tokens),
              1e6 * total_s / static_cast<double>(step_us.size()), p50, p99);
  return 0;
}
