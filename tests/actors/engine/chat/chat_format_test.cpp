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

TEST(chat_format, names_round_trip) {
  for (auto f : {chat_format::chat_format_deepseek_v3, chat_format::chat_format_chatml,
                 chat_format::chat_format_llama3}) {
    EXPECT_EQ(parse_chat_format(chat_format_name(f)), f);
  }
  EXPECT_EQ(parse_chat_format("jinja"), std::nullopt);
}

} // namespace
} // namespace proofmesh::engine
