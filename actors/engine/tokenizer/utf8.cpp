// Mirrors core::str::validations::run_utf8_validation: the second byte's allowed range depends on
// the lead byte (no overlongs, no surrogates, nothing above U+10FFFF), and the invalid length is
// the number of bytes that were still a valid prefix (at least 1).
#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

namespace {

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Allowed range of the second byte for a lead byte, or {1, 0} (empty) when the lead is invalid.
struct byte_range {
  unsigned char lo, hi;
};

byte_range second_byte_range(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return {0x80, 0xBF};
  if (lead == 0xE0) return {0xA0, 0xBF};
  if (lead >= 0xE1 && lead <= 0xEC) return {0x80, 0xBF};
  if (lead == 0xED) return {0x80, 0x9F};
  if (lead >= 0xEE && lead <= 0xEF) return {0x80, 0xBF};
  if (lead == 0xF0) return {0x90, 0xBF};
  if (lead >= 0xF1 && lead <= 0xF3) return {0x80, 0xBF};
  if (lead == 0xF4) return {0x80, 0x8F};
  return {1, 0};
}

} // namespace

utf8_step next_utf8(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const unsigned char lead = s[pos];
  if (lead < 0x80) return {utf8_status::utf8_valid, 1, lead};
  const byte_range second = second_byte_range(lead);
  if (second.lo > second.hi) return {utf8_status::utf8_invalid, 1, 0};
  const size_t width = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t code = lead & (width == 2 ? 0x1F : width == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < width; ++i) {
    if (pos + i >= n) return {utf8_status::utf8_truncated, n - pos, 0};
    const unsigned char b = s[pos + i];
    const bool ok = i == 1 ? (b >= second.lo && b <= second.hi) : is_continuation(b);
    if (!ok) return {utf8_status::utf8_invalid, i, 0};
    code = (code << 6) | (b & 0x3F);
  }
  return {utf8_status::utf8_valid, width, code};
}

std::optional<size_t> find_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // ASCII fast path: most text is ASCII and this loop runs on every encode().
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const utf8_step step = next_utf8(text, pos);
    if (step.status != utf8_status::utf8_valid) return pos;
    pos += step.len;
  }
  return std::nullopt;
}

size_t append_utf8_lossy(std::string& out, std::string_view bytes, bool is_final) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  size_t pos = 0;
  while (pos < bytes.size()) {
    const utf8_step step = next_utf8(bytes, pos);
    if (step.status == utf8_status::utf8_valid) {
      out.append(bytes.substr(pos, step.len));
    } else if (step.status == utf8_status::utf8_invalid || is_final) {
      out.append(replacement);
    } else {
      break; // truncated tail: later bytes may complete it
    }
    pos += step.len;
  }
  return pos;
}

std::string to_utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  append_utf8_lossy(out, bytes, true);
  return out;
}

void append_utf8(std::string& out, char32_t code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

} // namespace proofmesh::engine
