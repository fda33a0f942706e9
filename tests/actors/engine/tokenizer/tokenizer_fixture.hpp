// Builds small hand-checkable tokenizer.json files for the tests: the 256 byte tokens get ids
// equal to their byte value (so "é" = C3 A9 encodes to {0xC3, 0xA9}), merged tokens follow in
// merge order, then extra vocab entries, then added tokens. Components default to the simplest
// byte-level setup (ByteLevel pre-tokenizer without regex, ByteLevel decoder).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/engine/tokenizer/byte_level.hpp"

namespace proofmesh::engine::test {

using json = nlohmann::json;

struct fixture_spec {
  std::vector<std::pair<std::string, std::string>> merges; // raw text, mapped to byte-level
  std::vector<std::string> extra_tokens;                   // raw text, vocab only, no merges
  json added_tokens = json::array();
  json normalizer = nullptr;
  json pre_tokenizer = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                        {"trim_offsets", true}, {"use_regex", false}};
  json post_processor = nullptr;
  json decoder = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true},
                  {"use_regex", true}};
  bool ignore_merges = false;
  bool legacy_merges = false; // "a b" strings instead of pairs
};

inline std::string bl(std::string_view raw) { return bytes_to_byte_level(raw); }

inline json make_tokenizer_json(const fixture_spec& spec) {
  json vocab = json::object();
  int next_id = 0;
  for (int b = 0; b < 256; ++b) {
    vocab[std::string(byte_to_chars(static_cast<unsigned char>(b)))] = next_id++;
  }
  auto add = [&](const std::string& token) {
    if (!vocab.contains(token)) vocab[token] = next_id++;
  };
  json merges = json::array();
  for (const auto& [left, right] : spec.merges) {
    add(bl(left + right));
    if (spec.legacy_merges) merges.push_back(bl(left) + " " + bl(right));
    else merges.push_back(json::array({bl(left), bl(right)}));
  }
  for (const std::string& extra : spec.extra_tokens) add(bl(extra));
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", spec.added_tokens},
          {"normalizer", spec.normalizer},
          {"pre_tokenizer", spec.pre_tokenizer},
          {"post_processor", spec.post_processor},
          {"decoder", spec.decoder},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", spec.ignore_merges},
            {"vocab", vocab},
            {"merges", merges}}}};
}

/// Number of vocab entries make_tokenizer_json gives spec (the first added token's id).
inline int vocab_entries(const fixture_spec& spec) {
  return static_cast<int>(make_tokenizer_json(spec)["model"]["vocab"].size());
}

inline json added_token_json(int id, const std::string& content, bool special,
                             bool lstrip = false, bool rstrip = false, bool single_word = false,
                             bool normalized = false) {
  return {{"id", id},           {"content", content}, {"single_word", single_word},
          {"lstrip", lstrip},   {"rstrip", rstrip},   {"normalized", normalized},
          {"special", special}};
}

} // namespace proofmesh::engine::test
