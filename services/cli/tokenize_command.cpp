// `proofmesh tokenize`: text on stdin to ids, or ids to text with --decode.
#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "services/cli/command.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace proofmesh::cli {

namespace {

constexpr size_t max_stdin = 64u << 20;

struct tokenize_flags {
  std::string tokenizer;
  bool json = false;
  bool decode = false;
  bool no_special = false;
};

// Ids for --decode: a JSON array, {"ids": [...]}, or numbers separated by commas or spaces.
std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    if (j.is_object() && j.contains("ids")) {
      j = j["ids"];
    }
    if (!j.is_array()) {
      throw input_error("stdin: expected a JSON array of ids or {\"ids\": [...]}");
    }
    for (const auto& v : j) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX) {
        throw input_error("stdin: ids must be non-negative integers");
      }
      ids.push_back(v.get<int32_t>());
    }
    return ids;
  }
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) {
      return;
    }
    if (cur.size() > 10) {
      throw input_error("stdin: id \"" + cur + "\" is too large");
    }
    int64_t v = std::stoll(cur);
    if (v > INT32_MAX) {
      throw input_error("stdin: id " + cur + " is too large");
    }
    ids.push_back(static_cast<int32_t>(v));
    cur.clear();
  };
  for (char ch : text) {
    if (ch >= '0' && ch <= '9') {
      cur += ch;
    } else if (ch == ',' || ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
      flush();
    } else {
      throw input_error(std::string("stdin: unexpected character '") + ch + "' in ids");
    }
  }
  flush();
  return ids;
}

} // namespace

command_fn add_tokenize_command(CLI::App& app) {
  auto flags = std::make_shared<tokenize_flags>();
  app.add_option("--tokenizer", flags->tokenizer, "tokenizer.json")->required();
  app.add_flag("--json", flags->json, "print {\"ids\": [...]} (or {\"text\": ...} with --decode)");
  app.add_flag("--decode", flags->decode, "read ids on stdin and print their text");
  app.add_flag("--no-special", flags->no_special,
               "do not add the post-processor's special tokens (e.g. BOS)");
  return [flags] {
    auto tok = engine::tokenizer::from_file(flags->tokenizer);
    std::string input = read_stdin(max_stdin);
    if (flags->decode) {
      std::vector<int32_t> ids = parse_ids(input);
      for (int32_t id : ids) {
        if (id >= tok.vocab_size()) {
          throw input_error("id " + std::to_string(id) + " is outside the vocabulary");
        }
      }
      std::string text = tok.decode(ids);
      if (flags->json) {
        std::cout << nlohmann::json{{"text", text}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace)
                  << "\n";
      } else {
        std::cout << text;
      }
      return 0;
    }
    std::vector<int32_t> ids = tok.encode(input, !flags->no_special);
    if (flags->json) {
      std::cout << nlohmann::json{{"ids", ids}}.dump() << "\n";
    } else {
      for (size_t i = 0; i < ids.size(); ++i) {
        std::cout << (i ? " " : "") << ids[i];
      }
      std::cout << "\n";
    }
    return 0;
  };
}

} // namespace proofmesh::cli
