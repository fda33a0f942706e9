// Trained tokenizers: they load, round-trip text exactly, are deterministic, and carry each
// family's configuration. Golden comparisons with HF tokenizers live in a separate script.
#include "actors/engine/tokenizer/tokenizer_trainer.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"

namespace proofmesh::engine {
namespace {

using json = nlohmann::json;

const std::vector<std::string> tricky = {
    "",
    " ",
    "  leading and trailing  ",
    "line one\nline two\r\n\n\ttabbed",
    "numbers 1 12 123 1234 12345 3.14159 -42 1e-9",
    "x^2 + y^2 = z^2, \\frac{a}{b} \\sum_{i=1}^{n} i",
    "I'm, you're, they'll, we'd, it's, DON'T",
    "中文数学 と 日本語のテキスト カタカナ",
    "emoji 😀🎉 and accents café naïve",
    "∀ε>0 ∃δ>0 ⊢ ℕ ℝ",
    "theorem foo : 1 + 1 = 2 := by norm_num",
    "<|begin_of_text|>special<|eot|> tokens <|eot|>",
    "unseen bytes \x01\x02\x7f and words zzzqqq",
};

tokenizer_train_params params_for(tokenizer_family family, int32_t vocab_size) {
  return {.family = family,
          .corpus = default_training_corpus(),
          .vocab_size = vocab_size,
          .special_tokens = {"<|begin_of_text|>", "<|eot|>"},
          .bos_token = family == tokenizer_family::llama3
                           ? std::optional<std::string>("<|begin_of_text|>")
                           : std::nullopt};
}

class tokenizer_trainer_family : public testing::TestWithParam<tokenizer_family> {};

TEST_P(tokenizer_trainer_family, round_trips_corpus_and_tricky_text) {
  const tokenizer tok = tokenizer::from_json(train_tokenizer_json(params_for(GetParam(), 1024)));
  const std::string corpus(default_training_corpus());
  const std::vector<int32_t> ids = tok.encode(corpus, false);
  EXPECT_EQ(tok.decode(ids), corpus);
  EXPECT_LT(ids.size(), corpus.size() / 2); // it learned something
  for (const std::string& text : tricky) {
    EXPECT_EQ(tok.decode(tok.encode(text, false)), text) << text;
  }
}

TEST_P(tokenizer_trainer_family, is_deterministic) {
  EXPECT_EQ(train_tokenizer_json(params_for(GetParam(), 700)),
            train_tokenizer_json(params_for(GetParam(), 700)));
}

TEST_P(tokenizer_trainer_family, special_tokens_follow_the_vocab) {
  const tokenizer tok = tokenizer::from_json(train_tokenizer_json(params_for(GetParam(), 600)));
  EXPECT_EQ(tok.token_to_id("<|begin_of_text|>"), 600);
  EXPECT_EQ(tok.token_to_id("<|eot|>"), 601);
  EXPECT_EQ(tok.vocab_size(), 602);
  EXPECT_EQ(tok.special_tokens(), (std::vector<std::string>{"<|begin_of_text|>", "<|eot|>"}));
  const std::vector<int32_t> ids = tok.encode("hi<|eot|>", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), 601);
  const bool has_bos = GetParam() == tokenizer_family::llama3;
  EXPECT_EQ(ids.front() == 600, has_bos);
  EXPECT_EQ(tok.decode(ids, true), "hi");
}

INSTANTIATE_TEST_SUITE_P(families, tokenizer_trainer_family,
                         testing::Values(tokenizer_family::llama3, tokenizer_family::qwen2,
                                         tokenizer_family::deepseek_v3));

TEST(tokenizer_trainer, json_has_the_hf_structure) {
  const json j = json::parse(train_tokenizer_json(params_for(tokenizer_family::llama3, 300)));
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_TRUE(j["truncation"].is_null());
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["model"]["ignore_merges"], true);
  EXPECT_EQ(j["model"]["vocab"].size(), 300u);
  EXPECT_EQ(j["model"]["merges"].size(), 44u);
  EXPECT_TRUE(j["model"]["merges"][0].is_array());
  EXPECT_EQ(j["normalizer"], nullptr);
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][0]["behavior"], "Isolated");
  EXPECT_EQ(j["post_processor"]["type"], "TemplateProcessing");
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  const json q = json::parse(train_tokenizer_json(params_for(tokenizer_family::qwen2, 300)));
  EXPECT_EQ(q["normalizer"]["type"], "NFC");
  EXPECT_EQ(q["model"]["ignore_merges"], false);
  EXPECT_EQ(q["post_processor"]["type"], "ByteLevel");
  const json d = json::parse(train_tokenizer_json(params_for(tokenizer_family::deepseek_v3, 300)));
  EXPECT_EQ(d["pre_tokenizer"]["pretokenizers"].size(), 4u);
}

TEST(tokenizer_trainer, qwen2_normalizes_to_nfc) {
  const tokenizer tok =
      tokenizer::from_json(train_tokenizer_json(params_for(tokenizer_family::qwen2, 400)));
  EXPECT_EQ(tok.decode(tok.encode("cafe\xCC\x81", false)), "café");
}

TEST(tokenizer_trainer, stops_when_no_pair_repeats) {
  tokenizer_train_params params = params_for(tokenizer_family::qwen2, 100000);
  params.corpus = "abab abab cd";
  const json j = json::parse(train_tokenizer_json(params));
  // "ab" (x2 per word, 2 words) and "abab"; then every pair occurs once.
  EXPECT_LT(j["model"]["vocab"].size(), 270u);
}

TEST(tokenizer_trainer, trains_4096_quickly) {
  const auto start = std::chrono::steady_clock::now();
  const std::string text = train_tokenizer_json(params_for(tokenizer_family::llama3, 4096));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
  std::printf("trained vocab 4096 on %zu bytes in %.3f s (%zu bytes of JSON)\n",
              default_training_corpus().size(), seconds, text.size());
}

TEST(tokenizer_trainer, rejects_bad_params) {
  tokenizer_train_params params = params_for(tokenizer_family::qwen2, 100);
  EXPECT_THROW(train_tokenizer_json(params), input_error);
  params.vocab_size = 300;
  params.corpus = "bad \xC3";
  EXPECT_THROW(train_tokenizer_json(params), input_error);
  params.corpus = "fine";
  params.special_tokens = {"<a>", "<a>"};
  EXPECT_THROW(train_tokenizer_json(params), input_error);
  params.special_tokens = {""};
  EXPECT_THROW(train_tokenizer_json(params), input_error);
}

} // namespace
} // namespace proofmesh::engine
