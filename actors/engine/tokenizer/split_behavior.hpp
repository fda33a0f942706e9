// What a Split pre-tokenizer does with the delimiters it found (tokenizers'
// SplitDelimiterBehavior): keep them alone, drop them, glue them to a neighbour, or merge runs.
// Rules of the road: input pieces cover the subject in order (regex::find_pieces); the output is
// the byte ranges to keep, in order, possibly empty (callers drop empty ones, as tokenizers does).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "actors/engine/tokenizer/regex.hpp"

namespace proofmesh::engine {

enum class split_behavior {
  split_isolated,
  split_removed,
  split_merged_with_previous,
  split_merged_with_next,
  split_contiguous,
};

/// Parses tokenizers' names ("Isolated", "Removed", ...); returns false for unknown names.
bool parse_split_behavior(std::string_view name, split_behavior& out);

std::vector<std::pair<size_t, size_t>> apply_split_behavior(std::vector<regex_piece> pieces,
                                                            split_behavior behavior);

} // namespace proofmesh::engine
