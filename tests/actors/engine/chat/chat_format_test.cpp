#include "actors/engine/chat/chat_format.hpp"

#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

TEST(chat_format, renders_each_family) {
  std::vector<chat_message> m = {{"system", "S"}, {"user", "U"}};
  EXPECT_EQ(render_chat(chat_format::chat_format_chatml, m),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(chat_format::chat_format_llama3, m),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(render_chat(chat_format::chat_format_deepseek_v3, m),
            "<｜begin▁of▁sentence｜>S<｜User｜>U<｜Assistant｜>");
}

// The strings encoding_dsv32.py's encode_messages gives for the same messages: thinking_mode
// "thinking" opens the last user turn's reply with <think>, "chat" closes it with </think>; an
// earlier reply is rendered without its reasoning.
TEST(chat_format, deepseek_v32_renders_thinking_on_and_off) {
  const std::vector<chat_message> one = {{"user", "Prove it."}};
  EXPECT_EQ(render_chat(chat_format::chat_format_deepseek_v32, one, true),
            "<｜begin▁of▁sentence｜><｜User｜>Prove it.<｜Assistant｜><think>");
  EXPECT_EQ(render_chat(chat_format::chat_format_deepseek_v32, one, false),
            "<｜begin▁of▁sentence｜><｜User｜>Prove it.<｜Assistant｜></think>");
  const std::vector<chat_message> turns = {
      {"system", "S"}, {"user", "A"}, {"assistant", "B"}, {"user", "C"}};
  EXPECT_EQ(render_chat(chat_format::chat_format_deepseek_v32, turns, true),
            "<｜begin▁of▁sentence｜>S<｜User｜>A<｜Assistant｜></think>B<｜end▁of▁sentence｜>"
            "<｜User｜>C<｜Assistant｜><think>");
  // The other formats have no switch.
  EXPECT_EQ(render_chat(chat_format::chat_format_deepseek_v3, one, true),
            render_chat(chat_format::chat_format_deepseek_v3, one, false));
}

TEST(chat_format, names_round_trip) {
  for (auto f : {chat_format::chat_format_deepseek_v3, chat_format::chat_format_chatml,
                 chat_format::chat_format_llama3, chat_format::chat_format_deepseek_v32}) {
    EXPECT_EQ(parse_chat_format(chat_format_name(f)), f);
  }
  EXPECT_EQ(parse_chat_format("jinja"), std::nullopt);
}

} // namespace
} // namespace proofmesh::engine
