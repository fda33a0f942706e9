// See json_field.hpp. Messages quote the offending field, never the (possibly huge) value.
#include "actors/engine/tokenizer/json_field.hpp"

#include <algorithm>

#include "actors/common/error.hpp"

namespace proofmesh::engine {

void throw_json_error(std::string_view where, std::string_view problem) {
  throw input_error("tokenizer.json: " + std::string(where) + " " + std::string(problem));
}

void require_object(const json& obj, std::string_view where) {
  if (!obj.is_object()) throw_json_error(where, "must be an object");
}

const json* find_field(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json& require_field(const json& obj, std::string_view key, std::string_view where) {
  const json* value = find_field(obj, key);
  if (value == nullptr) throw_json_error(field_path(where, key), "is missing");
  return *value;
}

bool bool_field(const json& obj, std::string_view key, std::string_view where, bool fallback) {
  const json* value = find_field(obj, key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) throw_json_error(field_path(where, key), "must be a boolean");
  return value->get<bool>();
}

std::string string_field(const json& obj, std::string_view key, std::string_view where) {
  const json& value = require_field(obj, key, where);
  if (!value.is_string()) throw_json_error(field_path(where, key), "must be a string");
  return value.get<std::string>();
}

std::optional<std::string> optional_string_field(const json& obj, std::string_view key,
                                                 std::string_view where) {
  if (find_field(obj, key) == nullptr) return std::nullopt;
  return string_field(obj, key, where);
}

int64_t integer_value(const json& value, std::string_view where, int64_t max) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(max)) throw_json_error(where, "is out of range");
    return static_cast<int64_t>(v);
  }
  if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if (v < 0 || v > max) throw_json_error(where, "is out of range");
    return v;
  }
  throw_json_error(where, "must be a non-negative integer");
}

std::string type_field(const json& obj, std::string_view where) {
  require_object(obj, where);
  return string_field(obj, "type", where);
}

std::string field_path(std::string_view where, std::string_view key) {
  return std::string(where) + "." + std::string(key);
}

std::string quote_value(std::string_view s) {
  constexpr size_t max_bytes = 64;
  const bool clipped = s.size() > max_bytes;
  size_t cut = std::min(s.size(), max_bytes);
  while (clipped && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  // Built with append: GCC 12 misreports -Wrestrict on "\"" + std::string.
  std::string out;
  out.reserve(cut + 5);
  out.push_back('"');
  out.append(s.substr(0, cut));
  if (clipped) out.append("...");
  out.push_back('"');
  return out;
}

std::string index_path(std::string_view where, size_t index) {
  return std::string(where) + "[" + std::to_string(index) + "]";
}

} // namespace proofmesh::engine
