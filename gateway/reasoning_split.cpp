#include "gateway/reasoning_split.hpp"

namespace proofmesh::gateway {

namespace {

constexpr std::string_view open_tag = "<think>";
constexpr std::string_view close_tag = "</think>";

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n) {
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

} // namespace

reasoning_parts split_reasoning(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text.substr(first, open_tag.size()) == open_tag) {
    text = text.substr(first + open_tag.size());
  }
  const size_t close = text.find(close_tag);
  if (close == std::string_view::npos) {
    return {.reasoning = std::string(text), .content = std::nullopt};
  }
  reasoning_parts out{.reasoning = std::string(text.substr(0, close))};
  std::string_view rest = text.substr(close + close_tag.size());
  if (!rest.empty()) out.content = std::string(rest);
  return out;
}

reasoning_splitter::delta reasoning_splitter::feed(std::string_view text) {
  pending_ += text;
  return drain(false);
}

reasoning_splitter::delta reasoning_splitter::finish() { return drain(true); }

reasoning_splitter::delta reasoning_splitter::drain(bool at_end) {
  delta out;
  if (in_content_) {
    out.content = std::move(pending_);
    pending_.clear();
    return out;
  }
  if (!started_) {
    // An opening "<think>" (after whitespace) is dropped; until the first other byte decides,
    // the whole opening is held.
    const size_t first = pending_.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      if (!at_end) return out;
      started_ = true;
    } else {
      const std::string_view head = std::string_view(pending_).substr(first);
      if (head.substr(0, open_tag.size()) == open_tag) {
        pending_.erase(0, first + open_tag.size());
        started_ = true;
      } else if (open_tag.substr(0, head.size()) == head && !at_end) {
        return out; // "<thi": not decided yet
      } else {
        started_ = true;
      }
    }
  }
  if (size_t close = pending_.find(close_tag); close != std::string::npos) {
    out.reasoning = pending_.substr(0, close);
    out.content = pending_.substr(close + close_tag.size());
    pending_.clear();
    in_content_ = true;
    started_ = true;
    return out;
  }
  if (at_end) {
    out.reasoning = std::move(pending_);
    pending_.clear();
    return out;
  }
  const size_t keep = partial_tag_suffix(pending_, close_tag); // could still become "</think>"
  out.reasoning = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

} // namespace proofmesh::gateway
