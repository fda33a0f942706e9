// Hostile tokenizer.json content must end in input_error, never a crash, hang or assert. Each case
// breaks one thing in an otherwise valid file; a seeded mutation loop then shakes the loader the
// way the libFuzzer target will.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "tests/actors/engine/tokenizer/tokenizer_fixture.hpp"

namespace proofmesh::engine {
namespace {

using test::json;

json valid() {
  test::fixture_spec spec;
  spec.merges = {{"a", "b"}};
  spec.added_tokens = json::array({test::added_token_json(257, "<s>", true)});
  return test::make_tokenizer_json(spec);
}

std::string error_of(const std::string& text) {
  try {
    tokenizer::from_json(text);
  } catch (const input_error& e) {
    return e.what();
  }
  return "(loaded)";
}

std::string error_of(const std::function<void(json&)>& edit) {
  json j = valid();
  edit(j);
  return error_of(j.dump());
}

TEST(tokenizer_json_errors, the_valid_base_loads) { EXPECT_EQ(error_of([](json&) {}), "(loaded)"); }

TEST(tokenizer_json_errors, not_json_or_wrong_shape) {
  EXPECT_EQ(error_of(""), "tokenizer.json: not valid JSON at byte 1");
  EXPECT_NE(error_of("{\"model\": "), "(loaded)");
  EXPECT_EQ(error_of("[]"), "tokenizer.json: top level must be an object");
  EXPECT_EQ(error_of("{}"), "tokenizer.json: top level.model is missing");
  EXPECT_EQ(error_of(std::string(100, '[') + std::string(100, ']')),
            "tokenizer.json: nests too deeply");
  EXPECT_NE(error_of("{\"model\": \"\xC3(\"}"), "(loaded)"); // invalid UTF-8 inside a string
}

TEST(tokenizer_json_errors, unsupported_components_are_named) {
  EXPECT_EQ(error_of([](json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}}; }),
            "tokenizer.json: pre_tokenizer.type \"Metaspace\" is not supported");
  EXPECT_EQ(error_of([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }),
            "tokenizer.json: normalizer.type \"Lowercase\" is not supported");
  EXPECT_EQ(error_of([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }),
            "tokenizer.json: decoder.type \"WordPiece\" is not supported");
  EXPECT_EQ(error_of([](json& j) { j["post_processor"] = {{"type", "BertProcessing"}}; }),
            "tokenizer.json: post_processor.type \"BertProcessing\" is not supported");
  EXPECT_EQ(error_of([](json& j) { j["model"]["type"] = "WordPiece"; }),
            "tokenizer.json: model.type \"WordPiece\" is not supported");
  EXPECT_NE(error_of([](json& j) { j["decoder"] = nullptr; }), "(loaded)");
  EXPECT_NE(error_of([](json& j) { j["truncation"] = {{"max_length", 8}}; }), "(loaded)");
  EXPECT_NE(error_of([](json& j) { j["padding"] = {{"strategy", "BatchLongest"}}; }), "(loaded)");
  EXPECT_NE(error_of([](json& j) { j["model"]["dropout"] = 0.1; }), "(loaded)");
  EXPECT_EQ(error_of([](json& j) { j["model"]["dropout"] = 0.0; }), "(loaded)");
  EXPECT_NE(error_of([](json& j) { j["version"] = "2.0"; }), "(loaded)");
}

TEST(tokenizer_json_errors, wrong_types_and_missing_fields) {
  const std::vector<std::function<void(json&)>> edits = {
      [](json& j) { j["model"] = "BPE"; },
      [](json& j) { j["model"].erase("vocab"); },
      [](json& j) { j["model"].erase("merges"); },
      [](json& j) { j["model"]["vocab"] = json::array(); },
      [](json& j) { j["model"]["merges"] = json::object(); },
      [](json& j) { j["model"]["ignore_merges"] = "yes"; },
      [](json& j) { j["model"]["unk_token"] = 5; },
      [](json& j) { j["added_tokens"] = json::object(); },
      [](json& j) { j["added_tokens"][0]["content"] = 7; },
      [](json& j) { j["added_tokens"][0].erase("id"); },
      [](json& j) { j["added_tokens"][0]["special"] = 1; },
      [](json& j) { j["pre_tokenizer"] = {{"type", 3}}; },
      [](json& j) { j["pre_tokenizer"] = json::array(); },
      [](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", "x"}}; },
      [](json& j) { j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", 1}}; },
      [](json& j) { j["normalizer"] = {{"type", "Sequence"}}; },
      [](json& j) { j["post_processor"] = {{"type", "TemplateProcessing"}, {"single", 1}}; },
      [](json& j) {
        j["post_processor"] = {{"type", "TemplateProcessing"},
                               {"single", {{{"SpecialToken", {{"id", "<s>"}}}}}},
                               {"special_tokens", json::object()}};
      },
      [](json& j) {
        j["post_processor"] = {{"type", "TemplateProcessing"},
                               {"single", {{{"Sequence", {{"id", "B"}}}}}},
                               {"special_tokens", json::object()}};
      },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    EXPECT_NE(error_of(edits[i]), "(loaded)") << "edit " << i;
  }
}

TEST(tokenizer_json_errors, bad_ids_and_merges) {
  const std::vector<std::function<void(json&)>> edits = {
      [](json& j) { j["model"]["vocab"]["a"] = -1; },
      [](json& j) { j["model"]["vocab"]["a"] = 1.5; },
      [](json& j) { j["model"]["vocab"]["a"] = 1e30; },
      [](json& j) { j["model"]["vocab"]["a"] = json::parse("99999999999999999999999"); },
      [](json& j) { j["model"]["vocab"]["a"] = 1 << 22; },
      [](json& j) { j["model"]["vocab"]["a"] = 98; }, // duplicate id (b has 98)
      [](json& j) { j["model"]["merges"].push_back(json::array({"a", "zz"})); },
      [](json& j) { j["model"]["merges"].push_back(json::array({"b", "a"})); }, // "ba" unknown
      [](json& j) { j["model"]["merges"].push_back(json::array({"a"})); },
      [](json& j) { j["model"]["merges"].push_back("a"); },
      [](json& j) { j["model"]["merges"].push_back("a b c"); },
      [](json& j) { j["model"]["merges"].push_back(json::array({1, 2})); },
      [](json& j) { j["added_tokens"][0]["id"] = 300; },     // tokenizers would give it 257
      [](json& j) { j["added_tokens"][0]["id"] = -3; },
      [](json& j) { j["added_tokens"].push_back(j["added_tokens"][0]); }, // repeated content
      [](json& j) { j["model"]["vocab"][std::string(5000, 'x')] = 1000; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    EXPECT_NE(error_of(edits[i]), "(loaded)") << "edit " << i;
  }
}

TEST(tokenizer_json_errors, unk_token_missing_from_vocab_fails_at_encode) {
  json j = valid();
  j["model"]["unk_token"] = "<unk>";
  j["pre_tokenizer"] = nullptr;
  const tokenizer tok = tokenizer::from_json(j.dump());
  EXPECT_THROW(tok.encode("\xE2\x82\xAC", false), input_error); // "€" has no vocab entry
}

TEST(tokenizer_json_errors, seeded_mutations_never_crash) {
  const std::string base = valid().dump();
  std::mt19937 rng(12345);
  int loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % text.size();
      switch (rng() % 4) {
      case 0: text[pos] = static_cast<char>(rng() % 256); break;
      case 1: text.erase(pos, 1 + rng() % 8); break;
      case 2:
        text.insert(pos, 1, "{}[]\",:0-e9\\"[rng() % 12]);
        break;
      case 3: text.resize(pos); break;
      }
      if (text.empty()) text.push_back('{');
    }
    try {
      const tokenizer tok = tokenizer::from_json(text);
      ++loaded;
      tok.decode(tok.encode("ab <s> é 中 1234", true));
    } catch (const input_error&) {
    }
  }
  EXPECT_GT(loaded, 0); // some mutations land in harmless places
}

} // namespace
} // namespace proofmesh::engine
