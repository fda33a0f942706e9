// A compiled PCRE2 pattern (UTF + UCP) that finds matches the way tokenizers' Oniguruma
// wrapper (onig::Regex::find_iter) does, so Split pre-tokenizers cut where tokenizers cuts.
// Rules of the road: a regex is immutable after compile() and copies share the compiled code;
// each find call allocates its own match data, so one regex serves many threads. Subjects must be
// valid UTF-8 (callers validate once up front; PCRE2 skips its own check). Runaway backtracking
// on a hostile pattern ends in input_error through PCRE2's match and heap limits.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

/// One piece of a subject: [begin, end) bytes and whether the pattern matched it.
struct regex_piece {
  size_t begin;
  size_t end;
  bool is_match;
};

class regex {
public:
  /// Compiles pattern (or, if literal, matches it verbatim); throws input_error when invalid.
  static regex compile(std::string_view pattern, bool literal);

  /// All non-overlapping matches, left to right, as [begin, end) pairs; an empty match right at
  /// the end of the previous match is skipped, as onig's find_iter does.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view subject) const;

  /// tokenizers' Pattern::find_matches: matches and the gaps between them, covering the subject.
  std::vector<regex_piece> find_pieces(std::string_view subject) const;

private:
  struct compiled;
  explicit regex(std::shared_ptr<const compiled> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const compiled> impl_;
};

} // namespace proofmesh::engine
