#include "gateway/routes.hpp"

#include "gateway/api_error.hpp"

#include <string>

namespace proofmesh::gateway {

using enum transport::api_code;

bool path_matches(std::string_view templ, std::string_view path) {
  size_t t = 0, p = 0;
  while (t < templ.size() && p < path.size()) {
    if (templ[t] == '{') {
      const size_t close = templ.find('}', t);
      const size_t end = path.find('/', p);
      const size_t segment = (end == std::string_view::npos ? path.size() : end) - p;
      if (close == std::string_view::npos || segment == 0) return false;
      t = close + 1;
      p += segment;
      continue;
    }
    if (templ[t] != path[p]) return false;
    ++t, ++p;
  }
  return t == templ.size() && p == path.size();
}

void check_route(std::string_view method, std::string_view path) {
  std::string takes;
  for (const route& r : routes) {
    if (!path_matches(r.path, path)) continue;
    if (r.method == method) return;
    takes += takes.empty() ? "" : " or ";
    takes += r.method;
  }
  if (takes.empty()) {
    throw api_error(api_code_not_found,
                    "no such endpoint: " + std::string(method) + " " + std::string(path));
  }
  throw api_error(api_code_method_not_allowed, std::string(path) + " takes " + takes);
}

} // namespace proofmesh::gateway
