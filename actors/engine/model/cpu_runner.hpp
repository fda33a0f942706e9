// The CPU backend behind the model_runner interface: an architecture over cpu_ops, plus a cache
// per sequence.
#pragma once

#include "actors/engine/model/architecture.hpp"
#include "actors/engine/model/cpu_ops.hpp"
#include "actors/engine/model/model_runner.hpp"

#include <map>
#include <memory>

namespace proofmesh::engine {

class cpu_runner final : public model_runner {
public:
  /// Loads the weights from `source` (widened to float32, one tensor at a time). With
  /// `fp8_kv_cache` the cache keeps what an FP8 cache would hold (cpu_ops::set_fp8_kv_cache).
  cpu_runner(const model_config& config, const weight_source& source, bool fp8_kv_cache = false);

  const model_config& config() const override { return model_->config(); }
  sequence_id create_sequence() override;
  sequence_id fork_sequence(sequence_id parent) override;
  void release_sequence(sequence_id seq) override;
  /// A copy of the first `length` cached tokens: n samples of one prompt prefill it once here too.
  std::optional<sequence_id> fork_prefix(sequence_id parent, int64_t length) override;
  std::vector<float> forward(std::span<const runner_item> batch) override;
  runner_stats stats() const override {
    return {.loaded_bytes = load_.bytes, .load_seconds = load_.seconds};
  }

private:
  cpu_ops ops_;
  load_stats load_;                      // declared before model_, which fills it
  std::unique_ptr<architecture> model_;
  std::map<sequence_id, sequence_kv> sequences_;
  sequence_id next_id_ = 0;
};

} // namespace proofmesh::engine
