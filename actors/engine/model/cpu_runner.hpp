// The CPU backend behind the model_runner interface: decoder_model plus a cache per sequence.
#pragma once

#include "actors/engine/model/decoder_model.hpp"
#include "actors/engine/model/model_runner.hpp"

#include <map>

namespace proofmesh::engine {

class cpu_runner final : public model_runner {
public:
  explicit cpu_runner(decoder_model model) : model_(std::move(model)) {}

  const model_config& config() const override { return model_.config(); }
  sequence_id create_sequence() override;
  sequence_id fork_sequence(sequence_id parent) override;
  void release_sequence(sequence_id seq) override;
  std::vector<float> forward(std::span<const runner_item> batch) override;

private:
  decoder_model model_;
  std::map<sequence_id, sequence_kv> sequences_;
  sequence_id next_id_ = 0;
};

} // namespace proofmesh::engine
