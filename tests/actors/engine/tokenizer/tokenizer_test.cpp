// Encode/decode against tiny hand-written tokenizer.json files whose ids can be worked out by
// hand: byte tokens have id == byte value, merged tokens follow from 256 in merge order.
#include "actors/engine/tokenizer/tokenizer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "actors/common/error.hpp"
#include "tests/actors/engine/tokenizer/tokenizer_fixture.hpp"

namespace proofmesh::engine {
namespace {

using test::fixture_spec;
using test::json;
using ids = std::vector<int32_t>;

tokenizer load(const fixture_spec& spec) {
  return tokenizer::from_json(test::make_tokenizer_json(spec).dump());
}


TEST(tokenizer, lowest_rank_merge_wins) {
  fixture_spec spec;
  spec.merges = {{"a", "b"}, {"b", "c"}}; // ab = 256, bc = 257
  EXPECT_EQ(load(spec).encode("abc", false), (ids{256, 'c'}));
  spec.merges = {{"b", "c"}, {"a", "b"}}; // bc = 256, ab = 257
  EXPECT_EQ(load(spec).encode("abc", false), (ids{'a', 256}));
}

TEST(tokenizer, equal_ranks_merge_leftmost_first) {
  fixture_spec spec;
  spec.merges = {{"a", "a"}}; // aa = 256
  EXPECT_EQ(load(spec).encode("aaa", false), (ids{256, 'a'}));
  EXPECT_EQ(load(spec).encode("aaaa", false), (ids{256, 256}));
}

TEST(tokenizer, merges_chain_and_legacy_strings_agree) {
  fixture_spec spec;
  spec.merges = {{"a", "b"}, {"ab", "c"}, {" ", "ab"}}; // ab, abc, " ab"
  const tokenizer pairs = load(spec);
  spec.legacy_merges = true;
  const tokenizer legacy = load(spec);
  for (const tokenizer* tok : {&pairs, &legacy}) {
    EXPECT_EQ(tok->encode("abc", false), (ids{257}));
    // "ab" forms first; then ("ab", "c") at rank 1 beats (" ", "ab") at rank 2.
    EXPECT_EQ(tok->encode(" abc", false), (ids{' ', 257}));
    EXPECT_EQ(tok->encode(" ab", false), (ids{258}));
  }
}

TEST(tokenizer, ignore_merges_emits_whole_vocab_words) {
  fixture_spec spec;
  spec.merges = {{"a", "b"}}; // ab = 256
  spec.extra_tokens = {"abc"}; // 257, unreachable through merges
  EXPECT_EQ(load(spec).encode("abc", false), (ids{256, 'c'}));
  spec.ignore_merges = true;
  EXPECT_EQ(load(spec).encode("abc", false), (ids{257}));
  EXPECT_EQ(load(spec).encode("abcd", false), (ids{256, 'c', 'd'}));
}

TEST(tokenizer, byte_level_maps_multibyte_chars_to_byte_tokens) {
  const tokenizer tok = load(fixture_spec{});
  EXPECT_EQ(tok.encode("é", false), (ids{0xC3, 0xA9}));
  EXPECT_EQ(tok.encode("中", false), (ids{0xE4, 0xB8, 0xAD}));
  EXPECT_EQ(tok.encode("😀", false), (ids{0xF0, 0x9F, 0x98, 0x80}));
  EXPECT_EQ(tok.id_to_token(' '), "Ġ");
  EXPECT_EQ(tok.id_to_token('\n'), "Ċ");
  EXPECT_EQ(tok.id_to_token(0xC3), "Ã");
  EXPECT_EQ(tok.id_to_token(0), "Ā");
  for (std::string_view text : {"é", "中文 text", "😀 emoji", "a\tb\r\nc", "\x01\x7f"}) {
    EXPECT_EQ(tok.decode(tok.encode(text, false)), text);
  }
}

TEST(tokenizer, byte_level_regex_cuts_pieces_before_merging) {
  fixture_spec spec;
  spec.merges = {{"o", " "}}; // "oĠ" = 256 would merge across the word boundary
  EXPECT_EQ(load(spec).encode("go now", false), (ids{'g', 256, 'n', 'o', 'w'}));
  spec.pre_tokenizer["use_regex"] = true; // "go" | " now"
  EXPECT_EQ(load(spec).encode("go now", false), (ids{'g', 'o', ' ', 'n', 'o', 'w'}));
  spec.pre_tokenizer["add_prefix_space"] = true;
  EXPECT_EQ(load(spec).encode("go", false), (ids{' ', 'g', 'o'}));
}

TEST(tokenizer, llama3_split_then_byte_level) {
  fixture_spec spec;
  // " w" = 256, "12" = 257, "34" = 258, "123" = 259.
  spec.merges = {{" ", "w"}, {"1", "2"}, {"3", "4"}, {"12", "3"}};
  spec.pre_tokenizer = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern",
          {{"Regex",
            R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
         {"behavior", "Isolated"},
         {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
         {"use_regex", false}}}}};
  const tokenizer tok = load(spec);
  // Pieces: "x" | " w" | "123" | "4". Unsplit, "1234" would become "12" "34" (34 outranks 123).
  EXPECT_EQ(tok.encode("x w1234", false), (ids{'x', 256, 259, '4'}));
  EXPECT_EQ(tok.decode(tok.encode("x w1234", false)), "x w1234");
}

TEST(tokenizer, nfc_normalizer_composes_before_byte_level) {
  fixture_spec spec;
  spec.normalizer = {{"type", "NFC"}};
  const tokenizer tok = load(spec);
  EXPECT_EQ(tok.encode("e\xCC\x81", false), (ids{0xC3, 0xA9})); // e + U+0301 -> é
  EXPECT_EQ(tok.decode(tok.encode("e\xCC\x81", false)), "é");
  spec.normalizer = {{"type", "Sequence"}, {"normalizers", json::array()}};
  EXPECT_EQ(load(spec).encode("e\xCC\x81", false), (ids{'e', 0xCC, 0x81}));
}

TEST(tokenizer, template_processing_prepends_bos) {
  fixture_spec spec;
  const int bos = test::vocab_entries(spec);
  spec.added_tokens = json::array({test::added_token_json(bos, "<|begin_of_text|>", true)});
  const json template_processor = {
      {"type", "TemplateProcessing"},
      {"single",
       {{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}},
        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair", json::array()},
      {"special_tokens",
       {{"<|begin_of_text|>",
         {{"id", "<|begin_of_text|>"},
          {"ids", json::array({bos})},
          {"tokens", json::array({"<|begin_of_text|>"})}}}}}};
  // Llama 3 wraps it in a Sequence after ByteLevel.
  spec.post_processor = {{"type", "Sequence"},
                         {"processors",
                          {{{"type", "ByteLevel"}, {"add_prefix_space", true},
                            {"trim_offsets", false}, {"use_regex", true}},
                           template_processor}}};
  const tokenizer tok = load(spec);
  EXPECT_EQ(tok.encode("hi", true), (ids{bos, 'h', 'i'}));
  EXPECT_EQ(tok.encode("hi", false), (ids{'h', 'i'}));
  EXPECT_EQ(tok.encode("", true), (ids{bos}));
  EXPECT_EQ(tok.decode(tok.encode("hi", true)), "<|begin_of_text|>hi");
  EXPECT_EQ(tok.decode(tok.encode("hi", true), true), "hi");
}

TEST(tokenizer, decode_drops_unknown_ids_and_repairs_utf8) {
  const tokenizer tok = load(fixture_spec{});
  EXPECT_EQ(tok.decode(ids{'a', 999999, -5, 'b'}), "ab");
  EXPECT_EQ(tok.decode(ids{0xC3}), "\xEF\xBF\xBD");
  EXPECT_EQ(tok.decode(ids{0xC3, 'a'}), "\xEF\xBF\xBD" "a");
  EXPECT_EQ(tok.decode(ids{0xF0, 0x9F, 0x98}), "\xEF\xBF\xBD"); // truncated tail: one U+FFFD
}

TEST(tokenizer, rejects_invalid_utf8_input) {
  const tokenizer tok = load(fixture_spec{});
  try {
    tok.encode("ok\xC3(", false);
    FAIL() << "expected input_error";
  } catch (const input_error& e) {
    EXPECT_STREQ(e.what(), "input is not valid UTF-8 at byte 2");
  }
  EXPECT_THROW(tok.encode("\xED\xA0\x80", false), input_error); // surrogate
  EXPECT_THROW(tok.encode("\xC0\xAF", false), input_error);     // overlong
  EXPECT_TRUE(tok.encode("", false).empty());
}

TEST(tokenizer, lookups_and_vocab_size) {
  fixture_spec spec;
  spec.merges = {{"a", "b"}};
  const int first = test::vocab_entries(spec);
  spec.added_tokens = json::array({test::added_token_json(first, "<s>", true),
                                   test::added_token_json(first + 1, "<tool>", false)});
  const tokenizer tok = load(spec);
  EXPECT_EQ(tok.vocab_size(), first + 2);
  EXPECT_EQ(tok.token_to_id("ab"), 256);
  EXPECT_EQ(tok.token_to_id("<s>"), first);
  EXPECT_EQ(tok.token_to_id("missing"), std::nullopt);
  EXPECT_EQ(tok.id_to_token(first + 1), "<tool>");
  EXPECT_EQ(tok.id_to_token(first + 2), std::nullopt);
  EXPECT_EQ(tok.id_to_token(-1), std::nullopt);
  EXPECT_TRUE(tok.is_special(first));
  EXPECT_FALSE(tok.is_special(first + 1));
  EXPECT_FALSE(tok.is_special(256));
  EXPECT_EQ(tok.special_tokens(), std::vector<std::string>{"<s>"});
}

TEST(tokenizer, byte_fallback_and_unk) {
  // A sentencepiece-style vocab without a pre-tokenizer: chars map to tokens directly.
  const json base = {
      {"added_tokens", json::array()},
      {"pre_tokenizer", nullptr},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"byte_fallback", true},
        {"vocab", {{"<unk>", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}}},
        {"merges", json::array()}}}};
  EXPECT_EQ(tokenizer::from_json(base.dump()).encode("aéa", false), (ids{1, 2, 3, 1}));
  EXPECT_EQ(tokenizer::from_json(base.dump()).encode("a中", false), (ids{1, 0}));
  json fused = base;
  fused["model"]["byte_fallback"] = false;
  EXPECT_EQ(tokenizer::from_json(fused.dump()).encode("éé", false), (ids{0, 0}));
  fused["model"]["fuse_unk"] = true;
  EXPECT_EQ(tokenizer::from_json(fused.dump()).encode("ééa", false), (ids{0, 1}));
}

TEST(tokenizer, encode_is_thread_safe) {
  fixture_spec spec;
  spec.merges = {{"a", "b"}, {"ab", "c"}, {"c", "d"}};
  spec.pre_tokenizer["use_regex"] = true;
  const tokenizer tok = load(spec);
  const std::string text = "abcd abc cd ab é 中文 12345 ";
  const ids expected = tok.encode(text, false);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (tok.encode(text, false) != expected) ++mismatches;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(tokenizer, from_file_reads_and_reports_missing_files) {
  const std::string path = testing::TempDir() + "/pm_tokenizer_test.json";
  {
    std::ofstream out(path, std::ios::binary);
    out << test::make_tokenizer_json(fixture_spec{}).dump();
  }
  EXPECT_EQ(tokenizer::from_file(path).encode("a", false), (ids{'a'}));
  std::remove(path.c_str());
  EXPECT_THROW(tokenizer::from_file(path), input_error);
}

} // namespace
} // namespace proofmesh::engine
