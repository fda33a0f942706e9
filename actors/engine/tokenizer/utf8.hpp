// UTF-8 stepping, validation and lossy repair with Rust's exact rules.
// Rules of the road: decode() must equal Rust's String::from_utf8_lossy, which replaces each
// "maximal invalid subpart" with one U+FFFD; the streaming detokenizer relies on next_utf8()
// telling a truncated-but-so-far-valid tail apart from truly invalid bytes, so both share it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace proofmesh::engine {

enum class utf8_status { utf8_valid, utf8_invalid, utf8_truncated };

struct utf8_step {
  utf8_status status; // what the bytes at pos are
  size_t len;         // bytes consumed: the char, the invalid subpart, or the truncated tail
  char32_t code;      // the code point when status is utf8_valid
};

/// Classifies the bytes at pos (pos < text.size()).
utf8_step next_utf8(std::string_view text, size_t pos);

/// Byte offset of the first invalid byte, or nullopt for valid UTF-8.
std::optional<size_t> find_invalid_utf8(std::string_view text);

/// Like Rust's from_utf8_lossy: each invalid subpart (and a truncated tail) becomes U+FFFD.
std::string to_utf8_lossy(std::string_view bytes);

/// Appends the lossy repair of bytes to out and returns how many bytes it consumed; a truncated
/// tail that more bytes could complete is left unconsumed unless is_final.
size_t append_utf8_lossy(std::string& out, std::string_view bytes, bool is_final);

void append_utf8(std::string& out, char32_t code);

/// Byte length of the UTF-8 char starting with lead byte b (valid input only).
inline size_t utf8_char_len(unsigned char b) {
  return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

} // namespace proofmesh::engine
