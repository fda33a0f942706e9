// GPT-2's bytes_to_unicode table: every byte maps to one printable char, so byte-level BPE
// vocabularies are plain strings. Printable Latin-1 bytes map to themselves; the other 68 map to
// U+0100 upwards in byte order (space becomes "Ġ", newline "Ċ").
// Rules of the road: the table is built once and is read-only, so any thread may use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace proofmesh::engine {

/// UTF-8 of the char that stands for byte b.
std::string_view byte_to_chars(unsigned char b);

/// Maps every byte of text to its char (the ByteLevel pre-tokenizer's transform).
std::string bytes_to_byte_level(std::string_view text);

/// Appends the bytes that the chars of token stand for; returns false (appending nothing) when a
/// char is not in the table, which is when the ByteLevel decoder keeps the token's own bytes.
bool append_byte_level_bytes(std::string& out, std::string_view token);

/// The byte a char stands for, if any.
std::optional<unsigned char> char_to_byte(char32_t c);

} // namespace proofmesh::engine
