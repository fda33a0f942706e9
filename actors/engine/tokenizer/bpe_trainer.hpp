// Byte-level BPE merge learning: given counted words (as byte ids), repeatedly merge the most
// frequent adjacent pair. Ties go to the lexicographically smallest (left, right) pair of token
// strings, so the result depends only on the input, never on hash order.
// Rules of the road: pair counts are kept incrementally (only words holding the merged pair are
// revisited), which makes a 4096 vocab on tens of KB take milliseconds. A merge whose string
// already exists as a token is never made, so every merge adds exactly one new token.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace proofmesh::engine {

struct bpe_training_word {
  std::vector<int32_t> symbols; // byte ids 0..255 to start with
  int64_t count;                // occurrences in the corpus
};

struct bpe_training_result {
  std::vector<std::string> tokens;                 // id -> byte-level token string
  std::vector<std::pair<int32_t, int32_t>> merges; // in rank order
};

/// Ids 0..255 are the bytes (as byte-level chars); merged tokens follow. Stops at vocab_size
/// tokens or when no pair occurs at least twice.
bpe_training_result train_bpe(std::vector<bpe_training_word> words, int32_t vocab_size);

} // namespace proofmesh::engine
