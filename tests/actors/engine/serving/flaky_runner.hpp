// A model runner that fails once, for the engine actor's failure test: it forwards everything to
// a real runner, except that its `fail_at`-th forward call of at least `min_batch` items throws
// instead (counting only batches that hold every request the test has in flight makes the
// failure land while they all are, however late the test's thread submits). Rules of the road:
// test-only; it throws before touching the inner runner, so the inner caches stay consistent and
// the engine can release them afterwards, as it would after a real failed launch.
#pragma once

#include "actors/engine/model/model_runner.hpp"

#include <memory>
#include <stdexcept>

namespace proofmesh::testing {

class flaky_runner final : public engine::model_runner {
public:
  flaky_runner(std::unique_ptr<engine::model_runner> inner, int64_t fail_at, size_t min_batch = 1)
      : inner_(std::move(inner)), fail_at_(fail_at), min_batch_(min_batch) {}

  const engine::model_config& config() const override { return inner_->config(); }
  engine::sequence_id create_sequence() override { return inner_->create_sequence(); }
  engine::sequence_id fork_sequence(engine::sequence_id parent) override {
    return inner_->fork_sequence(parent);
  }
  void release_sequence(engine::sequence_id seq) override { inner_->release_sequence(seq); }
  int64_t adopt_cached_prefix(engine::sequence_id seq, std::span<const int32_t> tokens) override {
    return inner_->adopt_cached_prefix(seq, tokens);
  }
  std::vector<float> forward(std::span<const engine::runner_item> batch) override {
    count_forward(batch.size());
    return inner_->forward(batch);
  }
  engine::runner_stats stats() const override { return inner_->stats(); }
  bool samples_on_device() const override { return inner_->samples_on_device(); }
  std::vector<engine::sample_result> forward_sample(
      std::span<const engine::runner_item> batch,
      std::span<const engine::sample_spec> specs) override {
    count_forward(batch.size());
    return inner_->forward_sample(batch, specs);
  }

private:
  void count_forward(size_t items) {
    if (items >= min_batch_ && ++num_forwards_ == fail_at_) {
      throw std::runtime_error("injected runner failure");
    }
  }

  std::unique_ptr<engine::model_runner> inner_;
  int64_t fail_at_;          // 1-based counted forward call that throws
  size_t min_batch_;         // forward calls of fewer items are not counted
  int64_t num_forwards_ = 0; // counted forward calls so far
};

} // namespace proofmesh::testing
