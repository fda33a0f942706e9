#include "actors/engine/generation/completion_tracker.hpp"

#include <algorithm>

namespace proofmesh::engine {

std::string_view finish_reason_name(finish_reason reason) {
  return reason == finish_reason::finish_reason_stop ? "stop" : "length";
}

completion_tracker::completion_tracker(const tokenizer* tok, completion_limits limits)
    : limits_(std::move(limits)), stops_(limits_.stop_strings) {
  if (tok) {
    detok_.emplace(*tok, true);
  }
}

std::string completion_tracker::accept(sample_result sampled) {
  out_.ids.push_back(sampled.token);
  if (limits_.keep_logprobs) {
    out_.logprobs.push_back(std::move(sampled.logprobs));
  }
  const auto& ids = limits_.stop_ids;
  bool stop_id = std::find(ids.begin(), ids.end(), sampled.token) != ids.end();
  size_t before = raw_text_.size();
  if (!stop_id && detok_) {
    raw_text_ += detok_->push(sampled.token);
  }
  std::optional<size_t> stop_at = stops_.find(raw_text_, before);
  if (stop_id || stop_at) {
    done_ = true;
    out_.finish = finish_reason::finish_reason_stop;
    visible_ = stop_at ? *stop_at : raw_text_.size();
  } else if (num_generated() >= limits_.max_tokens) {
    done_ = true;
    if (detok_) {
      raw_text_ += detok_->finish();
    }
    visible_ = raw_text_.size();
  } else {
    visible_ = stops_.safe_length(raw_text_);
  }
  std::string delta;
  if (visible_ > shown_) {
    delta = raw_text_.substr(shown_, visible_ - shown_);
    shown_ = visible_;
  }
  return delta;
}

completion completion_tracker::take() {
  out_.text = raw_text_.substr(0, done_ ? visible_ : raw_text_.size());
  return std::move(out_);
}

} // namespace proofmesh::engine
