// ICU's Normalizer2 instances are process-wide singletons and const-thread-safe. ICU works in
// UTF-16, so each step converts there and back; encode() skips all of it when there are no steps.
#include "actors/engine/tokenizer/normalizer.hpp"

#include <cstdint>

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "actors/common/error.hpp"

namespace proofmesh::engine {

namespace {

constexpr int max_nesting = 16;

const icu::Normalizer2& icu_instance(normalization_form form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
  case normalization_form::form_nfc: n = icu::Normalizer2::getNFCInstance(status); break;
  case normalization_form::form_nfd: n = icu::Normalizer2::getNFDInstance(status); break;
  case normalization_form::form_nfkc: n = icu::Normalizer2::getNFKCInstance(status); break;
  case normalization_form::form_nfkd: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  if (U_FAILURE(status) || n == nullptr) {
    throw std::runtime_error(std::string("ICU normalizer unavailable: ") + u_errorName(status));
  }
  return *n;
}

} // namespace

normalizer normalizer::from_json(const json& value, std::string_view where) {
  normalizer n;
  if (!value.is_null()) n.parse(value, where, 0);
  return n;
}

void normalizer::parse(const json& value, std::string_view where, int depth) {
  if (depth > max_nesting) throw_json_error(where, "nests too deeply");
  const std::string type = type_field(value, where);
  if (type == "NFC") forms_.push_back(normalization_form::form_nfc);
  else if (type == "NFD") forms_.push_back(normalization_form::form_nfd);
  else if (type == "NFKC") forms_.push_back(normalization_form::form_nfkc);
  else if (type == "NFKD") forms_.push_back(normalization_form::form_nfkd);
  else if (type == "Sequence") {
    const json& list = require_field(value, "normalizers", where);
    const std::string list_where = field_path(where, "normalizers");
    if (!list.is_array()) throw_json_error(list_where, "must be an array");
    for (size_t i = 0; i < list.size(); ++i) parse(list[i], index_path(list_where, i), depth + 1);
  } else {
    throw_json_error(field_path(where, "type"), quote_value(type) + " is not supported");
  }
}

std::string normalizer::normalize(std::string_view text) const {
  if (forms_.empty()) return std::string(text);
  if (text.size() > static_cast<size_t>(INT32_MAX)) {
    throw input_error("input is too long to normalize");
  }
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  for (normalization_form form : forms_) {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString out = icu_instance(form).normalize(s, status);
    if (U_FAILURE(status)) {
      throw std::runtime_error(std::string("ICU normalize: ") + u_errorName(status));
    }
    s = std::move(out);
  }
  std::string result;
  s.toUTF8String(result);
  return result;
}

} // namespace proofmesh::engine
