// docs/openapi.yaml against the gateway: the spec's paths and methods are exactly the route
// table's (gateway/routes.hpp), and a real gateway serves every one of them (no not_found),
// while a path or method outside the table is refused before any handler.
#include "gateway/routes.hpp"
#include "tests/gateway/mesh_fixture.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/source_path.hpp"

#include <regex>
#include <set>
#include <sstream>

namespace proofmesh {
namespace {

using namespace testing;
using openapi_test = mesh_fixture;
using route_set = std::set<std::pair<std::string, std::string>>;

// (METHOD, path) of every operation under `paths:` (two-space paths, four-space methods).
route_set spec_routes() {
  std::istringstream in(read_file(source_path("docs/openapi.yaml")));
  const std::regex path_line(R"(^  (/\S*):\s*$)"), method_line(R"(^    (get|post|delete|put|patch):)");
  route_set out;
  bool in_paths = false;
  std::string path;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("paths:", 0) == 0) in_paths = true;
    else if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = false;
    std::smatch m;
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (std::regex_search(line, m, method_line) && !path.empty()) {
      std::string method = m[1];
      for (char& c : method) c = static_cast<char>(std::toupper(c));
      out.emplace(method, path);
    }
  }
  return out;
}

TEST(openapi, the_spec_lists_exactly_the_gateways_routes) {
  route_set table;
  for (const gateway::route& r : gateway::routes) table.emplace(r.method, r.path);
  const route_set spec = spec_routes();
  EXPECT_EQ(table.size(), gateway::routes.size()) << "a route is listed twice";
  for (const auto& r : table) EXPECT_TRUE(spec.contains(r)) << r.first << " " << r.second;
  for (const auto& r : spec) EXPECT_TRUE(table.contains(r)) << r.first << " " << r.second;
}

TEST(openapi, templates_match_one_segment_per_name) {
  EXPECT_TRUE(gateway::path_matches("/v1/jobs/{id}", "/v1/jobs/abc"));
  EXPECT_TRUE(gateway::path_matches("/v1/jobs/{id}/pool/{problem}", "/v1/jobs/a/pool/p0"));
  EXPECT_FALSE(gateway::path_matches("/v1/jobs/{id}", "/v1/jobs/"));
  EXPECT_FALSE(gateway::path_matches("/v1/jobs/{id}", "/v1/jobs/a/b"));
  EXPECT_FALSE(gateway::path_matches("/v1/jobs", "/v1/jobs/a"));
  EXPECT_FALSE(gateway::path_matches("/v1/jobs/{id}/spec", "/v1/jobs/a/specs"));
}

TEST_F(openapi_test, a_real_gateway_serves_every_route_of_the_spec_and_nothing_else) {
  start_gateway();
  const std::string job = submit(json::parse(R"({"problems": [{"question": "1 = 1?"}]})"));
  ASSERT_FALSE(job.empty());
  for (const auto& [method, templ] : spec_routes()) {
    std::string path = std::regex_replace(templ, std::regex(R"(\{id\})"), job);
    path = std::regex_replace(path, std::regex(R"(\{problem\})"), "p0");
    if (method == "DELETE") continue; // last, below: it ends the job the others read
    // A body that is not JSON: a route that takes one answers invalid_json, which is enough
    // to say it is served; streams (events) answer their head within the limit.
    const http_reply r = http_call(port_, method, path, method == "POST" ? "{" : "", alpha,
                                   std::chrono::seconds(2));
    EXPECT_NE(r.status, 0) << method << " " << path;
    EXPECT_NE(error_code(r), "not_found") << method << " " << path << ": " << r.body;
    EXPECT_NE(error_code(r), "method_not_allowed") << method << " " << path;
  }
  const http_reply cancel = call("DELETE", "/v1/jobs/" + job);
  EXPECT_EQ(cancel.status, 202) << cancel.body;
  const http_reply nowhere = call("GET", "/v1/nowhere");
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_EQ(error_code(nowhere), "not_found");
  const http_reply wrong = call("PUT", "/v1/jobs");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(error_code(wrong), "method_not_allowed");
  EXPECT_NE(wrong.body.find("takes GET or POST"), std::string::npos) << wrong.body;
}

} // namespace
} // namespace proofmesh
