#include "actors/engine/generation/stop_matcher.hpp"

#include <algorithm>

namespace proofmesh::engine {

stop_matcher::stop_matcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
  for (const auto& s : stops_) {
    longest_ = std::max(longest_, s.size());
  }
}

std::optional<size_t> stop_matcher::find(std::string_view text, size_t from) const {
  // A stop string may straddle the old and new text: start the search early enough to see it.
  size_t start = from > longest_ ? from - longest_ : 0;
  std::optional<size_t> best;
  for (const auto& s : stops_) {
    size_t at = text.find(s, start);
    if (at != std::string_view::npos && (!best || at < *best)) {
      best = at;
    }
  }
  return best;
}

size_t stop_matcher::safe_length(std::string_view text) const {
  size_t hold = 0;
  for (const auto& s : stops_) {
    size_t max_len = std::min(s.size() - 1, text.size());
    for (size_t len = max_len; len > hold; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return text.size() - hold;
}

} // namespace proofmesh::engine
