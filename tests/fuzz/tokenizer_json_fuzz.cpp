// libFuzzer target: tokenizer::from_json over arbitrary text; if it loads, encode a fixed string.
// Rules of the road: input_error is the only acceptable failure. The call sites adapt at compile
// time to whether from_json returns the tokenizer or a pointer to it, and to whether encode takes
// an add-special-tokens flag, so this file does not pin details the tokenizer owner may change.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"

namespace {

template <typename T>
auto& deref(T& value) {
  if constexpr (requires { *value; value.get(); }) {
    return *value;
  } else {
    return value;
  }
}

template <typename Tokenizer>
void encode_sample(const Tokenizer& tokenizer) {
  // Mixed scripts, digits, spaces, a control byte and an emoji reach most pre-tokenizer branches.
  constexpr std::string_view sample = "Hello, world! 123  naïve 東京\t\n<|endoftext|> 🙂";
  if constexpr (requires { tokenizer.encode(sample); }) {
    (void)tokenizer.encode(sample);
  } else {
    (void)tokenizer.encode(sample, true);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  try {
    auto loaded = proofmesh::engine::tokenizer::from_json(json);
    encode_sample(deref(loaded));
  } catch (const proofmesh::input_error&) {
  }
  return 0;
}
