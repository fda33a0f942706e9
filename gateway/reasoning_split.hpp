// Reasoning split off a chat completion's text at </think>, as vLLM's deepseek_r1 reasoning
// parser does, so clients get `reasoning_content` and `content` apart. Rules of the road:
// - Whole text: an opening "<think>" (after any whitespace) is dropped; without "</think>" the
//   whole text is reasoning (these models open their thinking in the prompt); otherwise what is
//   before it is reasoning and what is after is content (absent when empty). vLLM also drops
//   text before a "<think>" found later on; we keep that text as reasoning instead, because a
//   stream cannot take back what it already sent, and both forms must agree.
// - Streaming: the same split over deltas that may cut a tag anywhere, so a tail that could be
//   the start of a tag is held back until the next delta (or the end) decides. The tags
//   themselves are never emitted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace proofmesh::gateway {

struct reasoning_parts {
  std::optional<std::string> reasoning;
  std::optional<std::string> content;
};

reasoning_parts split_reasoning(std::string_view text);

class reasoning_splitter {
public:
  struct delta {
    std::string reasoning;
    std::string content;
  };
  /// The parts of `text` that are decided now.
  delta feed(std::string_view text);
  /// Whatever is still held back, at the end of the completion.
  delta finish();

private:
  delta drain(bool at_end);

  std::string pending_;
  bool started_ = false; // past any "<think>" prefix decision
  bool in_content_ = false;
};

} // namespace proofmesh::gateway
