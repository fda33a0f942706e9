// Added tokens through the public API: cut out before BPE, leftmost-longest, with
// lstrip/rstrip/single_word and normalized matching worked out from tokenizers' find_matches.
#include "actors/engine/tokenizer/added_vocabulary.hpp"

#include <gtest/gtest.h>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "tests/actors/engine/tokenizer/tokenizer_fixture.hpp"

namespace proofmesh::engine {
namespace {

using test::added_token_json;
using test::fixture_spec;
using test::json;
using ids = std::vector<int32_t>;

// Vocab: 256 bytes + "ab" (256). Added tokens from 257 in the order given.
struct added_fixture {
  fixture_spec spec;
  int first_added;
  added_fixture() {
    spec.merges = {{"a", "b"}};
    first_added = test::vocab_entries(spec);
  }
  tokenizer load() const { return tokenizer::from_json(test::make_tokenizer_json(spec).dump()); }
};

TEST(added_vocabulary, tokens_glued_to_text_bypass_bpe) {
  added_fixture f;
  const int end = f.first_added;
  f.spec.added_tokens = json::array({added_token_json(end, "<|end|>", true)});
  const tokenizer tok = f.load();
  EXPECT_EQ(tok.encode("ab<|end|>ab", false), (ids{256, end, 256}));
  // Without the cut, "b<" would never be a candidate anyway; check BPE cannot see across it.
  EXPECT_EQ(tok.encode("a<|end|>b", false), (ids{'a', end, 'b'}));
  EXPECT_EQ(tok.encode("<|end|><|end|>", false), (ids{end, end}));
  EXPECT_EQ(tok.decode(tok.encode("x<|end|>y", false)), "x<|end|>y");
  EXPECT_EQ(tok.decode(tok.encode("x<|end|>y", false), true), "xy");
}

TEST(added_vocabulary, leftmost_longest_match) {
  added_fixture f;
  const int a = f.first_added;
  f.spec.added_tokens = json::array(
      {added_token_json(a, "<x>", false), added_token_json(a + 1, "<x><y>", false),
       added_token_json(a + 2, "y>", false)});
  const tokenizer tok = f.load();
  EXPECT_EQ(tok.encode("<x><y>", false), (ids{a + 1}));
  EXPECT_EQ(tok.encode("<x><z>", false), (ids{a, '<', 'z', '>'}));
  EXPECT_EQ(tok.encode("<y>", false), (ids{'<', a + 2}));
}

TEST(added_vocabulary, lstrip_and_rstrip_absorb_whitespace) {
  added_fixture f;
  const int mask = f.first_added;
  f.spec.added_tokens = json::array({added_token_json(mask, "<m>", true, /*lstrip=*/true)});
  EXPECT_EQ(f.load().encode("a  <m> b", false), (ids{'a', mask, ' ', 'b'}));
  f.spec.added_tokens = json::array({added_token_json(mask, "<m>", true, false, /*rstrip=*/true)});
  EXPECT_EQ(f.load().encode("a <m>  b", false), (ids{'a', ' ', mask, 'b'}));
  f.spec.added_tokens = json::array({added_token_json(mask, "<m>", true, true, true)});
  EXPECT_EQ(f.load().encode("a \t<m>\n b", false), (ids{'a', mask, 'b'}));
  EXPECT_EQ(f.load().decode(f.load().encode("a \t<m>\n b", false)), "a<m>b");
}

TEST(added_vocabulary, single_word_needs_non_word_neighbours) {
  added_fixture f;
  const int w = f.first_added;
  f.spec.added_tokens =
      json::array({added_token_json(w, "cat", false, false, false, /*single_word=*/true)});
  const tokenizer tok = f.load();
  EXPECT_EQ(tok.encode("a cat.", false), (ids{'a', ' ', w, '.'}));
  EXPECT_EQ(tok.encode("cats", false), (ids{'c', 'a', 't', 's'}));
  EXPECT_EQ(tok.encode("écat", false), (ids{0xC3, 0xA9, 'c', 'a', 't'})); // é is a word char
}

TEST(added_vocabulary, normalized_tokens_match_after_nfc) {
  added_fixture f;
  const int tok_id = f.first_added;
  f.spec.normalizer = {{"type", "NFC"}};
  f.spec.added_tokens = json::array(
      {added_token_json(tok_id, "é!", false, false, false, false, /*normalized=*/true)});
  const tokenizer tok = f.load();
  EXPECT_EQ(tok.encode("e\xCC\x81!", false), (ids{tok_id}));
  EXPECT_EQ(tok.encode("é!", false), (ids{tok_id}));
  // A raw (normalized=false) token only matches the exact input bytes.
  f.spec.added_tokens = json::array({added_token_json(tok_id, "é!", false)});
  EXPECT_EQ(f.load().encode("e\xCC\x81!", false), (ids{0xC3, 0xA9, '!'}));
}

TEST(added_vocabulary, ids_must_match_what_tokenizers_assigns) {
  added_fixture f;
  // "ab" is already in the vocab: tokenizers reuses id 256 for it.
  f.spec.added_tokens = json::array({added_token_json(256, "ab", true),
                                     added_token_json(f.first_added, "<s>", true)});
  const tokenizer tok = f.load();
  EXPECT_EQ(tok.encode("xab", false), (ids{'x', 256}));
  EXPECT_TRUE(tok.is_special(256));
  f.spec.added_tokens = json::array({added_token_json(f.first_added + 5, "<s>", true)});
  EXPECT_THROW(f.load(), input_error);
}

} // namespace
} // namespace proofmesh::engine
