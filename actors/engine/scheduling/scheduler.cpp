#include "actors/engine/scheduling/scheduler.hpp"

#include "actors/common/check.hpp"

#include <algorithm>

namespace proofmesh::engine {

scheduler::scheduler(const scheduler_config& config) : config_(config) {
  PM_ASSERT(config.max_running > 0 && config.max_step_tokens > 0 && config.block_size > 0,
            "a scheduler needs room for at least one token");
}

int64_t scheduler::blocks_for(int64_t tokens) const {
  return (tokens + config_.block_size - 1) / config_.block_size;
}

bool scheduler::add(request_id id, int64_t prompt_tokens, int64_t max_new_tokens,
                    std::optional<request_id> after) {
  PM_ASSERT(!requests_.contains(id), "request ids are unique");
  if (prompt_tokens < 1 || max_new_tokens < 0 ||
      blocks_for(prompt_tokens + max_new_tokens) > config_.total_blocks) {
    return false;
  }
  requests_[id] = request{.prompt = prompt_tokens, .max_new = max_new_tokens, .after = after};
  waiting_.push_back(id);
  return true;
}

bool scheduler::blocked(const request& r) const {
  if (!r.after) {
    return false;
  }
  auto it = requests_.find(*r.after);
  return it != requests_.end() && it->second.computed < it->second.prompt;
}

std::vector<request_id> scheduler::admission_candidates(int64_t limit) const {
  std::vector<request_id> out;
  for (auto it = waiting_.begin(); it != waiting_.end() && static_cast<int64_t>(out.size()) < limit;
       ++it) {
    if (!blocked(requests_.at(*it))) {
      out.push_back(*it);
    }
  }
  return out;
}

void scheduler::set_cached(request_id id, int64_t tokens) {
  request& r = requests_.at(id);
  PM_ASSERT(std::find(waiting_.begin(), waiting_.end(), id) != waiting_.end() && r.computed == 0,
            "only a waiting request with nothing computed adopts a cached prefix");
  PM_ASSERT(tokens >= 0 && tokens < known_tokens(r), "the last known token is always computed");
  r.computed = tokens;
  r.copy_pending = tokens % config_.block_size != 0;
  share_with_leader(r, tokens);
}

// The first `tokens` of r's cache are another cache's blocks: r's full blocks (its partial one is
// copy_pending's) and, while its leader is still here, the leader's blocks up to there. A leader
// whose next write lands in the partial block it now shares copies it first, as r does: both
// reserve the copy (the runner copies for every writer but the last, so this is one block
// conservative), since r may not write in the same step (waiting for room) while the leader does.
void scheduler::share_with_leader(request& r, int64_t tokens) {
  r.shared_blocks = tokens / config_.block_size;
  if (r.after) {
    if (auto leader = requests_.find(*r.after); leader != requests_.end()) {
      request& l = leader->second;
      l.shared_blocks = std::max(l.shared_blocks, blocks_for(tokens));
      if (tokens % config_.block_size != 0 && l.computed % config_.block_size != 0 &&
          blocks_for(l.computed) == blocks_for(tokens)) {
        l.copy_pending = true;
      }
    }
  }
}

// A fork `v` dropped its cache: if no other fork of its leader still shares the leader's partial
// block, the leader holds it alone again and its next write needs no copy.
void scheduler::release_shared_partial(const request& v) {
  if (!v.after) {
    return;
  }
  auto leader = requests_.find(*v.after);
  if (leader == requests_.end() || !leader->second.copy_pending) {
    return;
  }
  for (const auto& [id, q] : requests_) {
    if (&q != &v && q.after == v.after && q.copy_pending && q.computed > 0) {
      return;
    }
  }
  leader->second.copy_pending = false;
}

// What preempting r gives back for sure, where the runner cannot say: a block another cache may
// share stays held. The count is conservative for the sharing it knows of (a partner that
// finished leaves its blocks r's alone, uncredited, so a preemption may take one victim more
// than it needed); sharing through the prefix cache it does not see, which is why the runner's
// own count comes first.
int64_t scheduler::blocks_freed_by_drop(const request& r) const {
  return std::max<int64_t>(
      0, blocks_for(r.computed) - r.shared_blocks - (r.copy_pending ? 1 : 0));
}

void scheduler::join(request_id id) {
  request& r = requests_.at(id);
  PM_ASSERT(std::find(waiting_.begin(), waiting_.end(), id) != waiting_.end() && r.computed == 0 &&
                r.generated == 0 && can_join(),
            "a waiting request with nothing computed joins while running has room");
  r.computed = r.prompt;
  r.generated = 1;
  r.copy_pending = r.prompt % config_.block_size != 0; // its first write copies the shared block
  share_with_leader(r, r.prompt);
  std::erase(waiting_, id);
  running_.push_back(id);
}

void scheduler::remove(request_id id) {
  requests_.erase(id);
  std::erase(waiting_, id);
  std::erase(running_, id);
}

step_schedule scheduler::schedule(int64_t free_blocks, const freed_by_drop& freed) {
  step_schedule step;
  int64_t budget = config_.max_step_tokens;
  auto blocks_to_reach = [&](const request& r, int64_t tokens) {
    return blocks_for(tokens) - blocks_for(r.computed);
  };

  // 1. Decodes of running sequences whose known tokens are all in the cache, oldest first. A
  //    decode that finds no block preempts the youngest running sequence (possibly itself).
  std::vector<request_id> decoding;
  for (request_id id : running_) {
    const request& r = requests_.at(id);
    if (r.computed + 1 == known_tokens(r)) {
      decoding.push_back(id);
    }
  }
  for (request_id id : decoding) {
    if (std::find(running_.begin(), running_.end(), id) == running_.end()) {
      continue; // preempted earlier in this loop
    }
    request& r = requests_.at(id);
    // A first write into a shared partial block copies it (a joined twin's, its leader's).
    auto need_of = [&] { return blocks_to_reach(r, r.computed + 1) + (r.copy_pending ? 1 : 0); };
    int64_t need = need_of();
    while (need > free_blocks) {
      request_id victim = running_.back();
      request& v = requests_.at(victim);
      const int64_t counted = freed ? freed(victim) : -1;
      free_blocks += counted >= 0 ? counted : blocks_freed_by_drop(v);
      v.computed = 0;
      v.copy_pending = false;
      v.shared_blocks = 0;
      running_.pop_back();
      waiting_.push_front(victim);
      step.preempted.push_back(victim);
      ++preemptions_;
      // A victim already scheduled this step gives its tokens and blocks back.
      auto it = std::find_if(step.items.begin(), step.items.end(),
                             [&](const scheduled_item& s) { return s.id == victim; });
      if (it != step.items.end()) {
        budget += it->count;
        step.items.erase(it);
      }
      if (victim == id) {
        break;
      }
      release_shared_partial(v);
      need = need_of(); // the victim may have been the last to share this one's partial block
    }
    if (std::find(running_.begin(), running_.end(), id) == running_.end() || budget < 1) {
      continue;
    }
    free_blocks -= need;
    budget -= 1;
    r.copy_pending = false;
    step.items.push_back({.id = id, .start = r.computed, .count = 1, .samples = true});
  }

  // 2. Chunked prefills already under way, then 3. new requests in arrival order.
  auto prefill = [&](request_id id) {
    request& r = requests_.at(id);
    int64_t want = std::min(known_tokens(r) - r.computed, budget);
    // As many tokens as the free blocks hold, less the copy of a shared last block.
    const int64_t copy = r.copy_pending ? 1 : 0;
    int64_t room = (blocks_for(r.computed) + free_blocks - copy) * config_.block_size - r.computed;
    int64_t count = std::min(want, room);
    if (count <= 0) {
      return false;
    }
    free_blocks -= blocks_to_reach(r, r.computed + count) + copy;
    r.copy_pending = false;
    budget -= count;
    step.items.push_back({.id = id, .start = r.computed, .count = count,
                          .samples = r.computed + count == known_tokens(r)});
    return true;
  };
  for (request_id id : running_) {
    const request& r = requests_.at(id);
    if (budget > 0 && r.computed + 1 < known_tokens(r)) {
      prefill(id);
    }
  }
  for (auto it = waiting_.begin(); it != waiting_.end() && budget > 0 &&
                                   static_cast<int32_t>(running_.size()) < config_.max_running;) {
    if (blocked(requests_.at(*it))) {
      ++it; // its leader is computing the shared prefix; it follows once that is cached
      continue;
    }
    if (!prefill(*it)) {
      break; // no memory for the head of the queue: later arrivals wait behind it
    }
    running_.push_back(*it);
    it = waiting_.erase(it);
  }
  return step;
}

int64_t scheduler::blocks_held() const {
  int64_t blocks = 0;
  for (request_id id : running_) {
    blocks += blocks_for(requests_.at(id).computed);
  }
  return blocks;
}

void scheduler::complete(const step_schedule& step) {
  for (const scheduled_item& item : step.items) {
    auto it = requests_.find(item.id);
    if (it == requests_.end()) {
      continue; // removed while the step ran
    }
    request& r = it->second;
    PM_ASSERT(r.computed == item.start, "steps complete in order");
    r.computed += item.count;
    if (item.samples) {
      ++r.generated;
    }
  }
}

} // namespace proofmesh::engine
