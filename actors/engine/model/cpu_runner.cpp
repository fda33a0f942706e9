#include "actors/engine/model/cpu_runner.hpp"

#include "actors/common/check.hpp"

namespace proofmesh::engine {

cpu_runner::cpu_runner(const model_config& config, const weight_source& source,
                       bool fp8_kv_cache)
    : model_(load_architecture(config, source, ops_, &load_)) {
  ops_.set_fp8_kv_cache(fp8_kv_cache);
}

sequence_id cpu_runner::create_sequence() {
  sequence_kv kv;
  const kv_layout layout = model_->cache_layout();
  kv.keys.resize(static_cast<size_t>(layout.num_layers));
  kv.values.resize(static_cast<size_t>(layout.num_layers));
  kv.index_keys.resize(static_cast<size_t>(layout.num_layers));
  sequences_.emplace(next_id_, std::move(kv));
  return next_id_++;
}

sequence_id cpu_runner::fork_sequence(sequence_id parent) {
  auto it = sequences_.find(parent);
  PM_ASSERT(it != sequences_.end(), "fork of a live sequence");
  sequences_.emplace(next_id_, it->second);
  return next_id_++;
}

std::optional<sequence_id> cpu_runner::fork_prefix(sequence_id parent, int64_t length) {
  auto it = sequences_.find(parent);
  PM_ASSERT(it != sequences_.end() && length >= 0 && length <= it->second.length,
            "fork of a live sequence's cached prefix");
  const kv_layout layout = model_->cache_layout();
  auto prefix = [length](const std::vector<float>& rows, int64_t width) {
    return std::vector<float>(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(length * width));
  };
  const sequence_kv& parent_kv = it->second;
  sequence_kv kv{.length = length};
  for (size_t l = 0; l < parent_kv.keys.size(); ++l) {
    kv.keys.push_back(prefix(parent_kv.keys[l], layout.key_width()));
    kv.values.push_back(prefix(parent_kv.values[l], layout.value_width()));
    kv.index_keys.push_back(prefix(parent_kv.index_keys[l], layout.index_dim));
  }
  sequences_.emplace(next_id_, std::move(kv));
  return next_id_++;
}

void cpu_runner::release_sequence(sequence_id seq) { sequences_.erase(seq); }

// Plan the step (rows, positions, which rows want logits), then the architecture's forward pass
// over it; the caches grow by the new tokens.
std::vector<float> cpu_runner::forward(std::span<const runner_item> batch) {
  cpu_step step;
  for (const runner_item& item : batch) {
    PM_ASSERT(!item.tokens.empty(), "every batch item brings at least one token");
    auto it = sequences_.find(item.seq);
    PM_ASSERT(it != sequences_.end(), "forward on a live sequence");
    sequence_kv* kv = &it->second;
    const auto first_row = static_cast<int64_t>(step.ids.size());
    const auto n = static_cast<int64_t>(item.tokens.size());
    step.items.push_back({.kv = kv, .first_row = first_row, .tokens = n});
    for (int64_t t = 0; t < n; ++t) {
      const int32_t id = item.tokens[static_cast<size_t>(t)];
      PM_ASSERT(id >= 0 && id < config().vocab_size, "token id checked by the caller");
      step.ids.push_back(id);
      step.positions.push_back(kv->length + t);
      if (item.all_logits || t == n - 1) {
        step.logit_rows.push_back(first_row + t);
      }
    }
  }
  const step_shape shape{.tokens = static_cast<int64_t>(step.ids.size()),
                         .logit_rows = static_cast<int64_t>(step.logit_rows.size())};
  ops_.set_step(std::move(step));
  model_->prepare(ops_, shape);
  model_->forward(ops_);
  for (const runner_item& item : batch) {
    sequences_.at(item.seq).length += static_cast<int64_t>(item.tokens.size());
  }
  return ops_.take_logits();
}

} // namespace proofmesh::engine
