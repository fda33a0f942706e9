// Typed reads from a parsed tokenizer.json. Every read checks the JSON type and range, so hostile
// files end as an input_error naming the field ("tokenizer.json: model.vocab must be an object"),
// never as an nlohmann exception, an assert or an out-of-range read.
// Rules of the road: `where` is the dotted path of the value being read; a missing key and a JSON
// null both mean "absent", as serde's Option does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace proofmesh::engine {

using json = nlohmann::json;

[[noreturn]] void throw_json_error(std::string_view where, std::string_view problem);

/// obj must be a JSON object.
void require_object(const json& obj, std::string_view where);
/// The value at key, or nullptr when it is missing or null. obj must be an object.
const json* find_field(const json& obj, std::string_view key);
/// The value at key; throws when it is missing or null.
const json& require_field(const json& obj, std::string_view key, std::string_view where);

bool bool_field(const json& obj, std::string_view key, std::string_view where, bool fallback);
std::string string_field(const json& obj, std::string_view key, std::string_view where);
std::optional<std::string> optional_string_field(const json& obj, std::string_view key,
                                                 std::string_view where);
/// A JSON integer in [0, max]; floats, negatives and larger values are errors.
int64_t integer_value(const json& value, std::string_view where, int64_t max);
/// The "type" string of a component object.
std::string type_field(const json& obj, std::string_view where);

/// where + "." + key, for nested error messages.
std::string field_path(std::string_view where, std::string_view key);
/// s in double quotes, cut to at most 64 bytes on a char boundary: values from the file go into
/// messages that callers may embed in JSON, so they stay short and valid UTF-8.
std::string quote_value(std::string_view s);

/// where + "[index]".
std::string index_path(std::string_view where, size_t index);

} // namespace proofmesh::engine
