#include "actors/engine/generation/generation.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/generation/prompt_check.hpp"

#include <numeric>
#include <optional>

namespace proofmesh::engine {

namespace {

// One completion in flight: its sequence, host sampler and tracker.
struct sample_state {
  sequence_id seq;
  sampler pick;
  completion_tracker track;
};

// Releases every sequence this call created, also when a forward pass throws.
struct sequence_guard {
  model_runner& model;
  std::vector<sequence_id> ids;
  sequence_id track(sequence_id id) {
    ids.push_back(id);
    return id;
  }
  ~sequence_guard() {
    for (sequence_id id : ids) {
      model.release_sequence(id);
    }
  }
};

void check_request(const model_runner& model, const generate_request& r) {
  check_prompt(model.config(), r.prompt, r.max_tokens);
  if (r.n < 1 || r.n > 1024) {
    throw input_error("n must be in [1, 1024]");
  }
}

// Takes a sampled token into completion `i`; streams its safe text. Returns whether it goes on.
bool accept(std::vector<sample_state>& samples, size_t i, sample_result r,
            const text_callback& on_text) {
  std::string delta = samples[i].track.accept(std::move(r));
  if (!delta.empty() && on_text) {
    on_text(static_cast<int32_t>(i), delta);
  }
  return !samples[i].track.done();
}

// Host sampling: the prompt's last logits seed every completion; each step samples on the host,
// then runs one batched forward pass.
void decode_sampling_on_host(model_runner& model, const generate_request& request,
                             const text_callback& on_text, std::vector<float> prompt_logits,
                             std::vector<sample_state>& samples) {
  const int64_t vocab = model.config().vocab_size;
  std::vector<std::vector<float>> logits(samples.size(), prompt_logits);
  std::vector<int32_t> next(samples.size());
  for (int32_t step = 0; step < request.max_tokens; ++step) {
    std::vector<size_t> live;
    for (size_t i = 0; i < samples.size(); ++i) {
      if (samples[i].track.done()) {
        continue;
      }
      sample_result r = samples[i].pick.sample(logits[i]);
      next[i] = r.token;
      if (accept(samples, i, std::move(r), on_text)) {
        live.push_back(i);
      }
    }
    if (live.empty()) {
      break;
    }
    std::vector<runner_item> batch;
    for (size_t i : live) {
      batch.push_back(runner_item{.seq = samples[i].seq, .tokens = std::span(&next[i], 1)});
    }
    std::vector<float> out = model.forward(batch);
    for (size_t b = 0; b < live.size(); ++b) {
      auto row = out.begin() + static_cast<std::ptrdiff_t>(b) * vocab;
      logits[live[b]].assign(row, row + vocab);
    }
  }
}

// Device sampling: every completion feeds the prompt's last token itself (its fork shares the
// rest of the prompt), and each step is one forward pass that returns sampled tokens.
void decode_sampling_on_device(model_runner& model, const generate_request& request,
                               const text_callback& on_text, std::vector<sample_state>& samples) {
  std::vector<int32_t> next(samples.size(), request.prompt.back());
  std::vector<size_t> live(samples.size());
  std::iota(live.begin(), live.end(), size_t{0});
  for (int32_t step = 0; step < request.max_tokens && !live.empty(); ++step) {
    std::vector<runner_item> batch;
    std::vector<sample_spec> specs;
    for (size_t i : live) {
      batch.push_back(runner_item{.seq = samples[i].seq, .tokens = std::span(&next[i], 1)});
      specs.push_back({.params = request.sampling, .stream = i,
                       .step = static_cast<uint64_t>(step)});
    }
    std::vector<sample_result> picked = model.forward_sample(batch, specs);
    std::vector<size_t> still;
    for (size_t b = 0; b < live.size(); ++b) {
      size_t i = live[b];
      next[i] = picked[b].token;
      if (accept(samples, i, std::move(picked[b]), on_text)) {
        still.push_back(i);
      }
    }
    live = std::move(still);
  }
}

} // namespace

std::vector<completion> generate(model_runner& model, const tokenizer* tok,
                                 const generate_request& request, const text_callback& on_text) {
  check_request(model, request);
  const bool on_device = model.samples_on_device();

  // Prefill once; every completion forks the prompt's cache. With device sampling the last
  // prompt token is left for each fork to feed, so its draw happens where its logits are.
  sequence_guard guard{model, {}};
  sequence_id prompt_seq = guard.track(model.create_sequence());
  std::span<const int32_t> prefill_tokens(request.prompt);
  if (on_device) {
    prefill_tokens = prefill_tokens.first(prefill_tokens.size() - 1);
  }
  std::vector<float> prompt_logits;
  if (!prefill_tokens.empty()) {
    runner_item prefill{.seq = prompt_seq, .tokens = prefill_tokens};
    prompt_logits = model.forward(std::span(&prefill, 1));
  }

  std::vector<sample_state> samples;
  samples.reserve(static_cast<size_t>(request.n));
  for (int32_t i = 0; i < request.n; ++i) {
    samples.push_back(sample_state{
        .seq = guard.track(model.fork_sequence(prompt_seq)),
        .pick = sampler(request.sampling, static_cast<uint64_t>(i)),
        .track = completion_tracker(tok, {.max_tokens = request.max_tokens,
                                          .stop_ids = request.stop_ids,
                                          .stop_strings = request.stop_strings,
                                          .keep_logprobs = request.sampling.num_logprobs > 0})});
  }

  if (on_device) {
    decode_sampling_on_device(model, request, on_text, samples);
  } else {
    decode_sampling_on_host(model, request, on_text, std::move(prompt_logits), samples);
  }

  std::vector<completion> result;
  for (sample_state& s : samples) {
    result.push_back(s.track.take());
  }
  return result;
}

} // namespace proofmesh::engine
