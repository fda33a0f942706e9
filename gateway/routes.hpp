// Every route the gateway serves, in one table: the dispatch answers 404 not_found for a path
// no route has and 405 method_not_allowed for a method no route of that path takes, before any
// handler runs, and docs/openapi.yaml lists exactly these (tests/gateway/openapi_test.cpp checks
// both ways). Rules of the road: a route added to a handler is added here in the same change,
// or it is never reached; paths are OpenAPI templates, "{name}" matching one non-empty segment.
#pragma once

#include <array>
#include <string_view>

namespace proofmesh::gateway {

struct route {
  std::string_view method;
  std::string_view path;
};

inline constexpr std::array<route, 21> routes = {{
    {"GET", "/healthz"},
    {"GET", "/readyz"},
    {"GET", "/metrics"},
    {"GET", "/v1/jobs"},
    {"POST", "/v1/jobs"},
    {"GET", "/v1/jobs/{id}"},
    {"DELETE", "/v1/jobs/{id}"},
    {"GET", "/v1/jobs/{id}/spec"},
    {"GET", "/v1/jobs/{id}/result"},
    {"GET", "/v1/jobs/{id}/events"},
    {"GET", "/v1/jobs/{id}/pool/{problem}"},
    {"GET", "/v1/jobs/{id}/pool/{problem}/scores"},
    {"GET", "/v1/models"},
    {"POST", "/v1/chat/completions"},
    {"POST", "/v1/completions"},
    // The dashboard (ui_files.hpp): its page, its files, and KaTeX's.
    {"GET", "/ui"},
    {"GET", "/ui/"},
    {"GET", "/ui/{file}"},
    {"GET", "/ui/katex/{file}"},
    {"GET", "/ui/katex/contrib/{file}"},
    {"GET", "/ui/katex/fonts/{file}"},
}};

/// Whether `path` fits the template (each "{name}" one non-empty segment, the rest literal).
bool path_matches(std::string_view templ, std::string_view path);

/// Throws api_error not_found when no route has the path, method_not_allowed (naming the
/// methods it takes) when none of them takes the method.
void check_route(std::string_view method, std::string_view path);

} // namespace proofmesh::gateway
