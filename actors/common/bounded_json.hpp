// Parsing JSON that strangers send. nlohmann's parser is iterative, but copying, comparing and
// dumping a value recurse, so a body of 100,000 nested brackets parses fine and then overflows
// the stack of whoever copies it. Rules of the road: every JSON text from outside the process
// (HTTP bodies, queue entries, files) goes through parse_bounded_json, which refuses nesting
// deeper than max_depth as it parses; the result is discarded (is_discarded()) on any error.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace proofmesh {

inline nlohmann::json parse_bounded_json(std::string_view text, int max_depth = 64) {
  bool too_deep = false;
  nlohmann::json::parser_callback_t guard = [&](int depth, nlohmann::json::parse_event_t,
                                                nlohmann::json&) {
    if (depth > max_depth) too_deep = true;
    return !too_deep; // past the limit, nothing more is kept
  };
  nlohmann::json out = nlohmann::json::parse(text, guard, /*allow_exceptions=*/false);
  if (too_deep) return nlohmann::json(nlohmann::json::value_t::discarded);
  return out;
}

} // namespace proofmesh
