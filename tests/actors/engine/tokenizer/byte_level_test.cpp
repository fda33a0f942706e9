// The GPT-2 byte table, checked at its landmarks and for being a bijection.
#include "actors/engine/tokenizer/byte_level.hpp"

#include <gtest/gtest.h>

#include <set>

namespace proofmesh::engine {
namespace {

TEST(byte_level, landmarks_of_the_gpt2_table) {
  EXPECT_EQ(byte_to_chars('A'), "A");
  EXPECT_EQ(byte_to_chars('~'), "~");
  EXPECT_EQ(byte_to_chars(0), "Ā");    // U+0100: the first unprintable byte
  EXPECT_EQ(byte_to_chars(' '), "Ġ");  // U+0120
  EXPECT_EQ(byte_to_chars('\n'), "Ċ"); // U+010A
  EXPECT_EQ(byte_to_chars(0x7F), "ġ"); // U+0121
  EXPECT_EQ(byte_to_chars(0xAD), "Ń"); // U+0143: the last one
  EXPECT_EQ(byte_to_chars(0xA9), "©");
}

TEST(byte_level, table_is_a_bijection_and_round_trips) {
  std::set<std::string_view> seen;
  std::string all;
  for (int b = 0; b < 256; ++b) {
    seen.insert(byte_to_chars(static_cast<unsigned char>(b)));
    all.push_back(static_cast<char>(b));
  }
  EXPECT_EQ(seen.size(), 256u);
  std::string back;
  ASSERT_TRUE(append_byte_level_bytes(back, bytes_to_byte_level(all)));
  EXPECT_EQ(back, all);
}

TEST(byte_level, chars_outside_the_table_are_rejected_whole) {
  std::string out = "x";
  EXPECT_FALSE(append_byte_level_bytes(out, "ab€"));
  EXPECT_EQ(out, "x"); // nothing half-appended
  EXPECT_FALSE(append_byte_level_bytes(out, " ")); // a plain space is not a table char
  EXPECT_EQ(char_to_byte(U'Ġ'), ' ');
  EXPECT_EQ(char_to_byte(U' '), std::nullopt);
}

} // namespace
} // namespace proofmesh::engine
