// Thin wrappers over ICU's uchar.h; see char_class.hpp for why these exact definitions.
#include "actors/engine/tokenizer/char_class.hpp"

#include <unicode/uchar.h>

namespace proofmesh::engine {

bool is_whitespace_char(char32_t c) {
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

bool is_word_char(char32_t c) {
  const auto u = static_cast<UChar32>(c);
  if (u_hasBinaryProperty(u, UCHAR_ALPHABETIC) || u_hasBinaryProperty(u, UCHAR_JOIN_CONTROL)) {
    return true;
  }
  switch (u_charType(u)) {
  case U_NON_SPACING_MARK:
  case U_COMBINING_SPACING_MARK:
  case U_ENCLOSING_MARK:
  case U_DECIMAL_DIGIT_NUMBER:
  case U_CONNECTOR_PUNCTUATION:
    return true;
  default:
    return false;
  }
}

bool is_numeric_char(char32_t c) {
  switch (u_charType(static_cast<UChar32>(c))) {
  case U_DECIMAL_DIGIT_NUMBER:
  case U_LETTER_NUMBER:
  case U_OTHER_NUMBER:
    return true;
  default:
    return false;
  }
}

} // namespace proofmesh::engine
