// Our tokenizer against Hugging Face `tokenizers` on tokenizer.json files that library wrote, for
// the Qwen2, Llama 3 and DeepSeek-V3 pre-tokenization families. Ids must match exactly.
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "tests/support/read_file.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace proofmesh::engine {
namespace {

const std::string data_dir = std::string(PM_SOURCE_DIR) + "/tests/golden/data/tokenizers/";

class tokenizer_golden : public ::testing::TestWithParam<const char*> {};

TEST_P(tokenizer_golden, ids_and_decode_match_hf_tokenizers) {
  std::string dir = data_dir + GetParam();
  auto tok = tokenizer::from_file(dir + "/tokenizer.json");
  auto cases = nlohmann::json::parse(testing::read_file(dir + "/ids.json"));
  ASSERT_GT(cases.size(), 15u);
  for (const auto& c : cases) {
    std::string text = c["text"];
    EXPECT_EQ(tok.encode(text, false), c["ids"].get<std::vector<int32_t>>()) << text;
    EXPECT_EQ(tok.encode(text, true), c["ids_with_special"].get<std::vector<int32_t>>()) << text;
    EXPECT_EQ(tok.decode(c["ids"].get<std::vector<int32_t>>()), c["decoded"].get<std::string>())
        << text;
  }
}

INSTANTIATE_TEST_SUITE_P(families, tokenizer_golden,
                         ::testing::Values("qwen2", "llama3", "deepseek_v3"));

} // namespace
} // namespace proofmesh::engine
