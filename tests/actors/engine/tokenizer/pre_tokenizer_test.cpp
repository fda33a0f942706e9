// Pre-tokenizer pieces for each Split behaviour, Digits, and the real family regexes, worked out
// from tokenizers' NormalizedString::split folds.
#include "actors/engine/tokenizer/pre_tokenizer.hpp"

#include <gtest/gtest.h>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/byte_level.hpp"

namespace proofmesh::engine {
namespace {

using pieces = std::vector<std::string>;

pieces run(const json& config, std::string_view text) {
  pieces out;
  pre_tokenizer::from_json(config, "pre_tokenizer").pre_tokenize(text, out);
  return out;
}

json split(const std::string& behavior, bool invert = false) {
  return {{"type", "Split"},
          {"pattern", {{"String", "-"}}},
          {"behavior", behavior},
          {"invert", invert}};
}

TEST(pre_tokenizer, split_behaviors) {
  EXPECT_EQ(run(split("Isolated"), "a-b--c"), (pieces{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(run(split("Removed"), "a-b--c"), (pieces{"a", "b", "c"}));
  EXPECT_EQ(run(split("MergedWithPrevious"), "a-b--c"), (pieces{"a-", "b-", "-", "c"}));
  EXPECT_EQ(run(split("MergedWithNext"), "a-b--c"), (pieces{"a", "-b", "-", "-c"}));
  EXPECT_EQ(run(split("Contiguous"), "a-b--c"), (pieces{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(run(split("Removed", true), "a-b--c"), (pieces{"-", "-", "-"}));
  EXPECT_EQ(run(split("MergedWithPrevious"), "-a"), (pieces{"-", "a"}));
  EXPECT_EQ(run(split("Isolated"), "abc"), (pieces{"abc"}));
}

TEST(pre_tokenizer, string_pattern_is_literal) {
  const json config = {{"type", "Split"},
                       {"pattern", {{"String", "."}}},
                       {"behavior", "Removed"},
                       {"invert", false}};
  EXPECT_EQ(run(config, "a.b+c"), (pieces{"a", "b+c"}));
}

TEST(pre_tokenizer, digits) {
  const json individual = {{"type", "Digits"}, {"individual_digits", true}};
  const json grouped = {{"type", "Digits"}, {"individual_digits", false}};
  EXPECT_EQ(run(individual, "ab123c"), (pieces{"ab", "1", "2", "3", "c"}));
  EXPECT_EQ(run(grouped, "ab123c4"), (pieces{"ab", "123", "c", "4"}));
}

TEST(pre_tokenizer, llama3_regex_pieces) {
  const json llama3 = {
      {"type", "Split"},
      {"pattern",
       {{"Regex",
         R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"},
      {"invert", false}};
  EXPECT_EQ(run(llama3, "Hello world 12345!!\n\n  x"),
            (pieces{"Hello", " world", " ", "123", "45", "!!\n\n", " ", " x"}));
  EXPECT_EQ(run(llama3, "I'M here"), (pieces{"I", "'M", " here"}));
  EXPECT_EQ(run(llama3, "中文, été"), (pieces{"中文", ",", " été"}));
}

TEST(pre_tokenizer, deepseek_v3_sequence) {
  auto split_regex = [](const char* pattern) {
    return json{{"type", "Split"},
                {"pattern", {{"Regex", pattern}}},
                {"behavior", "Isolated"},
                {"invert", false}};
  };
  const json deepseek = {
      {"type", "Sequence"},
      {"pretokenizers",
       {split_regex(R"(\p{N}{1,3})"), split_regex("[一-龥぀-ゟ゠-ヿ]+"),
        split_regex(
            R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"),
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
         {"use_regex", false}}}}};
  // "1234" -> "123" "4"; the kana/kanji run is its own piece; ".x" glues punctuation to letters.
  EXPECT_EQ(run(deepseek, "ab1234数学です.x"),
            (pieces{"ab", "123", "4", bytes_to_byte_level("数学です"), ".x"}));
}

TEST(pre_tokenizer, byte_level_with_gpt2_regex) {
  const json config = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  EXPECT_EQ(run(config, "Hi there's 42"), (pieces{"ĠHi", "Ġthere", "'s", "Ġ42"}));
}

TEST(pre_tokenizer, empty_pattern_matches_between_chars) {
  const json config = {{"type", "Split"},
                       {"pattern", {{"Regex", ""}}},
                       {"behavior", "Isolated"},
                       {"invert", false}};
  EXPECT_EQ(run(config, "aé"), (pieces{"a", "é"}));
}

TEST(pre_tokenizer, rejects_unsupported_and_bad_patterns) {
  try {
    run({{"type", "Metaspace"}}, "x");
    FAIL();
  } catch (const input_error& e) {
    EXPECT_STREQ(e.what(), "tokenizer.json: pre_tokenizer.type \"Metaspace\" is not supported");
  }
  EXPECT_THROW(run({{"type", "Split"}, {"pattern", {{"Regex", "("}}}, {"behavior", "Isolated"}},
                   "x"),
               input_error);
  EXPECT_THROW(run({{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}},
                   "x"),
               input_error);
  // Catastrophic backtracking ends in input_error, not a hang.
  const json exponential = {
      {"type", "Split"}, {"pattern", {{"Regex", "(a+)+$"}}}, {"behavior", "Isolated"}};
  EXPECT_THROW(run(exponential, std::string(40, 'a') + "!"),
               input_error);
}

} // namespace
} // namespace proofmesh::engine
