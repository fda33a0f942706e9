// The normalizer stage: Unicode normalization forms, alone or in a Sequence.
// Rules of the road: only transforms that tokenizers applies identically are accepted (NFC, NFD,
// NFKC, NFKD, nested Sequences); any other type is an input_error naming it, so an unsupported
// file fails at load time instead of encoding differently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/tokenizer/json_field.hpp"

namespace proofmesh::engine {

enum class normalization_form { form_nfc, form_nfd, form_nfkc, form_nfkd };

class normalizer {
public:
  normalizer() = default; // the identity (tokenizer.json "normalizer": null)
  static normalizer from_json(const json& value, std::string_view where);

  bool is_identity() const { return forms_.empty(); }
  /// text must be valid UTF-8; so is the result.
  std::string normalize(std::string_view text) const;

private:
  void parse(const json& value, std::string_view where, int depth);

  std::vector<normalization_form> forms_; // applied in order
};

} // namespace proofmesh::engine
