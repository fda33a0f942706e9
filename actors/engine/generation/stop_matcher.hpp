// Finds stop strings in a growing completion text, and says how much of the text is safe to
// stream. Rules of the road: text that could still turn out to be the start of a stop string is
// held back (as vLLM does), so a streamed client never sees part of a stop string; the final text
// ends just before the first stop string found.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

class stop_matcher {
public:
  explicit stop_matcher(std::vector<std::string> stops);

  /// Offset of the earliest stop string in `text`, searching from `from` (minus overlap).
  std::optional<size_t> find(std::string_view text, size_t from) const;

  /// Length of the prefix of `text` that cannot become part of a stop string.
  size_t safe_length(std::string_view text) const;

private:
  std::vector<std::string> stops_;
  size_t longest_ = 0;
};

} // namespace proofmesh::engine
