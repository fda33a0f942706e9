// The few Python string semantics the reference parser relies on, on UTF-8 text: str.isspace()
// (which is also what `\s` matches in Python's Unicode regexes), str.strip() with no argument,
// and float() of a string. Rules of the road: bytes that are not valid UTF-8 are never space;
// python_float returns nullopt where float() would raise ValueError.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace proofmesh::roles {

/// If text[pos] starts a whitespace code point (per str.isspace), its length in bytes, else 0.
size_t python_space_at(std::string_view text, size_t pos);

/// str.strip(): whitespace code points removed from both ends.
std::string_view python_strip(std::string_view text);

/// float(text): surrounding whitespace, a sign, digits with single underscores between them, a
/// fraction, an exponent, or inf/infinity/nan in any case.
std::optional<double> python_float(std::string_view text);

} // namespace proofmesh::roles
