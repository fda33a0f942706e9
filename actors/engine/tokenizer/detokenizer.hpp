// Streaming decode for token-by-token output. push() returns only complete, valid UTF-8: it holds
// back a trailing multi-byte sequence that later tokens may complete (byte-level BPE often splits
// an emoji or CJK char across tokens) and replaces truly invalid bytes with U+FFFD at once.
// Rules of the road: concatenating every push() result and finish() equals tokenizer::decode()
// of all the ids; the detokenizer borrows the tokenizer, which must outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "actors/engine/tokenizer/tokenizer.hpp"

namespace proofmesh::engine {

class detokenizer {
public:
  explicit detokenizer(const tokenizer& tok, bool skip_special_tokens = false);

  /// Text that became complete with this id (often empty mid-character).
  std::string push(int32_t id);
  /// Flushes the held-back bytes; an incomplete sequence becomes U+FFFD. Resets the stream.
  std::string finish();

private:
  std::string drain(bool is_final);

  const tokenizer* tok_;
  bool skip_special_tokens_;
  std::string pending_; // bytes not yet emitted: at most an incomplete UTF-8 sequence
};

} // namespace proofmesh::engine
