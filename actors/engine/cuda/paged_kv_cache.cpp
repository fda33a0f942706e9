#include "actors/engine/cuda/paged_kv_cache.hpp"

#include "actors/common/check.hpp"

namespace proofmesh::engine {

paged_kv_cache::paged_kv_cache(const paged_kv_cache_params& params)
    : params_(params),
      block_bytes_(static_cast<size_t>(params.block_size * params.kv_heads * params.head_dim) *
                   params.element_bytes),
      layer_bytes_(block_bytes_ * static_cast<size_t>(params.num_blocks)),
      pool_(params.num_blocks) {
  keys_.reserve(layer_bytes_ * static_cast<size_t>(params.num_layers));
  values_.reserve(layer_bytes_ * static_cast<size_t>(params.num_layers));
}

const paged_kv_cache::sequence& paged_kv_cache::seq_(sequence_id id) const {
  auto it = sequences_.find(id);
  PM_ASSERT(it != sequences_.end(), "a live sequence");
  return it->second;
}

sequence_id paged_kv_cache::create() {
  sequences_.emplace(next_id_, sequence{});
  return next_id_++;
}

sequence_id paged_kv_cache::fork(sequence_id parent) {
  sequence child = seq_(parent);
  for (int32_t b : child.blocks) {
    pool_.retain(b);
  }
  sequences_.emplace(next_id_, std::move(child));
  return next_id_++;
}

void paged_kv_cache::release(sequence_id id) {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) {
    return;
  }
  for (int32_t b : it->second.blocks) {
    pool_.release(b);
  }
  sequences_.erase(it);
}

int64_t paged_kv_cache::blocks_needed(const sequence& s, int64_t count) const {
  int64_t bs = params_.block_size;
  int64_t total = (s.length + count + bs - 1) / bs;
  int64_t fresh = total - static_cast<int64_t>(s.blocks.size());
  bool copy_first = s.length % bs != 0 && count > 0 &&
                    pool_.ref_count(s.blocks[static_cast<size_t>(s.length / bs)]) > 1;
  return fresh + (copy_first ? 1 : 0);
}

bool paged_kv_cache::can_append(sequence_id id, int64_t count) const {
  return blocks_needed(seq_(id), count) <= pool_.num_free();
}

void paged_kv_cache::append(sequence_id id, int64_t count, cudaStream_t stream,
                            std::vector<int32_t>& slots) {
  PM_ASSERT(can_append(id, count), "append only after can_append");
  sequence& s = sequences_.at(id);
  const int64_t bs = params_.block_size;
  if (s.length % bs != 0 && count > 0) {
    size_t last = static_cast<size_t>(s.length / bs);
    int32_t shared = s.blocks[last];
    if (pool_.ref_count(shared) > 1) {
      // Copy-on-write: this sequence is about to write into a block another one still reads.
      int32_t own = pool_.allocate();
      for (int64_t l = 0; l < params_.num_layers; ++l) {
        for (std::byte* pool_base : {keys(l), values(l)}) {
          PM_CUDA_CHECK(cudaMemcpyAsync(pool_base + static_cast<size_t>(own) * block_bytes_,
                                        pool_base + static_cast<size_t>(shared) * block_bytes_,
                                        block_bytes_, cudaMemcpyDeviceToDevice, stream));
        }
      }
      pool_.release(shared);
      s.blocks[last] = own;
    }
  }
  for (int64_t p = s.length; p < s.length + count; ++p) {
    if (p % bs == 0) {
      s.blocks.push_back(pool_.allocate());
    }
    slots.push_back(static_cast<int32_t>(s.blocks[static_cast<size_t>(p / bs)] * bs + p % bs));
  }
  s.length += count;
}

} // namespace proofmesh::engine
