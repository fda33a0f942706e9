// The reference's parsing of model outputs (../shared/dsm2/PIPELINE.md, "Parsing rules"),
// reproduced exactly, quirks included (../shared/dsm2/parse-cases.jsonl pins them down):
// - boxed answers: every piece after "boxed{", cut at the first '}' that takes the brace depth
//   below zero, keeping that '}' when a '%' follows it; a piece that never closes has none;
// - a generation: the text after the last "</think>", normalised (bold "Solution" / "Self
//   Evaluation" lines become "##" headings, heading lines lose trailing space), split into the
//   solution and the self-evaluation; its score is the last non-empty boxed answer of the
//   self-evaluation read by Python's float(), 0 when there is none or it does not parse;
// - a verification (or meta-verification): the text after the last "</think>" (required), and
//   its last non-empty, stripped boxed answer read as a float (required).
// Whitespace and float() follow Python (python_text.hpp). Finish reasons are the caller's
// business: outputs that did not stop are dropped before parsing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::roles {

/// Every boxed answer of `text`, in order.
std::vector<std::string> boxed_answers(std::string_view text);

struct parsed_generation {
  std::string solution;
  std::string self_eval;
  double self_eval_score = 0;
};

/// nullopt where the reference drops the output (no solution or self-evaluation section).
std::optional<parsed_generation> parse_generation(std::string_view output);

struct parsed_verification {
  std::string rating; // the analysis: the text after the last </think>, stripped
  double score = 0;
};

/// nullopt where the reference drops the output (no </think>, or no score that parses).
std::optional<parsed_verification> parse_verification(std::string_view output);

} // namespace proofmesh::roles
