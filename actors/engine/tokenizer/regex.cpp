// PCRE2 plumbing. Options: UTF and UCP make \s, \p{L} and friends Unicode-aware as in
// Oniguruma; MULTILINE gives ^ and $ Ruby's per-line meaning; NEVER_BACKSLASH_C keeps matches on
// char boundaries.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "actors/engine/tokenizer/regex.hpp"

#include <pcre2.h>

#include <new>
#include <string>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

namespace {

constexpr size_t max_pattern_bytes = 64 * 1024;
constexpr uint32_t match_limit = 10'000'000;
constexpr uint32_t heap_limit_kib = 64 * 1024;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0) return "unknown PCRE2 error";
  return reinterpret_cast<const char*>(buffer);
}

} // namespace

struct regex::compiled {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;

  compiled() = default;
  compiled(const compiled&) = delete;
  compiled& operator=(const compiled&) = delete;
  ~compiled() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

regex regex::compile(std::string_view pattern, bool literal) {
  if (pattern.size() > max_pattern_bytes) throw input_error("regex pattern is too long");
  if (find_invalid_utf8(pattern)) throw input_error("regex pattern is not valid UTF-8");
  const uint32_t options = literal ? (PCRE2_UTF | PCRE2_LITERAL)
                                   : (PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE |
                                      PCRE2_NEVER_BACKSLASH_C);
  auto impl = std::make_shared<compiled>();
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             options, &error_code, &error_offset, nullptr);
  if (impl->code == nullptr) {
    throw input_error("regex pattern does not compile at offset " + std::to_string(error_offset) +
                      ": " + pcre2_message(error_code));
  }
  impl->context = pcre2_match_context_create(nullptr);
  if (impl->context == nullptr) throw std::bad_alloc();
  pcre2_set_match_limit(impl->context, match_limit);
  pcre2_set_heap_limit(impl->context, heap_limit_kib);
  return regex(std::move(impl));
}

std::vector<std::pair<size_t, size_t>> regex::find_all(std::string_view subject) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
  if (!data) throw std::bad_alloc();
  std::vector<std::pair<size_t, size_t>> matches;
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t last_end = 0;
  bool has_last_match = false;
  size_t last_match_end = 0;
  while (last_end <= subject.size()) {
    const int rc = pcre2_match(impl_->code, text, subject.size(), last_end, PCRE2_NO_UTF_CHECK,
                               data.get(), impl_->context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw input_error("regex match failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    const size_t start = ovector[0];
    const size_t end = ovector[1];
    // \K can report a match that ends before it starts; treat it as no match rather than
    // slicing backwards.
    if (end < start || end > subject.size()) break;
    if (start == end && has_last_match && last_match_end == end) {
      last_end += last_end < subject.size()
                      ? utf8_char_len(static_cast<unsigned char>(subject[last_end]))
                      : 1;
      continue;
    }
    last_end = end;
    has_last_match = true;
    last_match_end = end;
    matches.emplace_back(start, end);
  }
  return matches;
}

std::vector<regex_piece> regex::find_pieces(std::string_view subject) const {
  if (subject.empty()) return {{0, 0, false}};
  std::vector<regex_piece> pieces;
  size_t prev = 0;
  for (const auto& [start, end] : find_all(subject)) {
    // A lookbehind with \K could start a match before the previous end; skip it like a gap.
    if (start < prev) continue;
    if (prev != start) pieces.push_back({prev, start, false});
    pieces.push_back({start, end, true});
    prev = end;
  }
  if (prev != subject.size()) pieces.push_back({prev, subject.size(), false});
  return pieces;
}

} // namespace proofmesh::engine
