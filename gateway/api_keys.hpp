// Who is calling: API keys presented as `Authorization: Bearer <key>`, mapped to a tenant and
// the scopes the key may use. Rules of the road:
// - Keys are never stored: the keys file holds the SHA-256 of each (hex), so a leaked file does
//   not leak a key. `printf %s "$KEY" | sha256sum` makes an entry. The file:
//     {"keys": [{"tenant": "team-a", "sha256": "<64 hex>", "scopes": ["jobs", "completions"]}]}
//   scopes is optional (default: both). Tenants are [A-Za-z0-9_-]{1,64}.
// - A missing or malformed header is 401 missing_api_key; an unknown key 401 invalid_api_key; a
//   known key outside its scopes 403 forbidden.
// - anonymous() (the gateway's --allow-anonymous, for a laptop) lets every request in as tenant
//   "default" with every scope; the gateway never falls into it silently.
#pragma once

#include "actors/common/sha256.hpp"

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace proofmesh::gateway {

inline constexpr const char* scope_jobs = "jobs";
inline constexpr const char* scope_completions = "completions";

struct caller {
  std::string tenant;
  std::set<std::string> scopes;
};

class api_keys {
public:
  /// Reads a keys file; a bad file is an input_error naming what is wrong.
  static api_keys load(const std::string& path);
  static api_keys anonymous();

  /// The caller an Authorization header names, allowed `scope`; throws api_error (401, 403).
  const caller& authenticate(std::string_view authorization, const std::string& scope) const;

  size_t size() const { return by_hash_.size(); }

private:
  std::unordered_map<std::string, caller> by_hash_;
  caller anonymous_;
  bool allow_anonymous_ = false;
};

} // namespace proofmesh::gateway
