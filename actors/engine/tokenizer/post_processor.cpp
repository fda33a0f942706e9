// Port of TemplateProcessing::apply_template for the single-sequence case.
#include "actors/engine/tokenizer/post_processor.hpp"

#include "actors/engine/tokenizer/bpe_model.hpp"

namespace proofmesh::engine {

namespace {

constexpr int max_nesting = 16;
constexpr size_t max_template_ids = 4096;
constexpr size_t max_templates = 16;

} // namespace

post_processor post_processor::from_json(const json& value, std::string_view where) {
  post_processor p;
  if (!value.is_null()) p.parse(value, where, 0);
  return p;
}

void post_processor::parse(const json& value, std::string_view where, int depth) {
  if (depth > max_nesting) throw_json_error(where, "nests too deeply");
  const std::string type = type_field(value, where);
  if (type == "ByteLevel") {
    for (const char* key : {"add_prefix_space", "trim_offsets", "use_regex"}) {
      bool_field(value, key, where, true);
    }
  } else if (type == "TemplateProcessing") {
    parse_template(value, where);
  } else if (type == "Sequence") {
    const json& list = require_field(value, "processors", where);
    const std::string list_where = field_path(where, "processors");
    if (!list.is_array()) throw_json_error(list_where, "must be an array");
    for (size_t i = 0; i < list.size(); ++i) parse(list[i], index_path(list_where, i), depth + 1);
  } else {
    throw_json_error(field_path(where, "type"), quote_value(type) + " is not supported");
  }
}

void post_processor::parse_template(const json& value, std::string_view where) {
  const json& special = require_field(value, "special_tokens", where);
  const std::string special_where = field_path(where, "special_tokens");
  require_object(special, special_where);
  const json& single = require_field(value, "single", where);
  const std::string single_where = field_path(where, "single");
  if (!single.is_array()) throw_json_error(single_where, "must be an array");
  template_pieces pieces;
  size_t total_ids = 0;
  for (size_t i = 0; i < single.size(); ++i) {
    const std::string piece_where = index_path(single_where, i);
    const json& entry = single[i];
    require_object(entry, piece_where);
    if (entry.size() != 1) throw_json_error(piece_where, "must hold one of Sequence, SpecialToken");
    if (const json* seq = find_field(entry, "Sequence")) {
      const std::string seq_where = field_path(piece_where, "Sequence");
      require_object(*seq, seq_where);
      if (string_field(*seq, "id", seq_where) != "A") {
        throw_json_error(field_path(seq_where, "id"), "must be \"A\" in a single template");
      }
      // Two copies of the sequence would let a Sequence of templates grow ids exponentially.
      for (const piece& earlier : pieces) {
        if (earlier.is_sequence) throw_json_error(seq_where, "repeats sequence A");
      }
      pieces.push_back({true, {}});
    } else if (const json* tok = find_field(entry, "SpecialToken")) {
      const std::string tok_where = field_path(piece_where, "SpecialToken");
      require_object(*tok, tok_where);
      const std::string name = string_field(*tok, "id", tok_where);
      const auto it = special.find(name);
      if (it == special.end()) throw_json_error(tok_where, "names a missing special token");
      const std::string entry_where = field_path(special_where, quote_value(name));
      require_object(*it, entry_where);
      const json& ids = require_field(*it, "ids", entry_where);
      if (!ids.is_array()) throw_json_error(field_path(entry_where, "ids"), "must be an array");
      piece p{false, {}};
      for (size_t k = 0; k < ids.size(); ++k) {
        p.ids.push_back(static_cast<int32_t>(
            integer_value(ids[k], index_path(field_path(entry_where, "ids"), k),
                          max_vocab_ids - 1)));
      }
      total_ids += p.ids.size();
      if (total_ids > max_template_ids) throw_json_error(single_where, "has too many ids");
      pieces.push_back(std::move(p));
    } else {
      throw_json_error(piece_where, "must hold one of Sequence, SpecialToken");
    }
  }
  if (templates_.size() >= max_templates) throw_json_error(where, "is one template too many");
  templates_.push_back(std::move(pieces));
}

void post_processor::apply(std::vector<int32_t>& ids) const {
  for (const template_pieces& pieces : templates_) {
    std::vector<int32_t> out;
    out.reserve(ids.size() + 8);
    for (const piece& p : pieces) {
      if (p.is_sequence) out.insert(out.end(), ids.begin(), ids.end());
      else out.insert(out.end(), p.ids.begin(), p.ids.end());
    }
    ids = std::move(out);
  }
}

} // namespace proofmesh::engine
