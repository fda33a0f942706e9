#include "gateway/api_keys.hpp"

#include "actors/common/error.hpp"
#include "actors/common/names.hpp"
#include "actors/common/text_file.hpp"
#include "gateway/api_error.hpp"

#include <nlohmann/json.hpp>

namespace proofmesh::gateway {

using enum transport::api_code;

namespace {


bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

api_keys api_keys::load(const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(read_text_file(path, size_t{4} << 20), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("keys") || !j["keys"].is_array()) {
    throw input_error(path + ": expected {\"keys\": [{\"tenant\", \"sha256\", \"scopes\"?}]}");
  }
  api_keys out;
  for (size_t i = 0; i < j["keys"].size(); ++i) {
    const nlohmann::json& k = j["keys"][i];
    const std::string where = path + ": keys[" + std::to_string(i) + "]";
    if (!k.is_object() || !k.contains("tenant") || !k["tenant"].is_string() ||
        !is_name(k["tenant"].get<std::string>())) {
      throw input_error(where + ".tenant must be 1 to 64 of [A-Za-z0-9_-]");
    }
    if (!k.contains("sha256") || !k["sha256"].is_string() || !is_hex64(k["sha256"])) {
      throw input_error(where + ".sha256 must be 64 lower-case hex digits");
    }
    caller c{.tenant = k["tenant"], .scopes = {scope_jobs, scope_completions}};
    if (k.contains("scopes")) {
      if (!k["scopes"].is_array()) throw input_error(where + ".scopes must be an array");
      c.scopes.clear();
      for (const auto& s : k["scopes"]) {
        if (s != scope_jobs && s != scope_completions) {
          throw input_error(where + ".scopes: only \"jobs\" and \"completions\" exist");
        }
        c.scopes.insert(s.get<std::string>());
      }
    }
    if (!out.by_hash_.emplace(k["sha256"].get<std::string>(), std::move(c)).second) {
      throw input_error(where + ": the same key is listed twice");
    }
  }
  if (out.by_hash_.empty()) {
    throw input_error(path + ": no keys (use --allow-anonymous for an open gateway)");
  }
  return out;
}

api_keys api_keys::anonymous() {
  api_keys out;
  out.allow_anonymous_ = true;
  out.anonymous_ = {.tenant = "default", .scopes = {scope_jobs, scope_completions}};
  return out;
}

const caller& api_keys::authenticate(std::string_view authorization,
                                     const std::string& scope) const {
  if (allow_anonymous_) {
    return anonymous_;
  }
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.size() <= bearer.size() || authorization.substr(0, bearer.size()) != bearer) {
    throw api_error(api_code_missing_api_key, "send Authorization: Bearer <api key>");
  }
  // Keys are compared by their hashes: the lookup's timing depends on the hash, which tells an
  // attacker nothing about any stored key.
  auto it = by_hash_.find(sha256_hex(authorization.substr(bearer.size())));
  if (it == by_hash_.end()) {
    throw api_error(api_code_invalid_api_key, "the API key is not known");
  }
  if (!it->second.scopes.contains(scope)) {
    throw api_error(api_code_forbidden, "this API key may not use " + scope + " endpoints");
  }
  return it->second;
}

} // namespace proofmesh::gateway
