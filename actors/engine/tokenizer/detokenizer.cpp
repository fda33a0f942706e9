// The hold-back rule is sound because from_utf8_lossy decides each replacement from the bytes
// so far: a prefix that is already invalid stays invalid whatever follows, and only a truncated
// but valid-so-far tail can still change, so that tail is all we keep.
#include "actors/engine/tokenizer/detokenizer.hpp"

#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

detokenizer::detokenizer(const tokenizer& tok, bool skip_special_tokens)
    : tok_(&tok), skip_special_tokens_(skip_special_tokens) {}

std::string detokenizer::push(int32_t id) {
  pending_ += tok_->token_bytes(id, skip_special_tokens_);
  return drain(false);
}

std::string detokenizer::finish() { return drain(true); }

std::string detokenizer::drain(bool is_final) {
  std::string out;
  const size_t consumed = append_utf8_lossy(out, pending_, is_final);
  pending_.erase(0, consumed);
  return out;
}

} // namespace proofmesh::engine
