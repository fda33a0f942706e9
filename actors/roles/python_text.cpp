#include "actors/roles/python_text.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace proofmesh::roles {

namespace {

// Code points for which Python's str.isspace() is true.
bool is_space_code_point(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

// Decodes the code point at pos (2 or 3 byte forms are all that spaces need); 0 bytes when the
// sequence is not a well-formed one of those.
size_t decode(std::string_view s, size_t pos, char32_t& c) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    c = b0;
    return 1;
  }
  if ((b0 & 0xe0) == 0xc0 && pos + 1 < s.size()) {
    const auto b1 = static_cast<unsigned char>(s[pos + 1]);
    if ((b1 & 0xc0) == 0x80) {
      c = (static_cast<char32_t>(b0 & 0x1f) << 6) | (b1 & 0x3f);
      return 2;
    }
  }
  if ((b0 & 0xf0) == 0xe0 && pos + 2 < s.size()) {
    const auto b1 = static_cast<unsigned char>(s[pos + 1]);
    const auto b2 = static_cast<unsigned char>(s[pos + 2]);
    if ((b1 & 0xc0) == 0x80 && (b2 & 0xc0) == 0x80) {
      c = (static_cast<char32_t>(b0 & 0x0f) << 12) | (static_cast<char32_t>(b1 & 0x3f) << 6) |
          (b2 & 0x3f);
      return 3;
    }
  }
  return 0;
}

} // namespace

size_t python_space_at(std::string_view text, size_t pos) {
  if (pos >= text.size()) {
    return 0;
  }
  char32_t c = 0;
  const size_t n = decode(text, pos, c);
  return n > 0 && is_space_code_point(c) ? n : 0;
}

std::string_view python_strip(std::string_view text) {
  size_t begin = 0;
  while (size_t n = python_space_at(text, begin)) {
    begin += n;
  }
  size_t end = text.size();
  // Walk back to the start of each trailing code point (continuation bytes are 10xxxxxx).
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(text[start]) & 0xc0) == 0x80) {
      --start;
    }
    const size_t n = python_space_at(text, start);
    if (n == 0 || start + n != end) {
      break;
    }
    end = start;
  }
  return text.substr(begin, end - begin);
}

std::optional<double> python_float(std::string_view text) {
  std::string_view s = python_strip(text);
  if (s.empty()) {
    return std::nullopt;
  }
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string lower;
  for (char c : s) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower == "inf" || lower == "infinity") {
    return negative ? -INFINITY : INFINITY;
  }
  if (lower == "nan") {
    return NAN;
  }
  // digits [_digits]* [. [digits [_digits]*]] [e [sign] digits [_digits]*], at least one digit
  // in the mantissa; underscores only between digits.
  std::string plain;
  size_t i = 0;
  auto digits = [&](bool required) {
    size_t count = 0;
    while (i < s.size()) {
      if (std::isdigit(static_cast<unsigned char>(s[i]))) {
        plain += s[i++];
        ++count;
      } else if (s[i] == '_' && count > 0 && i + 1 < s.size() &&
                 std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        ++i;
      } else {
        break;
      }
    }
    return count > 0 || !required;
  };
  const size_t before = plain.size();
  digits(false);
  bool mantissa = plain.size() > before;
  if (i < s.size() && s[i] == '.') {
    plain += s[i++];
    const size_t frac_start = plain.size();
    digits(false);
    mantissa = mantissa || plain.size() > frac_start;
  }
  if (!mantissa) {
    return std::nullopt;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    plain += 'e';
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      plain += s[i++];
    }
    if (!digits(true)) {
      return std::nullopt;
    }
  }
  if (i != s.size()) {
    return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(plain.data(), plain.data() + plain.size(), value);
  if (end != plain.data() + plain.size() || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves the value alone; strtod gives Python's answer (0 or inf). Our processes
    // never call setlocale, so its decimal point is '.'.
    value = std::strtod(plain.c_str(), nullptr);
  }
  return negative ? -value : value;
}

} // namespace proofmesh::roles
