#include "actors/engine/scheduling/batch_engine.hpp"

#include "actors/common/check.hpp"
#include "actors/common/error.hpp"
#include "actors/common/splitmix64.hpp"
#include "actors/engine/generation/prompt_check.hpp"

#include <algorithm>

namespace proofmesh::engine {

namespace {

// A paged runner's cache is the authority on its blocks (their size came from the same
// engine_config field): the planner takes its block size. A budget of 0 blocks means the
// runner's: its whole pool where it has one (the CUDA runner's free blocks before any sequence),
// else room for every running sequence at full context.
scheduler_config sized_for(scheduler_config config, const model_runner& runner) {
  if (runner.kv_block_size() > 0) {
    config.block_size = runner.kv_block_size();
  }
  if (config.total_blocks <= 0) {
    const int64_t pool = runner.stats().free_kv_blocks;
    const int64_t context = std::max<int64_t>(1, runner.config().max_position_embeddings);
    config.total_blocks =
        pool >= 0 ? pool : config.max_running * ((context + config.block_size - 1) / config.block_size);
  }
  return config;
}

} // namespace

batch_engine::batch_engine(model_runner& runner, const tokenizer* tok,
                           const scheduler_config& config)
    : runner_(runner), tok_(tok), config_(sized_for(config, runner)), scheduler_(config_) {}

batch_engine::~batch_engine() {
  for (auto& [id, a] : active_) {
    if (a.seq) {
      runner_.release_sequence(*a.seq);
    }
  }
  for (auto& [leader, donor] : donors_) {
    if (donor.seq) {
      runner_.release_sequence(*donor.seq);
    }
  }
}

request_id batch_engine::submit(engine_request request) {
  check_prompt(runner_.config(), request.prompt, request.max_tokens);
  check_sampling(request.sampling);
  if (request.max_tokens < 1) {
    throw input_error("max_tokens must be >= 1");
  }
  const auto prompt_len = static_cast<int64_t>(request.prompt.size());
  request_id id = next_id_;
  std::vector<int32_t> tokens = request.prompt;
  completion_limits limits{.max_tokens = request.max_tokens,
                           .stop_ids = request.stop_ids,
                           .stop_strings = request.stop_strings,
                           .keep_logprobs = request.sampling.num_logprobs > 0};
  sampler host_sampler(request.sampling, request.stream);
  active_request a{.request = std::move(request),
                   .tokens = std::move(tokens),
                   .seq = std::nullopt,
                   .host_sampler = std::move(host_sampler),
                   .track = completion_tracker(tok_, std::move(limits))};
  std::optional<request_id> leader = find_prefix_leader(id, a);
  if (!scheduler_.add(id, prompt_len, a.request.max_tokens, leader)) {
    if (a.prefix_key) {
      prefix_leaders_.erase(*a.prefix_key);
    }
    throw input_error("the request needs more KV cache than the engine has (" +
                      std::to_string(config_.total_blocks) + " blocks of " +
                      std::to_string(config_.block_size) + " tokens)");
  }
  ++next_id_;
  if (leader) {
    a.leader = leader;
    ++donors_[*leader].followers;
  }
  active_.emplace(id, std::move(a));
  return id;
}

// The prompt's reusable part is its full blocks short of the last token (whose logits every
// request computes). Equal parts under a live leader make a follower; otherwise this request
// leads its group.
std::optional<request_id> batch_engine::find_prefix_leader(request_id id, active_request& a) {
  const size_t bs = static_cast<size_t>(config_.block_size);
  const size_t reusable = (a.tokens.size() - 1) / bs * bs;
  if (reusable == 0) {
    return std::nullopt;
  }
  uint64_t key = reusable;
  for (size_t i = 0; i < reusable; ++i) {
    key = splitmix64(key ^ static_cast<uint32_t>(a.tokens[i]));
  }
  auto it = prefix_leaders_.find(key);
  if (it != prefix_leaders_.end()) {
    const active_request& leader = active_.at(it->second);
    if (leader.tokens.size() >= reusable &&
        std::equal(a.tokens.begin(), a.tokens.begin() + static_cast<std::ptrdiff_t>(reusable),
                   leader.tokens.begin())) {
      return it->second;
    }
    return std::nullopt; // a hash collision: no group, no harm
  }
  prefix_leaders_[key] = id;
  a.prefix_key = key;
  return std::nullopt;
}

// Requests the next schedule may admit start from the longest prefix the runner has cached.
void batch_engine::adopt_cached_prefixes() {
  const int64_t room = config_.max_running - scheduler_.num_running();
  for (request_id id : scheduler_.admission_candidates(room)) {
    active_request& a = active_.at(id);
    if (a.seq) {
      continue; // adopted on an earlier step
    }
    if (!fork_from_leader(id, a)) {
      a.seq = runner_.create_sequence();
      if (int64_t hit = runner_.adopt_cached_prefix(*a.seq, a.tokens); hit > 0) {
        scheduler_.set_cached(id, hit);
      }
    }
    release_follower(a);
  }
}

// A follower got its sequence (or ended without one): its leader's donor may go.
void batch_engine::release_follower(active_request& a) {
  if (!a.leader) {
    return;
  }
  auto it = donors_.find(*a.leader);
  a.leader.reset();
  if (it == donors_.end() || --it->second.followers > 0) {
    return;
  }
  if (it->second.seq) {
    runner_.release_sequence(*it->second.seq);
  }
  donors_.erase(it);
}

// A follower whose whole prompt but the last token is in its leader's cache shares all of it,
// partial block included, and computes one token (the logits it samples from) instead of the
// tail past the last full block.
bool batch_engine::fork_from_leader(request_id id, active_request& a) {
  if (!a.leader) {
    return false;
  }
  // The leader's sequence, tokens and cached length: live, or kept by its donor.
  std::optional<sequence_id> source;
  const std::vector<int32_t>* tokens = nullptr;
  int64_t cached = 0;
  if (auto live = active_.find(*a.leader); live != active_.end()) {
    source = live->second.seq;
    tokens = &live->second.tokens;
    cached = scheduler_.computed(*a.leader);
  } else if (auto donor = donors_.find(*a.leader); donor != donors_.end()) {
    source = donor->second.seq;
    tokens = &donor->second.tokens;
    cached = donor->second.cached;
  }
  const auto shared = static_cast<int64_t>(a.tokens.size()) - 1;
  if (!source || cached < shared || static_cast<int64_t>(tokens->size()) < shared ||
      !std::equal(a.tokens.begin(), a.tokens.begin() + shared, tokens->begin())) {
    return false;
  }
  std::optional<sequence_id> seq = runner_.fork_prefix(*source, shared);
  if (!seq) {
    return false;
  }
  a.seq = seq;
  scheduler_.set_cached(id, shared);
  return true;
}

void batch_engine::cancel(request_id id) {
  if (active_.contains(id)) {
    cancelled_.insert(id);
  }
}

void batch_engine::finish(request_id id, engine_event& event) {
  active_request& a = active_.at(id);
  release_follower(a);
  if (auto donor = donors_.find(id); donor != donors_.end() && a.seq) {
    // Followers still wait for this prompt: its cache outlives the request.
    donor->second.seq = a.seq;
    donor->second.tokens = a.tokens;
    donor->second.cached = scheduler_.computed(id);
  } else if (a.seq) {
    runner_.release_sequence(*a.seq);
  }
  scheduler_.remove(id);
  if (a.prefix_key) {
    prefix_leaders_.erase(*a.prefix_key);
  }
  event.finished = a.track.take();
  active_.erase(id);
}

std::vector<engine_event> batch_engine::take_cancellations() {
  std::vector<engine_event> events;
  for (request_id id : cancelled_) {
    if (active_.contains(id)) {
      engine_event e{.id = id, .cancelled = true};
      finish(id, e);
      events.push_back(std::move(e));
    }
  }
  cancelled_.clear();
  return events;
}

std::vector<engine_event> batch_engine::step() {
  std::vector<engine_event> events = take_cancellations();
  if (active_.empty()) {
    return events;
  }
  const step_schedule plan = schedule();
  step_draws draws = run(plan);
  postprocess(plan, std::move(draws), events);
  return events;
}

// Adopt cached prefixes (which may take evictable blocks), then plan against the runner's free
// blocks, or our own count where the runner has no bound; preempted requests give their blocks
// back. The planner credits a victim only with blocks it knows the victim holds alone, so a step
// may preempt everything it runs and plan nothing; by then the victims' caches are released, and
// planning again against what is free now makes progress.
step_schedule batch_engine::schedule() {
  adopt_cached_prefixes();
  const scheduler::freed_by_drop freed = [this](request_id id) -> int64_t {
    const active_request& a = active_.at(id);
    return a.seq ? runner_.blocks_freed_by_release(*a.seq) : 0;
  };
  step_schedule plan;
  for (;;) {
    int64_t free_blocks = runner_.stats().free_kv_blocks;
    if (free_blocks < 0) {
      free_blocks = config_.total_blocks - scheduler_.blocks_held();
    }
    step_schedule next = scheduler_.schedule(free_blocks, freed);
    for (request_id id : next.preempted) {
      active_request& a = active_.at(id);
      runner_.release_sequence(*a.seq);
      a.seq.reset();
    }
    plan.items = std::move(next.items);
    plan.preempted.insert(plan.preempted.end(), next.preempted.begin(), next.preempted.end());
    if (!plan.items.empty() || next.preempted.empty()) {
      break;
    }
  }
  PM_ASSERT(!plan.items.empty(), "work is queued, so the scheduler plans something");
  return plan;
}

// Followers whose whole prompt equals `leader`'s (n samples of one prompt) and that wait for it,
// in arrival order, at most `room`: when the leader's last prompt chunk runs they draw their
// first tokens from its logits and join as decodes, so n samples cost one prefill and no step
// of their own.
std::vector<request_id> batch_engine::twins_of(request_id leader, int64_t room) const {
  std::vector<request_id> twins;
  auto donor = donors_.find(leader);
  if (room <= 0 || donor == donors_.end() || donor->second.followers == 0) {
    return twins;
  }
  const active_request& l = active_.at(leader);
  for (const auto& [id, a] : active_) {
    if (static_cast<int64_t>(twins.size()) == room) {
      break;
    }
    if (a.leader == leader && !a.seq && a.tokens == l.tokens) {
      twins.push_back(id);
    }
  }
  return twins;
}

// One batch of token chunks; sampled rows come back as tokens, drawn on the device or here from
// the logits. A leader whose prompt ends this step is drawn once more for each of its twins.
batch_engine::step_draws batch_engine::run(const step_schedule& plan) {
  std::vector<runner_item> batch;
  std::vector<sample_spec> specs;
  std::vector<std::vector<request_id>> twins(plan.items.size());
  int64_t room = config_.max_running - scheduler_.num_running();
  auto spec_of = [](const active_request& a) {
    return sample_spec{.params = a.request.sampling,
                       .stream = a.request.stream,
                       .step = static_cast<uint64_t>(a.track.num_generated())};
  };
  for (size_t b = 0; b < plan.items.size(); ++b) {
    const scheduled_item& item = plan.items[b];
    active_request& a = active_.at(item.id);
    if (!a.seq) {
      a.seq = runner_.create_sequence();
      release_follower(a);
    }
    if (item.samples && a.track.num_generated() == 0) {
      twins[b] = twins_of(item.id, room);
      room -= static_cast<int64_t>(twins[b].size());
    }
    batch.push_back({.seq = *a.seq,
                     .tokens = std::span<const int32_t>(a.tokens).subspan(
                         static_cast<size_t>(item.start), static_cast<size_t>(item.count)),
                     .draws = 1 + static_cast<int32_t>(twins[b].size())});
    specs.push_back(spec_of(a));
    for (request_id t : twins[b]) {
      specs.push_back(spec_of(active_.at(t)));
    }
  }
  // Draws in item order, each item's own first and then its twins'.
  std::vector<sample_result> drawn(specs.size());
  if (runner_.samples_on_device()) {
    drawn = runner_.forward_sample(batch, specs);
  } else {
    std::vector<float> logits = runner_.forward(batch);
    const auto vocab = static_cast<size_t>(runner_.config().vocab_size);
    size_t d = 0;
    for (size_t b = 0; b < plan.items.size(); ++b, ++d) {
      std::span<const float> row(logits.data() + b * vocab, vocab);
      if (plan.items[b].samples) {
        drawn[d] = active_.at(plan.items[b].id).host_sampler.sample(row);
      }
      for (request_id t : twins[b]) {
        drawn[++d] = active_.at(t).host_sampler.sample(row);
      }
    }
  }
  scheduler_.complete(plan);
  step_draws out;
  size_t d = 0;
  for (size_t b = 0; b < plan.items.size(); ++b) {
    computed_tokens_ += plan.items[b].count;
    out.items.push_back(std::move(drawn[d++]));
    // The leader's cache now holds the whole prompt: each twin forks it and decodes next step.
    const sequence_id leader_seq = *active_.at(plan.items[b].id).seq;
    for (request_id t : twins[b]) {
      active_request& a = active_.at(t);
      a.seq = runner_.fork_sequence(leader_seq);
      scheduler_.join(t);
      release_follower(a);
      out.twins.emplace_back(t, std::move(drawn[d++]));
    }
  }
  return out;
}

// Sampled tokens extend their requests; finished ones leave.
void batch_engine::postprocess(const step_schedule& plan, step_draws draws,
                               std::vector<engine_event>& events) {
  for (size_t b = 0; b < plan.items.size(); ++b) {
    if (plan.items[b].samples) {
      accept(plan.items[b].id, std::move(draws.items[b]), events);
    }
  }
  for (auto& [id, picked] : draws.twins) {
    accept(id, std::move(picked), events);
  }
}

void batch_engine::accept(request_id id, sample_result picked, std::vector<engine_event>& events) {
  active_request& a = active_.at(id);
  a.tokens.push_back(picked.token);
  engine_event e{.id = id, .token = picked.token, .logprobs = picked.logprobs};
  e.text = a.track.accept(std::move(picked));
  if (a.track.done()) {
    finish(id, e);
  }
  events.push_back(std::move(e));
}

} // namespace proofmesh::engine
