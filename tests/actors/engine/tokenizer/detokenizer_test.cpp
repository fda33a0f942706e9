// Streaming decode: a vocab whose tokens split an emoji (F0 9F 98 80) and a CJK char across
// token boundaries, checked chunk by chunk and against decode() on random id streams.
#include "actors/engine/tokenizer/detokenizer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "actors/engine/tokenizer/utf8.hpp"
#include "tests/actors/engine/tokenizer/tokenizer_fixture.hpp"

namespace proofmesh::engine {
namespace {

using test::json;

const std::string fffd = "\xEF\xBF\xBD";

struct emoji_fixture {
  test::fixture_spec spec;
  int bos;
  emoji_fixture() {
    // "\xF0\x9F" = 256 and "\x98\x80" = 257 split 😀 in halves; "\xE4\xB8" = 258 cuts 中.
    spec.merges = {{"\xF0", "\x9F"}, {"\x98", "\x80"}, {"\xE4", "\xB8"}};
    bos = test::vocab_entries(spec);
    spec.added_tokens = json::array({test::added_token_json(bos, "<bos>", true)});
  }
  tokenizer load() const { return tokenizer::from_json(test::make_tokenizer_json(spec).dump()); }
};

TEST(detokenizer, holds_back_a_split_emoji_until_complete) {
  const tokenizer tok = emoji_fixture().load();
  const std::vector<int32_t> ids = tok.encode("a😀b", false);
  ASSERT_EQ(ids, (std::vector<int32_t>{'a', 256, 257, 'b'}));
  detokenizer stream(tok);
  EXPECT_EQ(stream.push(ids[0]), "a");
  EXPECT_EQ(stream.push(ids[1]), "");
  EXPECT_EQ(stream.push(ids[2]), "😀");
  EXPECT_EQ(stream.push(ids[3]), "b");
  EXPECT_EQ(stream.finish(), "");
}

TEST(detokenizer, invalid_and_truncated_bytes_become_replacement_chars) {
  const tokenizer tok = emoji_fixture().load();
  detokenizer stream(tok);
  EXPECT_EQ(stream.push(256), "");           // F0 9F: could still become a char
  EXPECT_EQ(stream.push('x'), fffd + "x");   // now it cannot
  EXPECT_EQ(stream.push(258), "");           // E4 B8
  EXPECT_EQ(stream.finish(), fffd);          // truncated at the end
  EXPECT_EQ(tok.decode(std::vector<int32_t>{256, 'x', 258}), fffd + "x" + fffd);
}

TEST(detokenizer, skips_special_tokens_like_decode) {
  emoji_fixture f;
  const tokenizer tok = f.load();
  const std::vector<int32_t> ids = {f.bos, 'h', 'i', f.bos};
  for (bool skip : {false, true}) {
    detokenizer stream(tok, skip);
    std::string text;
    for (int32_t id : ids) text += stream.push(id);
    text += stream.finish();
    EXPECT_EQ(text, tok.decode(ids, skip));
  }
}

TEST(detokenizer, random_streams_match_decode_and_emit_only_valid_utf8) {
  emoji_fixture f;
  const tokenizer tok = f.load();
  std::mt19937 rng(7);
  // Mostly pieces of valid chars, sometimes stray bytes, unknown ids and the special token.
  const std::vector<int32_t> alphabet = {'a', ' ', 256, 257, 258, 0xAD, 0xE4, 0xB8,
                                         0xC3, 0xA9, 0x80, 0xFF, f.bos, 999999};
  for (int round = 0; round < 500; ++round) {
    std::vector<int32_t> ids(rng() % 12);
    for (int32_t& id : ids) id = alphabet[rng() % alphabet.size()];
    detokenizer stream(tok, round % 2 == 0);
    std::string text;
    for (int32_t id : ids) {
      const std::string chunk = stream.push(id);
      EXPECT_EQ(find_invalid_utf8(chunk), std::nullopt);
      text += chunk;
    }
    text += stream.finish();
    EXPECT_EQ(text, tok.decode(ids, round % 2 == 0)) << "round " << round;
  }
}

} // namespace
} // namespace proofmesh::engine
