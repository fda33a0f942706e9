// The decoder stage: ByteLevel maps each token's chars back to the bytes they stand for.
// Rules of the road: per token, as tokenizers does, a token with any char outside the byte table
// (e.g. an added token like "<｜begin▁of▁sentence｜>") contributes its own UTF-8 bytes instead;
// the caller repairs the concatenated bytes with to_utf8_lossy. Only ByteLevel (alone or as the
// single member of a Sequence) is accepted.
#pragma once

#include <string>
#include <string_view>

#include "actors/engine/tokenizer/json_field.hpp"

namespace proofmesh::engine {

class decoder {
public:
  static decoder from_json(const json& value, std::string_view where);

  /// Appends the bytes that token decodes to.
  void append_bytes(std::string& out, std::string_view token) const;

private:
  decoder() = default;
};

} // namespace proofmesh::engine
