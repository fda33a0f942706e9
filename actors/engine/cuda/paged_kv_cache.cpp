#include "actors/engine/cuda/paged_kv_cache.hpp"

#include "actors/common/check.hpp"
#include "actors/common/splitmix64.hpp"

#include <algorithm>

namespace proofmesh::engine {

namespace {

// Bytes per token and layer of each pool: keys, values, indexer keys, key scales, value scales.
std::array<size_t, 5> token_bytes(const paged_kv_cache_params& p) {
  const size_t kv_bytes = p.fp8_scales > 0 ? 1 : p.element_bytes;
  const auto scales = static_cast<size_t>(p.fp8_scales) * sizeof(float);
  return {static_cast<size_t>(p.key_width) * kv_bytes,
          static_cast<size_t>(p.value_width) * kv_bytes,
          static_cast<size_t>(p.index_width) * p.element_bytes, scales,
          p.value_width > 0 ? scales : 0};
}

} // namespace

paged_kv_cache::paged_kv_cache(const paged_kv_cache_params& params)
    : params_(params), pool_(params.num_blocks) {
  const std::array<size_t, num_pools> bytes = token_bytes(params);
  device_array<std::byte>* pools[num_pools] = {&keys_, &values_, &index_keys_, &key_scales_,
                                               &value_scales_};
  for (int i = 0; i < num_pools; ++i) {
    block_bytes_[i] = static_cast<size_t>(params.block_size) * bytes[static_cast<size_t>(i)];
    layer_bytes_[i] = block_bytes_[i] * static_cast<size_t>(params.num_blocks);
    if (layer_bytes_[i] > 0) {
      pools[i]->reserve(layer_bytes_[i] * static_cast<size_t>(params.num_layers));
    }
  }
}

size_t paged_kv_cache::bytes_per_block(const paged_kv_cache_params& params) {
  size_t per_token = 0;
  for (size_t b : token_bytes(params)) {
    per_token += b;
  }
  return static_cast<size_t>(params.num_layers * params.block_size) * per_token;
}

std::array<std::byte*, paged_kv_cache::num_pools> paged_kv_cache::layer_pools(int64_t l) const {
  return {keys(l), values(l), index_keys(l), pool_base(key_scales_, 3, l),
          pool_base(value_scales_, 4, l)};
}

const paged_kv_cache::sequence& paged_kv_cache::find_sequence(sequence_id id) const {
  auto it = sequences_.find(id);
  PM_ASSERT(it != sequences_.end(), "a live sequence");
  return it->second;
}

sequence_id paged_kv_cache::create() {
  sequences_.emplace(next_id_, sequence{});
  return next_id_++;
}

sequence_id paged_kv_cache::fork(sequence_id parent) {
  sequence child = find_sequence(parent);
  for (int32_t b : child.blocks) {
    pool_.retain(b);
  }
  sequences_.emplace(next_id_, std::move(child));
  return next_id_++;
}

sequence_id paged_kv_cache::fork(sequence_id parent, int64_t length) {
  const sequence& p = find_sequence(parent);
  PM_ASSERT(length >= 0 && length <= p.length(), "a fork takes a prefix of its parent");
  const int64_t bs = params_.block_size;
  sequence child;
  const auto blocks = static_cast<size_t>((length + bs - 1) / bs);
  child.blocks.assign(p.blocks.begin(), p.blocks.begin() + static_cast<std::ptrdiff_t>(blocks));
  child.tokens.assign(p.tokens.begin(), p.tokens.begin() + length);
  child.hashes.assign(p.hashes.begin(),
                      p.hashes.begin() + std::min<std::ptrdiff_t>(
                                             static_cast<std::ptrdiff_t>(p.hashes.size()),
                                             length / bs));
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

int32_t paged_kv_cache::blocks_freed_by_release(sequence_id id) const {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) {
    return 0;
  }
  return static_cast<int32_t>(std::count_if(it->second.blocks.begin(), it->second.blocks.end(),
                                            [&](int32_t b) { return pool_.ref_count(b) == 1; }));
}

bool paged_kv_cache::must_copy(int32_t block, int32_t copied_away) const {
  return pool_.ref_count(block) - copied_away > 1 || block_hash_.contains(block);
}

int64_t paged_kv_cache::blocks_needed(const sequence& s, int64_t count,
                                      int32_t copied_away) const {
  int64_t bs = params_.block_size;
  int64_t total = (s.length() + count + bs - 1) / bs;
  int64_t fresh = total - static_cast<int64_t>(s.blocks.size());
  bool copy_first = s.length() % bs != 0 && count > 0 &&
                    must_copy(s.blocks[static_cast<size_t>(s.length() / bs)], copied_away);
  return fresh + (copy_first ? 1 : 0);
}

bool paged_kv_cache::can_append(sequence_id id, int64_t count) const {
  return blocks_needed(find_sequence(id), count) <= pool_.num_available();
}

bool paged_kv_cache::can_append_all(
    std::span<const std::pair<sequence_id, int64_t>> appends) const {
  const int64_t bs = params_.block_size;
  std::unordered_map<int32_t, int32_t> copied_away; // partial block -> holders that copied it
  int64_t needed = 0;
  for (const auto& [id, count] : appends) {
    const sequence& s = find_sequence(id);
    // Only a partial block that others hold changes with the order (most of a decode step's
    // items hold theirs alone: no map work for them).
    const bool writes_partial = s.length() % bs != 0 && count > 0;
    const int32_t partial = writes_partial ? s.blocks[static_cast<size_t>(s.length() / bs)] : -1;
    const bool shared = writes_partial && pool_.ref_count(partial) > 1;
    int32_t gone = 0;
    if (shared) {
      const auto it = copied_away.find(partial);
      gone = it == copied_away.end() ? 0 : it->second;
    }
    needed += blocks_needed(s, count, gone);
    if (shared && must_copy(partial, gone)) {
      ++copied_away[partial];
    }
  }
  return needed <= pool_.num_available();
}

uint64_t paged_kv_cache::block_hash(uint64_t parent, std::span<const int32_t> tokens) const {
  // splitmix64 steps over (parent, tokens): cheap, and well mixed enough for an index whose hits
  // are verified token by token.
  uint64_t h = splitmix64(parent);
  for (int32_t t : tokens) {
    h = splitmix64(h ^ static_cast<uint32_t>(t));
  }
  return h;
}

int32_t paged_kv_cache::allocate_block() {
  kv_block_pool::allocation a = pool_.allocate();
  if (a.evicted_cached) {
    auto it = block_hash_.find(a.block);
    PM_ASSERT(it != block_hash_.end(), "an evicted cached block is indexed");
    index_.erase(it->second);
    block_hash_.erase(it);
  }
  return a.block;
}

int64_t paged_kv_cache::match_prefix(sequence_id id, std::span<const int32_t> tokens) {
  sequence& s = sequences_.at(id);
  PM_ASSERT(s.length() == 0, "prefix matching starts an empty sequence");
  const int64_t bs = params_.block_size;
  uint64_t parent = 0;
  // Full blocks only, and never the last token: its logits must be computed.
  while ((static_cast<int64_t>(s.blocks.size()) + 1) * bs <= static_cast<int64_t>(tokens.size()) - 1) {
    auto chunk = tokens.subspan(s.blocks.size() * static_cast<size_t>(bs), static_cast<size_t>(bs));
    uint64_t h = block_hash(parent, chunk);
    auto it = index_.find(h);
    if (it == index_.end() || !std::equal(chunk.begin(), chunk.end(), it->second.tokens.begin())) {
      break;
    }
    pool_.acquire_cached(it->second.block);
    s.blocks.push_back(it->second.block);
    s.hashes.push_back(h);
    s.tokens.insert(s.tokens.end(), chunk.begin(), chunk.end());
    parent = h;
  }
  prefix_hit_tokens_ += s.length();
  return s.length();
}

void paged_kv_cache::index_full_blocks(sequence& s) {
  const int64_t bs = params_.block_size;
  while (static_cast<int64_t>(s.hashes.size()) < s.length() / bs) {
    size_t i = s.hashes.size();
    uint64_t parent = i == 0 ? 0 : s.hashes[i - 1];
    std::span<const int32_t> chunk(s.tokens.data() + i * static_cast<size_t>(bs),
                                   static_cast<size_t>(bs));
    uint64_t h = block_hash(parent, chunk);
    s.hashes.push_back(h);
    int32_t block = s.blocks[i];
    // First writer wins: an equal prefix computed twice keeps the first block indexed.
    if (!index_.contains(h) && !pool_.is_cached(block)) {
      index_.emplace(h, cached_block{block, std::vector<int32_t>(chunk.begin(), chunk.end())});
      block_hash_.emplace(block, h);
      pool_.mark_cached(block);
    }
  }
}

void paged_kv_cache::append(sequence_id id, std::span<const int32_t> tokens, cudaStream_t stream,
                            std::vector<int32_t>& slots) {
  const auto count = static_cast<int64_t>(tokens.size());
  PM_ASSERT(can_append(id, count), "append only after can_append");
  sequence& s = sequences_.at(id);
  const int64_t bs = params_.block_size;
  if (s.length() % bs != 0 && count > 0) {
    size_t last = static_cast<size_t>(s.length() / bs);
    int32_t shared = s.blocks[last];
    if (must_copy(shared)) {
      // Copy-on-write: this sequence is about to write into a block another one still reads,
      // or into a block the prefix index vouches for (a fork that shares a full block only up
      // to its own length, whose parent has since let go): writing in place would make the
      // index serve this sequence's tokens under the parent's hash.
      int32_t own = allocate_block();
      for (int64_t l = 0; l < params_.num_layers; ++l) {
        const std::array<std::byte*, num_pools> bases = layer_pools(l);
        for (size_t i = 0; i < bases.size(); ++i) {
          if (bases[i] == nullptr) {
            continue;
          }
          PM_CUDA_CHECK(cudaMemcpyAsync(bases[i] + static_cast<size_t>(own) * block_bytes_[i],
                                        bases[i] + static_cast<size_t>(shared) * block_bytes_[i],
                                        block_bytes_[i], cudaMemcpyDeviceToDevice, stream));
        }
      }
      pool_.release(shared);
      s.blocks[last] = own;
    }
  }
  const int64_t start = s.length();
  for (int64_t p = start; p < start + count; ++p) {
    if (p % bs == 0) {
      s.blocks.push_back(allocate_block());
    }
    slots.push_back(static_cast<int32_t>(s.blocks[static_cast<size_t>(p / bs)] * bs + p % bs));
  }
  s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
  index_full_blocks(s);
}

} // namespace proofmesh::engine
