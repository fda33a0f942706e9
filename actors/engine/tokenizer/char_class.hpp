// Unicode character classes with the meaning Rust gives them, because tokenizers decides
// added-token stripping (regex \s), single_word (regex \w) and Digits (char::is_numeric) with them.
// Rules of the road: ICU's property tables stand in for Rust's; both follow the Unicode
// definitions, so they differ only where the two Unicode versions differ.
#pragma once

namespace proofmesh::engine {

/// Rust regex \s: the White_Space property.
bool is_whitespace_char(char32_t c);
/// Rust regex \w: Alphabetic, M, Nd, Pc or Join_Control.
bool is_word_char(char32_t c);
/// Rust char::is_numeric: general category Nd, Nl or No.
bool is_numeric_char(char32_t c);

} // namespace proofmesh::engine
