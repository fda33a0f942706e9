// Lossy repair must match Rust's from_utf8_lossy exactly (one U+FFFD per maximal invalid
// subpart), since decode() output is compared with tokenizers'.
#include "actors/engine/tokenizer/utf8.hpp"

#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

const std::string fffd = "\xEF\xBF\xBD";

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(utf8, lossy_matches_rust_maximal_subparts) {
  EXPECT_EQ(to_utf8_lossy("plain é 中 😀"), "plain é 中 😀");
  EXPECT_EQ(to_utf8_lossy("\xC3"), fffd);                        // truncated at end
  EXPECT_EQ(to_utf8_lossy("\xF0\x9F\x98"), fffd);                // truncated, one replacement
  EXPECT_EQ(to_utf8_lossy("\xF0\x9F\x98" "a"), fffd + "a");      // cut short mid-text
  EXPECT_EQ(to_utf8_lossy("\xE0\x80"), repeat(fffd, 2));         // overlong 3-byte lead
  EXPECT_EQ(to_utf8_lossy("\xC0\xAF"), repeat(fffd, 2));         // C0 never valid
  EXPECT_EQ(to_utf8_lossy("\xED\xA0\x80"), repeat(fffd, 3));     // surrogate
  EXPECT_EQ(to_utf8_lossy("\xF4\x90\x80\x80"), repeat(fffd, 4)); // above U+10FFFF
  EXPECT_EQ(to_utf8_lossy("\x80\x80"), repeat(fffd, 2));         // lone continuations
  EXPECT_EQ(to_utf8_lossy("\xFF"), fffd);
}

TEST(utf8, find_invalid_reports_the_first_bad_byte) {
  EXPECT_EQ(find_invalid_utf8("abc"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("ab\xC3"), 2u);
  EXPECT_EQ(find_invalid_utf8("é\xE0\x80"), 2u);
  EXPECT_EQ(find_invalid_utf8(std::string_view("a\0b", 3)), std::nullopt); // NUL is valid
}

TEST(utf8, streaming_holds_back_only_a_truncated_tail) {
  std::string out;
  EXPECT_EQ(append_utf8_lossy(out, "a\xF0\x9F", false), 1u);
  EXPECT_EQ(out, "a");
  out.clear();
  EXPECT_EQ(append_utf8_lossy(out, "a\xF0\x41", false), 3u); // already invalid: emitted now
  EXPECT_EQ(out, "a" + fffd + "A");
}

} // namespace
} // namespace proofmesh::engine
