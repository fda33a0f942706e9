// The table is computed, not spelled out, exactly as GPT-2's bytes_to_unicode() does.
#include "actors/engine/tokenizer/byte_level.hpp"

#include <array>
#include <cstdint>

#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

namespace {

// The highest char in the table is U+0143 (256 + 67).
constexpr char32_t max_table_char = 0x144;

struct byte_table {
  std::array<std::string, 256> chars;           // byte -> UTF-8 of its char
  std::array<int16_t, max_table_char> bytes{};  // char -> byte, or -1

  byte_table() {
    bytes.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t c = printable ? static_cast<char32_t>(b) : next++;
      append_utf8(chars[b], c);
      bytes[c] = static_cast<int16_t>(b);
    }
  }
};

const byte_table& table() {
  static const byte_table t;
  return t;
}

} // namespace

std::string_view byte_to_chars(unsigned char b) { return table().chars[b]; }

std::string bytes_to_byte_level(std::string_view text) {
  const byte_table& t = table();
  std::string out;
  out.reserve(text.size() * 2);
  for (char ch : text) out.append(t.chars[static_cast<unsigned char>(ch)]);
  return out;
}

std::optional<unsigned char> char_to_byte(char32_t c) {
  if (c >= max_table_char || table().bytes[c] < 0) return std::nullopt;
  return static_cast<unsigned char>(table().bytes[c]);
}

bool append_byte_level_bytes(std::string& out, std::string_view token) {
  const size_t old_size = out.size();
  size_t pos = 0;
  while (pos < token.size()) {
    const utf8_step step = next_utf8(token, pos);
    const std::optional<unsigned char> b =
        step.status == utf8_status::utf8_valid ? char_to_byte(step.code) : std::nullopt;
    if (!b) {
      out.resize(old_size);
      return false;
    }
    out.push_back(static_cast<char>(*b));
    pos += step.len;
  }
  return true;
}

} // namespace proofmesh::engine
