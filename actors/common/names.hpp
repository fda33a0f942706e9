// The one shape of every name the mesh takes from outside and later puts into Redis keys, task
// ids or file names (job ids, problem ids, completion ids, tenants): 1 to 64 of [A-Za-z0-9_-],
// and '.' too where asked (problem_idx, as the reference's inputs spell it, "IMO2025-P1.a").
// Never '/' or ':', which separate the parts of task ids and keys.
#pragma once

#include <cctype>
#include <string_view>

namespace proofmesh {

inline bool is_name(std::string_view s, bool allow_dot = false) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' ||
                    (allow_dot && c == '.');
    if (!ok) return false;
  }
  return true;
}

} // namespace proofmesh
