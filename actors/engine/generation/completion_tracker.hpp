// One completion as tokens arrive: its ids and logprobs, its text, and when it ends. Rules of the
// road: it ends at a stop id (kept in ids, not in text), at a stop string (the text ends before
// it), or at max_tokens ("length"). Text that could still become a stop string is held back, so
// a stream never shows part of one. Generation and the batch engine both track completions here.
#pragma once

#include "actors/engine/generation/stop_matcher.hpp"
#include "actors/engine/sampling/sampler.hpp"
#include "actors/engine/tokenizer/detokenizer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

class tokenizer;

enum class finish_reason : uint8_t { finish_reason_stop, finish_reason_length };

std::string_view finish_reason_name(finish_reason reason); // "stop", "length"

struct completion {
  std::vector<int32_t> ids;
  std::string text;
  finish_reason finish = finish_reason::finish_reason_length;
  std::vector<step_logprobs> logprobs; // one per generated token when asked for
};

struct completion_limits {
  int32_t max_tokens;                   // >= 1
  std::vector<int32_t> stop_ids;
  std::vector<std::string> stop_strings;
  bool keep_logprobs = false;
};

class completion_tracker {
public:
  /// `tok` may be null: the completion then carries ids only.
  completion_tracker(const tokenizer* tok, completion_limits limits);

  /// Takes the next sampled token; returns the text that became safe to show.
  std::string accept(sample_result sampled);
  bool done() const { return done_; }
  int32_t num_generated() const { return static_cast<int32_t>(out_.ids.size()); }
  /// The finished completion (or, if not done, what there is so far).
  completion take();

private:
  completion_limits limits_;
  stop_matcher stops_;
  std::optional<detokenizer> detok_;
  completion out_;
  std::string raw_text_; // all decoded text, stop strings included
  size_t shown_ = 0;     // bytes of raw_text_ already returned
  size_t visible_ = 0;   // bytes of raw_text_ that belong to the completion
  bool done_ = false;
};

} // namespace proofmesh::engine
