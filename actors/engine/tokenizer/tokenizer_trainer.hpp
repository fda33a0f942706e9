// Builds a tokenizer.json by training byte-level BPE on a corpus, with the normalizer and
// pre-tokenizer of a real model family, so tests and benchmarks get small tokenizers that behave
// like Llama 3, Qwen2 or DeepSeek-V3 ones. The output loads in tokenizers 0.23 and in
// tokenizer::from_json.
// Rules of the road: the corpus is cut by the same pre_tokenizer code that encode() runs, so
// training and encoding agree by construction; the same params always give the same JSON text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

enum class tokenizer_family { llama3, qwen2, deepseek_v3 };

struct tokenizer_train_params {
  tokenizer_family family;                 // picks the pre-tokenizer regex(es) and normalizer
  std::string_view corpus;                 // UTF-8 training text
  int32_t vocab_size;                      // 256 byte tokens + merges; stops early if no pair
                                           // occurs twice
  std::vector<std::string> special_tokens; // added after the BPE vocab, special=true, in order
  std::optional<std::string> bos_token;    // set: TemplateProcessing prepends it (added as a
                                           // special token first if not listed); unset: the
                                           // ByteLevel post-processor
};

/// Trains and returns tokenizer.json text; throws input_error for bad params (vocab_size below
/// 256, invalid UTF-8 corpus, empty or repeated special tokens).
std::string train_tokenizer_json(const tokenizer_train_params& params);

/// A built-in corpus (English mathematical prose, LaTeX, digits, code-like text, some CJK).
std::string_view default_training_corpus();

} // namespace proofmesh::engine
