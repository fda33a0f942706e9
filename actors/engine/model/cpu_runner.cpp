#include "actors/engine/model/cpu_runner.hpp"

#include "actors/common/check.hpp"

namespace proofmesh::engine {

sequence_id cpu_runner::create_sequence() {
  sequences_.emplace(next_id_, model_.new_sequence());
  return next_id_++;
}

sequence_id cpu_runner::fork_sequence(sequence_id parent) {
  auto it = sequences_.find(parent);
  PM_ASSERT(it != sequences_.end(), "fork of a live sequence");
  sequences_.emplace(next_id_, it->second);
  return next_id_++;
}

void cpu_runner::release_sequence(sequence_id seq) { sequences_.erase(seq); }

std::vector<float> cpu_runner::forward(std::span<const runner_item> batch) {
  std::vector<forward_item> items;
  items.reserve(batch.size());
  for (const runner_item& item : batch) {
    auto it = sequences_.find(item.seq);
    PM_ASSERT(it != sequences_.end(), "forward on a live sequence");
    items.push_back({.kv = &it->second, .tokens = item.tokens, .all_logits = item.all_logits});
  }
  return model_.forward(items);
}

} // namespace proofmesh::engine
