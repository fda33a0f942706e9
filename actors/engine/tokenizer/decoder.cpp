// See decoder.hpp. ByteLevel's decoder options (add_prefix_space, trim_offsets, use_regex) have
// no effect on decoding in tokenizers, so they are only type-checked.
#include "actors/engine/tokenizer/decoder.hpp"

#include "actors/engine/tokenizer/byte_level.hpp"

namespace proofmesh::engine {

namespace {

void check_byte_level(const json& value, std::string_view where) {
  const std::string type = type_field(value, where);
  if (type != "ByteLevel") {
    throw_json_error(field_path(where, "type"), quote_value(type) + " is not supported");
  }
  for (const char* key : {"add_prefix_space", "trim_offsets", "use_regex"}) {
    bool_field(value, key, where, true);
  }
}

} // namespace

decoder decoder::from_json(const json& value, std::string_view where) {
  if (value.is_null()) throw_json_error(where, "is missing (only ByteLevel is supported)");
  if (type_field(value, where) == "Sequence") {
    const json& list = require_field(value, "decoders", where);
    const std::string list_where = field_path(where, "decoders");
    if (!list.is_array() || list.size() != 1) {
      throw_json_error(list_where, "must hold exactly one ByteLevel decoder");
    }
    check_byte_level(list[0], index_path(list_where, 0));
  } else {
    check_byte_level(value, where);
  }
  return decoder();
}

void decoder::append_bytes(std::string& out, std::string_view token) const {
  if (!append_byte_level_bytes(out, token)) out.append(token);
}

} // namespace proofmesh::engine
