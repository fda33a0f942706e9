// The continuous-batching planner on scripted and simulated workloads. The simulation plays the
// engine: it holds each sequence's blocks, applies every plan, and checks the invariants (memory
// never over-committed, budgets kept, every request finishes, preempted ones included).
#include "actors/engine/scheduling/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace proofmesh::engine {
namespace {

const scheduled_item* find(const step_schedule& s, request_id id) {
  for (const auto& item : s.items) {
    if (item.id == id) {
      return &item;
    }
  }
  return nullptr;
}

TEST(scheduler, prefills_then_decodes) {
  scheduler s({.max_running = 8, .max_step_tokens = 100, .block_size = 4, .total_blocks = 100});
  ASSERT_TRUE(s.add(1, 10, 5));
  ASSERT_TRUE(s.add(2, 7, 5));
  auto first = s.schedule(100);
  ASSERT_EQ(first.items.size(), 2u);
  EXPECT_EQ(find(first, 1)->count, 10);
  EXPECT_TRUE(find(first, 1)->samples);
  EXPECT_EQ(find(first, 2)->count, 7);
  s.complete(first);
  auto second = s.schedule(100);
  ASSERT_EQ(second.items.size(), 2u);
  EXPECT_EQ(find(second, 1)->start, 10);
  EXPECT_EQ(find(second, 1)->count, 1);
  EXPECT_TRUE(find(second, 2)->samples);
}

TEST(scheduler, followers_wait_for_their_leaders_prompt_then_start_from_the_cached_prefix) {
  scheduler s({.max_running = 8, .max_step_tokens = 12, .block_size = 4, .total_blocks = 100});
  ASSERT_TRUE(s.add(1, 21, 5));
  ASSERT_TRUE(s.add(2, 21, 5, 1));
  ASSERT_TRUE(s.add(3, 6, 5));
  ASSERT_TRUE(s.add(4, 21, 5, 99)); // a leader that is gone blocks nothing
  EXPECT_EQ(s.admission_candidates(8), (std::vector<request_id>{1, 3, 4}));
  auto a = s.schedule(100); // #1 takes the whole budget; #2 may not jump ahead of it
  ASSERT_EQ(a.items.size(), 1u);
  EXPECT_EQ(find(a, 1)->count, 12);
  s.complete(a);
  auto b = s.schedule(100); // #1's last 9 tokens, then #3 fits in the 3 left; #2 still waits
  EXPECT_EQ(find(b, 1)->count, 9);
  EXPECT_EQ(find(b, 3)->count, 3);
  EXPECT_EQ(find(b, 2), nullptr);
  s.complete(b);
  EXPECT_EQ(s.admission_candidates(8), (std::vector<request_id>{2, 4}));
  s.set_cached(2, 20); // the engine adopted #1's five full blocks
  auto c = s.schedule(100);
  ASSERT_NE(find(c, 2), nullptr);
  EXPECT_EQ(find(c, 2)->start, 20);
  EXPECT_EQ(find(c, 2)->count, 1);
  EXPECT_TRUE(find(c, 2)->samples);
}

TEST(scheduler, a_shared_partial_block_costs_one_more_block) {
  // A follower forked at 21 tokens (block size 4) ends inside a shared block: its 22nd token
  // still fits its 6 blocks, but writing it copies the shared one first, so it needs one free
  // block (without the copy in the count, it would be admitted with none and the runner would
  // run out mid-step).
  scheduler s({.max_running = 8, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
  ASSERT_TRUE(s.add(1, 22, 5));
  s.set_cached(1, 21);
  EXPECT_TRUE(s.schedule(0).items.empty());
  auto one = s.schedule(1);
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0].start, 21);
  EXPECT_EQ(one.items[0].count, 1);
}

TEST(scheduler, a_twin_joins_as_a_decode_and_its_first_write_copies_the_shared_block) {
  // #2's prompt equals #1's (21 tokens, block size 4): when #1's prompt step runs, #2 draws its
  // first token from #1's logits and joins with the whole prompt computed. Both next decode at
  // position 22, inside the 6th block they share, so each write copies that block first (the
  // runner copies for the first writer and lets the last write in place; a sharer that waits
  // would not write, so each reserves its copy): a free block each, though their tokens fit the
  // blocks they have.
  scheduler s({.max_running = 2, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
  ASSERT_TRUE(s.add(1, 21, 5));
  ASSERT_TRUE(s.add(2, 21, 5, 1));
  ASSERT_TRUE(s.add(3, 21, 5, 1));
  auto a = s.schedule(100);
  ASSERT_EQ(a.items.size(), 1u);
  s.complete(a);
  ASSERT_TRUE(s.can_join());
  s.join(2);
  EXPECT_FALSE(s.can_join()); // max_running 2: #3 waits and follows the usual way
  EXPECT_EQ(s.computed(2), 21);
  EXPECT_EQ(s.num_running(), 2);
  auto one = s.schedule(1); // one block: #1 copies, and #2 finds none for its copy
  EXPECT_EQ(one.preempted, (std::vector<request_id>{2}));
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0].id, 1);
}

// #1's 21-token prompt (blocks of 4) computed, and #2, its twin, joined as a decode.
void join_a_twin(scheduler& s) {
  ASSERT_TRUE(s.add(1, 21, 5));
  ASSERT_TRUE(s.add(2, 21, 5, 1));
  s.complete(s.schedule(100));
  s.join(2);
}

TEST(scheduler, twins_that_decode_together_reserve_a_copy_each) {
  scheduler s({.max_running = 2, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
  join_a_twin(s);
  auto b = s.schedule(2);
  ASSERT_EQ(b.items.size(), 2u);
  EXPECT_TRUE(b.preempted.empty());
  EXPECT_EQ(find(b, 2)->start, 21);
  EXPECT_EQ(find(b, 2)->count, 1);
  EXPECT_TRUE(find(b, 2)->samples);
  s.complete(b);
  auto c = s.schedule(0); // the copy is made: the next decodes fit the blocks held
  EXPECT_EQ(c.items.size(), 2u);
  EXPECT_TRUE(c.preempted.empty());
}

TEST(scheduler, a_twin_without_a_free_block_for_its_copy_is_preempted) {
  scheduler s({.max_running = 4, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
  join_a_twin(s);
  // #1's copy finds no block: #2, the youngest, goes back, and #1, which then holds the shared
  // block alone, writes into it in place.
  auto b = s.schedule(0);
  ASSERT_NE(find(b, 1), nullptr);
  EXPECT_EQ(find(b, 1)->count, 1);
  EXPECT_EQ(b.preempted, (std::vector<request_id>{2}));
  // Its six blocks were all #1's too: dropping it frees none, so it is not recomputed into
  // blocks the pool does not have (the runner would fail the whole step) ...
  EXPECT_EQ(find(b, 2), nullptr);
  s.complete(b);
  // ... but from its prompt plus its token once there is room.
  auto c = s.schedule(6);
  ASSERT_NE(find(c, 2), nullptr);
  EXPECT_EQ(find(c, 2)->start, 0);
  EXPECT_EQ(find(c, 2)->count, 22);
}

TEST(scheduler, preempting_a_leader_that_a_fork_shares_credits_only_the_blocks_it_holds_alone) {
  // #2 forked #1's 16-token prompt (4 blocks of 4) and waits; #0's decode then needs a block
  // with none free. Preempting #1, the youngest running, frees none of those 4 blocks while #2
  // holds them, so #0 preempts itself rather than being granted blocks that do not exist, and
  // #1 is not recomputed into them either.
  scheduler s({.max_running = 2, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
  ASSERT_TRUE(s.add(0, 8, 8));
  ASSERT_TRUE(s.add(1, 16, 8));
  ASSERT_TRUE(s.add(2, 17, 8, 1));
  auto a = s.schedule(100);
  ASSERT_EQ(a.items.size(), 2u);
  s.complete(a);
  s.set_cached(2, 16); // max_running 2: #2 holds its fork but is not admitted
  auto b = s.schedule(0);
  EXPECT_EQ(b.preempted, (std::vector<request_id>{1, 0}));
  // #0 gives back its own 2 blocks and restarts in them; #1's 16 tokens would need 4.
  ASSERT_EQ(b.items.size(), 1u);
  EXPECT_EQ(b.items[0].id, 0);
  EXPECT_EQ(b.items[0].start, 0);
  EXPECT_EQ(b.items[0].count, 8);
}

TEST(scheduler, the_runners_count_of_what_a_drop_frees_comes_before_the_planners) {
  // #0 and #1 decode at 8 tokens (2 blocks each, block size 4) and need a third block each, with
  // none free. The planner alone would take #1's 2 blocks as freed; the runner says otherwise.
  auto setup = [](scheduler& s) {
    ASSERT_TRUE(s.add(0, 8, 8));
    ASSERT_TRUE(s.add(1, 8, 8));
    s.complete(s.schedule(100));
  };
  {
    // #1's blocks are shared through the prefix cache, which the planner does not see: dropping
    // it frees none, so #0 cannot take them and goes back too; nothing is planned into blocks
    // that do not exist.
    scheduler s({.max_running = 4, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
    setup(s);
    auto b = s.schedule(0, [](request_id) { return int64_t{0}; });
    EXPECT_EQ(b.preempted, (std::vector<request_id>{1, 0}));
    EXPECT_TRUE(b.items.empty());
  }
  {
    // Without the runner's count the planner credits #1's 2 blocks: #0 decodes into one.
    scheduler s({.max_running = 4, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
    setup(s);
    auto b = s.schedule(0);
    EXPECT_EQ(b.preempted, (std::vector<request_id>{1}));
    ASSERT_NE(find(b, 0), nullptr);
    EXPECT_EQ(find(b, 0)->count, 1);
  }
  {
    // #1 is a twin of #0, which ended after one token and let go of the shared blocks; the
    // planner, which cannot see that, credits #1 none of them, the runner all 2: #2 decodes
    // after preempting #1 alone instead of going back as well.
    scheduler s({.max_running = 4, .max_step_tokens = 64, .block_size = 4, .total_blocks = 100});
    ASSERT_TRUE(s.add(0, 8, 1));
    ASSERT_TRUE(s.add(1, 8, 8, 0));
    ASSERT_TRUE(s.add(2, 8, 8));
    s.complete(s.schedule(100));
    s.join(1);
    s.remove(0);
    auto alone = [](request_id id) { return id == 1 ? int64_t{2} : int64_t{-1}; };
    auto b = s.schedule(0, alone);
    EXPECT_EQ(b.preempted, (std::vector<request_id>{1}));
    ASSERT_NE(find(b, 2), nullptr);
    EXPECT_EQ(find(b, 2)->start, 8);
  }
}

TEST(scheduler, chunks_long_prompts_under_the_token_budget_and_decodes_go_first) {
  scheduler s({.max_running = 8, .max_step_tokens = 10, .block_size = 4, .total_blocks = 100});
  ASSERT_TRUE(s.add(1, 3, 5));
  ASSERT_TRUE(s.add(2, 25, 5));
  auto a = s.schedule(100); // 3 tokens of #1, then 7 of #2
  EXPECT_EQ(find(a, 1)->count, 3);
  EXPECT_EQ(find(a, 2)->count, 7);
  EXPECT_FALSE(find(a, 2)->samples);
  s.complete(a);
  auto b = s.schedule(100); // #1 decodes (1), #2 continues with the 9 left in the budget
  EXPECT_EQ(find(b, 1)->count, 1);
  EXPECT_EQ(find(b, 2)->start, 7);
  EXPECT_EQ(find(b, 2)->count, 9);
  s.complete(b);
  auto c = s.schedule(100);
  EXPECT_EQ(find(c, 2)->count, 9);
  EXPECT_TRUE(find(c, 2)->samples); // 7 + 9 + 9 = 25: the prompt is complete
}

TEST(scheduler, caps_running_sequences_and_admits_in_arrival_order) {
  scheduler s({.max_running = 2, .max_step_tokens = 1000, .block_size = 4, .total_blocks = 100});
  for (request_id id = 1; id <= 4; ++id) {
    ASSERT_TRUE(s.add(id, 5, 2));
  }
  auto a = s.schedule(100);
  EXPECT_EQ(a.items.size(), 2u);
  EXPECT_NE(find(a, 1), nullptr);
  EXPECT_NE(find(a, 2), nullptr);
  s.complete(a);
  s.remove(1);
  auto b = s.schedule(100);
  EXPECT_NE(find(b, 3), nullptr);
  EXPECT_EQ(find(b, 4), nullptr);
}

TEST(scheduler, refuses_requests_larger_than_the_cache) {
  scheduler s({.max_running = 2, .max_step_tokens = 100, .block_size = 4, .total_blocks = 3});
  EXPECT_FALSE(s.add(1, 10, 3)); // 13 tokens need 4 blocks
  EXPECT_TRUE(s.add(2, 10, 2));
  EXPECT_FALSE(s.add(3, 0, 2));
}

// Plays the engine over a random workload and checks every invariant at every step.
int64_t simulate(uint32_t seed, int64_t total_blocks, int32_t max_running, int64_t budget) {
  const int32_t bs = 4;
  scheduler s({.max_running = max_running, .max_step_tokens = budget, .block_size = bs,
               .total_blocks = total_blocks});
  std::mt19937 rng(seed);
  std::map<request_id, int64_t> computed, generated, max_new;
  std::vector<request_id> finished;
  const int n = 40;
  for (request_id id = 0; id < n; ++id) {
    int64_t prompt = 1 + static_cast<int64_t>(rng() % 30);
    int64_t gen = 1 + static_cast<int64_t>(rng() % 20);
    EXPECT_TRUE(s.add(id, prompt, gen));
    computed[id] = 0;
    generated[id] = 0;
    max_new[id] = gen;
  }
  auto held = [&] {
    int64_t blocks = 0;
    for (auto& [id, c] : computed) {
      blocks += (c + bs - 1) / bs;
    }
    return blocks;
  };
  int steps = 0;
  while (!s.empty()) {
    if (++steps > 10000) {
      ADD_FAILURE() << "no progress";
      return -1;
    }
    step_schedule step = s.schedule(total_blocks - held());
    for (request_id id : step.preempted) {
      computed[id] = 0;
    }
    int64_t tokens = 0;
    for (const auto& item : step.items) {
      EXPECT_EQ(item.start, computed[item.id]);
      computed[item.id] += item.count;
      tokens += item.count;
    }
    EXPECT_LE(tokens, budget);
    EXPECT_LE(static_cast<int32_t>(step.items.size()), max_running);
    EXPECT_LE(held(), total_blocks) << "memory over-committed at step " << steps;
    if (step.items.empty()) {
      ADD_FAILURE() << "an idle step with work queued";
      return -1;
    }
    s.complete(step);
    for (const auto& item : step.items) {
      if (item.samples && ++generated[item.id] == max_new[item.id]) {
        s.remove(item.id);
        computed.erase(item.id);
        finished.push_back(item.id);
      }
    }
  }
  EXPECT_EQ(static_cast<int>(finished.size()), n);
  return s.num_preemptions();
}

TEST(scheduler, random_workloads_finish_within_memory_and_budget) {
  int64_t roomy = 0, tight = 0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    roomy += simulate(seed, 1000, 16, 64);
    tight += simulate(seed, 16, 8, 32); // tight memory: preemption by recompute
    simulate(seed, 13, 64, 7);          // tiny budget, just enough blocks for the largest request
  }
  EXPECT_EQ(roomy, 0);
  EXPECT_GT(tight, 0) << "the tight workload never exercised preemption";
}

// A block pool as the CUDA cache keeps it: reference-counted blocks, forks that share them, and
// copy-on-write of a shared partial block at a sequence's next write. An allocation past the
// pool is the runner's "KV cache is full", which fails a whole step.
class shared_pool {
public:
  shared_pool(int64_t total, int32_t block_size) : total_(total), bs_(block_size) {}

  int64_t free() const { return total_ - static_cast<int64_t>(refs_.size()); }
  int64_t tokens(request_id id) const {
    auto it = seqs_.find(id);
    return it == seqs_.end() ? 0 : it->second.tokens;
  }
  void fork(request_id parent, request_id child) {
    seqs_[child] = seqs_.at(parent);
    for (int64_t b : seqs_[child].blocks) {
      ++refs_[b];
    }
  }
  void release(request_id id) {
    for (int64_t b : seqs_[id].blocks) {
      if (--refs_[b] == 0) {
        refs_.erase(b);
      }
    }
    seqs_.erase(id);
  }
  // Blocks a release would free: those nobody else holds.
  int64_t exclusive(request_id id) const {
    auto it = seqs_.find(id);
    if (it == seqs_.end()) {
      return 0;
    }
    return std::count_if(it->second.blocks.begin(), it->second.blocks.end(),
                         [&](int64_t b) { return refs_.at(b) == 1; });
  }
  // Appends `count` tokens; false if the pool ran out.
  bool append(request_id id, int64_t count) {
    seq& q = seqs_[id];
    if (q.tokens % bs_ != 0 && refs_.at(q.blocks.back()) > 1) { // copy on write
      if (free() <= 0) {
        return false;
      }
      --refs_[q.blocks.back()];
      q.blocks.back() = fresh();
    }
    q.tokens += count;
    while (static_cast<int64_t>(q.blocks.size()) * bs_ < q.tokens) {
      if (free() <= 0) {
        return false;
      }
      q.blocks.push_back(fresh());
    }
    return true;
  }

private:
  struct seq {
    std::vector<int64_t> blocks;
    int64_t tokens = 0;
  };
  int64_t fresh() {
    refs_[next_] = 1;
    return next_++;
  }

  int64_t total_;
  int32_t bs_;
  int64_t next_ = 0;
  std::map<int64_t, int64_t> refs_; // live blocks and their holders
  std::map<request_id, seq> seqs_;
};

// Plays the batch engine with twins (n samples of one prompt: a leader and requests that wait
// for it, join as decodes when its prompt step runs and fork its blocks) over a shared pool, and
// checks that no step asks for more blocks than the pool has.
int64_t simulate_twins(uint32_t seed, int64_t total_blocks, int32_t max_running) {
  const int32_t bs = 4;
  scheduler s({.max_running = max_running, .max_step_tokens = 64, .block_size = bs,
               .total_blocks = total_blocks});
  shared_pool pool(total_blocks, bs);
  std::mt19937 rng(seed);
  std::map<request_id, int64_t> generated, max_new;
  std::map<request_id, std::vector<request_id>> twins; // leader -> its waiting twins
  request_id next = 0;
  for (int group = 0; group < 6; ++group) {
    const int64_t prompt = 1 + static_cast<int64_t>(rng() % 14);
    const int n = 1 + static_cast<int>(rng() % 4);
    const request_id leader = next;
    for (int i = 0; i < n; ++i, ++next) {
      const int64_t gen = 1 + static_cast<int64_t>(rng() % 8);
      EXPECT_TRUE(i == 0 ? s.add(next, prompt, gen) : s.add(next, prompt, gen, leader));
      if (i > 0) {
        twins[leader].push_back(next);
      }
      generated[next] = 0;
      max_new[next] = gen;
    }
  }
  const auto total = static_cast<size_t>(next);
  size_t finished = 0;
  auto finish = [&](request_id id) {
    s.remove(id);
    pool.release(id);
    ++finished;
  };
  for (int steps = 0; !s.empty(); ++steps) {
    if (steps > 10000) {
      ADD_FAILURE() << "no progress";
      return -1;
    }
    step_schedule step;
    for (;;) { // as batch_engine::schedule: plan again when a step preempts all and plans nothing
      step_schedule got =
          s.schedule(pool.free(), [&](request_id id) { return pool.exclusive(id); });
      for (request_id id : got.preempted) {
        pool.release(id);
      }
      step.items = got.items;
      if (!got.items.empty() || got.preempted.empty()) {
        break;
      }
    }
    if (step.items.empty()) {
      ADD_FAILURE() << "an idle step with work queued";
      return -1;
    }
    for (const auto& item : step.items) {
      EXPECT_EQ(item.start, pool.tokens(item.id));
      EXPECT_TRUE(pool.append(item.id, item.count))
          << "the pool ran out at step " << steps << " (seed " << seed << ")";
    }
    s.complete(step);
    for (const auto& item : step.items) {
      if (!item.samples) {
        continue;
      }
      const bool first = generated[item.id]++ == 0;
      // The leader's prompt step: its waiting twins draw from its logits and join, while the
      // running set has room.
      if (first && twins.contains(item.id)) {
        auto& waiting = twins[item.id];
        while (!waiting.empty() && s.can_join() && s.computed(waiting.front()) == 0 &&
               pool.tokens(waiting.front()) == 0) {
          const request_id t = waiting.front();
          waiting.erase(waiting.begin());
          pool.fork(item.id, t);
          s.join(t);
          if (++generated[t] == max_new[t]) {
            finish(t);
          }
        }
      }
      if (generated[item.id] == max_new[item.id]) {
        finish(item.id);
      }
    }
  }
  EXPECT_EQ(finished, total);
  return s.num_preemptions();
}

TEST(scheduler, twins_over_a_shared_pool_never_ask_for_blocks_it_lacks) {
  int64_t tight = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    simulate_twins(seed, 1000, 16);
    tight += simulate_twins(seed, 12, 8);
  }
  EXPECT_GT(tight, 0) << "the tight pool never preempted";
}

TEST(scheduler, tight_memory_preempts_the_youngest_and_still_finishes_everyone) {
  scheduler s({.max_running = 8, .max_step_tokens = 100, .block_size = 4, .total_blocks = 6});
  ASSERT_TRUE(s.add(1, 8, 8));
  ASSERT_TRUE(s.add(2, 8, 8));
  ASSERT_TRUE(s.add(3, 7, 1));
  auto a = s.schedule(6); // 2 + 2 blocks for #1 and #2; #3 gets the last 2
  EXPECT_EQ(a.items.size(), 3u);
  s.complete(a);
  s.remove(3); // #3 done after one token; its 2 blocks return
  // Decodes: #1 and #2 are at 9 known tokens, 8 cached: position 8 needs a third block each.
  auto b = s.schedule(2);
  EXPECT_TRUE(b.preempted.empty());
  s.complete(b);
  // Next: both need no new block until position 12.
  auto c = s.schedule(0);
  EXPECT_EQ(c.items.size(), 2u);
  s.complete(c);
  for (int i = 0; i < 2; ++i) {
    s.complete(s.schedule(0));
  }
  // Position 12 needs a fourth block each, with none free: #2, the youngest, is preempted.
  auto d = s.schedule(0);
  ASSERT_EQ(d.preempted.size(), 1u);
  EXPECT_EQ(d.preempted[0], 2);
  EXPECT_NE(find(d, 1), nullptr);
  EXPECT_EQ(s.num_preemptions(), 1);
}

} // namespace
} // namespace proofmesh::engine
