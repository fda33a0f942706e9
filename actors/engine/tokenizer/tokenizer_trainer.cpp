// Family configurations copied from the published tokenizer.json files, then training and JSON
// assembly. ordered_json keeps tokenizers' key order, so the output diffs cleanly against HF's.
#include "actors/engine/tokenizer/tokenizer_trainer.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/bpe_trainer.hpp"
#include "actors/engine/tokenizer/byte_level.hpp"
#include "actors/engine/tokenizer/normalizer.hpp"
#include "actors/engine/tokenizer/pre_tokenizer.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

namespace {

using ordered_json = nlohmann::ordered_json;

constexpr int32_t max_train_vocab = 1 << 20;

constexpr std::string_view llama3_pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr std::string_view qwen2_pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr std::string_view deepseek_digits_pattern = R"re(\p{N}{1,3})re";
constexpr std::string_view deepseek_cjk_pattern = R"re([一-龥぀-ゟ゠-ヿ]+)re";
constexpr std::string_view deepseek_words_pattern =
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

ordered_json split_json(std::string_view pattern) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", std::string(pattern)}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

ordered_json byte_level_json(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

ordered_json pre_tokenizer_json(tokenizer_family family) {
  ordered_json steps = ordered_json::array();
  switch (family) {
  case tokenizer_family::llama3: steps.push_back(split_json(llama3_pattern)); break;
  case tokenizer_family::qwen2: steps.push_back(split_json(qwen2_pattern)); break;
  case tokenizer_family::deepseek_v3:
    steps.push_back(split_json(deepseek_digits_pattern));
    steps.push_back(split_json(deepseek_cjk_pattern));
    steps.push_back(split_json(deepseek_words_pattern));
    break;
  }
  steps.push_back(byte_level_json(false, true, false));
  return {{"type", "Sequence"}, {"pretokenizers", steps}};
}

ordered_json normalizer_json(tokenizer_family family) {
  switch (family) {
  case tokenizer_family::qwen2: return {{"type", "NFC"}};
  case tokenizer_family::deepseek_v3:
    return {{"type", "Sequence"}, {"normalizers", ordered_json::array()}};
  case tokenizer_family::llama3: break;
  }
  return nullptr;
}

ordered_json template_json(const std::string& bos, int32_t bos_id) {
  auto special = [&](int type_id) {
    return ordered_json{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}};
  };
  auto sequence = [](const char* id, int type_id) {
    return ordered_json{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
  };
  ordered_json special_tokens = ordered_json::object();
  // Explicit arrays: a one-element braced list is ambiguous in nlohmann's initializer syntax.
  special_tokens[bos] = {{"id", bos},
                         {"ids", ordered_json::array({bos_id})},
                         {"tokens", ordered_json::array({bos})}};
  return {{"type", "TemplateProcessing"},
          {"single", {special(0), sequence("A", 0)}},
          {"pair", {special(0), sequence("A", 0), special(1), sequence("B", 1)}},
          {"special_tokens", special_tokens}};
}

// Pre-tokenized corpus words, counted, in byte-id form, sorted by content for determinism.
std::vector<bpe_training_word> count_words(const tokenizer_train_params& params,
                                           const ordered_json& norm_json,
                                           const ordered_json& pre_json) {
  // Round-trip through the loader's JSON type so training uses the exact encode() code path.
  const normalizer norm = normalizer::from_json(json::parse(norm_json.dump()), "normalizer");
  const pre_tokenizer pre =
      pre_tokenizer::from_json(json::parse(pre_json.dump()), "pre_tokenizer");
  std::vector<std::string> pieces;
  pre.pre_tokenize(norm.normalize(params.corpus), pieces);
  std::map<std::string, int64_t> counts;
  for (std::string& piece : pieces) ++counts[std::move(piece)];
  std::vector<bpe_training_word> words;
  words.reserve(counts.size());
  for (const auto& [piece, count] : counts) {
    bpe_training_word w{{}, count};
    size_t pos = 0;
    while (pos < piece.size()) {
      const utf8_step step = next_utf8(piece, pos);
      w.symbols.push_back(*char_to_byte(step.code)); // pieces are byte-level chars only
      pos += step.len;
    }
    words.push_back(std::move(w));
  }
  return words;
}

// Appends to an ordered_json object without its duplicate-key scan, which is quadratic; keys
// here are distinct by construction.
void append_unique(ordered_json& object, const std::string& key, ordered_json value) {
  auto& entries = static_cast<ordered_json::object_t::Container&>(
      object.get_ref<ordered_json::object_t&>());
  entries.emplace_back(key, std::move(value));
}

} // namespace

std::string train_tokenizer_json(const tokenizer_train_params& params) {
  if (params.vocab_size < 256 || params.vocab_size > max_train_vocab) {
    throw input_error("train_tokenizer_json: vocab_size must be in [256, 2^20]");
  }
  if (const auto bad = find_invalid_utf8(params.corpus)) {
    throw input_error("train_tokenizer_json: corpus is not valid UTF-8 at byte " +
                      std::to_string(*bad));
  }
  std::vector<std::string> specials;
  if (params.bos_token &&
      std::find(params.special_tokens.begin(), params.special_tokens.end(), *params.bos_token) ==
          params.special_tokens.end()) {
    specials.push_back(*params.bos_token);
  }
  specials.insert(specials.end(), params.special_tokens.begin(), params.special_tokens.end());
  for (size_t i = 0; i < specials.size(); ++i) {
    if (specials[i].empty() || find_invalid_utf8(specials[i])) {
      throw input_error("train_tokenizer_json: special token " + std::to_string(i) +
                        " is empty or not valid UTF-8");
    }
    if (std::find(specials.begin(), specials.begin() + i, specials[i]) != specials.begin() + i) {
      throw input_error("train_tokenizer_json: special token \"" + specials[i] + "\" repeats");
    }
  }

  const ordered_json norm_json = normalizer_json(params.family);
  const ordered_json pre_json = pre_tokenizer_json(params.family);
  const bpe_training_result trained =
      train_bpe(count_words(params, norm_json, pre_json), params.vocab_size);

  ordered_json vocab = ordered_json::object();
  std::unordered_map<std::string, int32_t> vocab_ids;
  for (size_t id = 0; id < trained.tokens.size(); ++id) {
    append_unique(vocab, trained.tokens[id], static_cast<int32_t>(id));
    vocab_ids.emplace(trained.tokens[id], static_cast<int32_t>(id));
  }
  ordered_json merges = ordered_json::array();
  for (const auto& [left, right] : trained.merges) {
    merges.push_back(ordered_json::array({trained.tokens[left], trained.tokens[right]}));
  }

  // Ids as tokenizers assigns them on load: a special token that equals a vocab token shares its
  // id; the others follow the vocab in order.
  ordered_json added = ordered_json::array();
  auto next_id = static_cast<int32_t>(trained.tokens.size());
  std::optional<int32_t> bos_id;
  for (const std::string& content : specials) {
    const auto it = vocab_ids.find(content);
    const int32_t id = it != vocab_ids.end() ? it->second : next_id++;
    if (params.bos_token && content == *params.bos_token) bos_id = id;
    added.push_back({{"id", id},
                     {"content", content},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }

  ordered_json root;
  root["version"] = "1.0";
  root["truncation"] = nullptr;
  root["padding"] = nullptr;
  root["added_tokens"] = added;
  root["normalizer"] = norm_json;
  root["pre_tokenizer"] = pre_json;
  root["post_processor"] = params.bos_token ? template_json(*params.bos_token, *bos_id)
                                            : byte_level_json(false, false, false);
  root["decoder"] = byte_level_json(true, true, true);
  root["model"] = {{"type", "BPE"},
                   {"dropout", nullptr},
                   {"unk_token", nullptr},
                   {"continuing_subword_prefix", nullptr},
                   {"end_of_word_suffix", nullptr},
                   {"fuse_unk", false},
                   {"byte_fallback", false},
                   {"ignore_merges", params.family == tokenizer_family::llama3},
                   {"vocab", std::move(vocab)},
                   {"merges", std::move(merges)}};
  return root.dump(2, ' ', false);
}

} // namespace proofmesh::engine
