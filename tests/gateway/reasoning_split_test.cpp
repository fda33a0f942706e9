// The deepseek_r1-style split of reasoning from content, whole and streamed: every way of
// cutting a text into deltas gives what the whole-text split gives.
#include "gateway/reasoning_split.hpp"

#include <gtest/gtest.h>

namespace proofmesh::gateway {
namespace {

TEST(reasoning_split, whole_texts) {
  reasoning_parts p = split_reasoning("<think>Let me see.</think>The answer is 4.");
  EXPECT_EQ(p.reasoning, "Let me see.");
  EXPECT_EQ(p.content, "The answer is 4.");
  p = split_reasoning("Let me see.</think>\n\nThe answer.");
  EXPECT_EQ(p.reasoning, "Let me see.");
  EXPECT_EQ(p.content, "\n\nThe answer.");
  p = split_reasoning("still thinking");
  EXPECT_EQ(p.reasoning, "still thinking");
  EXPECT_FALSE(p.content.has_value());
  p = split_reasoning("done thinking</think>");
  EXPECT_EQ(p.reasoning, "done thinking");
  EXPECT_FALSE(p.content.has_value());
  p = split_reasoning("  \n<think>a</think>b</think>c");
  EXPECT_EQ(p.reasoning, "a");
  EXPECT_EQ(p.content, "b</think>c");
}

TEST(reasoning_split, every_cut_of_a_stream_agrees_with_the_whole) {
  for (const std::string text :
       {"<think>Let me see.</think>The answer is 4.", "no tags at all", "a</think>b",
        " <think></think>", "<thinking is not a tag</think>x", "x<think>y</think>z", "</thi",
        "<think>a</thinkb</think>c"}) {
    const reasoning_parts whole = split_reasoning(text);
    for (size_t a = 0; a <= text.size(); ++a) {
      for (size_t b = a; b <= text.size(); ++b) {
        reasoning_splitter s;
        std::string reasoning, content;
        for (auto d : {s.feed(text.substr(0, a)), s.feed(text.substr(a, b - a)),
                       s.feed(text.substr(b)), s.finish()}) {
          reasoning += d.reasoning;
          content += d.content;
        }
        EXPECT_EQ(reasoning, whole.reasoning.value_or("")) << text << " cut at " << a << "," << b;
        EXPECT_EQ(content, whole.content.value_or("")) << text << " cut at " << a << "," << b;
      }
    }
  }
}

TEST(reasoning_split, text_streams_as_soon_as_it_is_decided) {
  reasoning_splitter s;
  EXPECT_EQ(s.feed("<think>Step one. ").reasoning, "Step one. ");
  EXPECT_EQ(s.feed("Step two.</th").reasoning, "Step two."); // "</th" may be a tag: held
  auto d = s.feed("ink>Answer");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "Answer");
  EXPECT_EQ(s.feed(" more").content, " more");
}

} // namespace
} // namespace proofmesh::gateway
