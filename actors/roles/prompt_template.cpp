#include "actors/roles/prompt_template.hpp"

#include "actors/common/error.hpp"

namespace proofmesh::roles {

namespace {

bool is_identifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false; // empty or positional: auto-numbering, which the reference never uses
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) {
      return false; // attribute, index, conversion or format spec
    }
  }
  return true;
}

} // namespace

prompt_template::prompt_template(std::string_view text) {
  std::string literal;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      const size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) {
        throw input_error("prompt template: '{' at offset " + std::to_string(i) +
                          " is never closed");
      }
      std::string_view name = text.substr(i + 1, close - i - 1);
      if (!is_identifier(name)) {
        throw input_error("prompt template: field \"{" + std::string(name) + "}\" at offset " +
                          std::to_string(i) + " is not a plain {name}");
      }
      if (!literal.empty()) {
        pieces_.push_back({std::move(literal), false});
        literal.clear();
      }
      pieces_.push_back({std::string(name), true});
      i = close;
    } else if (c == '}') {
      throw input_error("prompt template: single '}' at offset " + std::to_string(i));
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) {
    pieces_.push_back({std::move(literal), false});
  }
}

std::string prompt_template::render(
    const std::map<std::string, std::string, std::less<>>& args) const {
  std::string out;
  for (const piece& p : pieces_) {
    if (!p.is_field) {
      out += p.text;
      continue;
    }
    auto it = args.find(p.text);
    if (it == args.end()) {
      throw input_error("prompt template: no value for {" + p.text + "}");
    }
    out += it->second;
  }
  return out;
}

std::vector<std::string> prompt_template::fields() const {
  std::vector<std::string> names;
  for (const piece& p : pieces_) {
    if (p.is_field) {
      names.push_back(p.text);
    }
  }
  return names;
}

} // namespace proofmesh::roles
