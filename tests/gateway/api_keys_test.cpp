// API keys: hashed on disk, a tenant and scopes each; every way of getting them wrong.
#include "gateway/api_keys.hpp"

#include "actors/common/error.hpp"
#include "gateway/api_error.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace proofmesh::gateway {
namespace {

std::string write(testing::temp_dir& dir, const std::string& text) {
  std::ofstream(dir.str("keys.json")) << text;
  return dir.str("keys.json");
}

// The status and code authenticate() answers with, or {0, ""} when it lets the caller in.
std::pair<int, std::string> outcome(const api_keys& keys, const std::string& header,
                                    const std::string& scope) {
  try {
    keys.authenticate(header, scope);
    return {0, ""};
  } catch (const api_error& e) {
    return {e.status(), transport::api_code_name(e.code())};
  }
}

TEST(api_keys, keys_name_tenants_and_scopes) {
  testing::temp_dir dir;
  const api_keys keys = api_keys::load(write(
      dir, R"({"keys": [{"tenant": "alpha", "sha256": ")" + sha256_hex("secret-a") +
               R"("}, {"tenant": "beta", "sha256": ")" + sha256_hex("secret-b") +
               R"(", "scopes": ["completions"]}]})"));
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.authenticate("Bearer secret-a", scope_jobs).tenant, "alpha");
  EXPECT_EQ(keys.authenticate("Bearer secret-b", scope_completions).tenant, "beta");
  EXPECT_EQ(outcome(keys, "Bearer secret-b", scope_jobs), std::make_pair(403, std::string("forbidden")));
  EXPECT_EQ(outcome(keys, "", scope_jobs), std::make_pair(401, std::string("missing_api_key")));
  EXPECT_EQ(outcome(keys, "Basic secret-a", scope_jobs),
            std::make_pair(401, std::string("missing_api_key")));
  EXPECT_EQ(outcome(keys, "Bearer ", scope_jobs), std::make_pair(401, std::string("missing_api_key")));
  EXPECT_EQ(outcome(keys, "Bearer secret-c", scope_jobs),
            std::make_pair(401, std::string("invalid_api_key")));
  // The hash itself is not a key.
  EXPECT_EQ(outcome(keys, "Bearer " + sha256_hex("secret-a"), scope_jobs),
            std::make_pair(401, std::string("invalid_api_key")));
}

TEST(api_keys, anonymous_lets_everyone_in_as_default) {
  const api_keys keys = api_keys::anonymous();
  EXPECT_EQ(keys.authenticate("", scope_jobs).tenant, "default");
  EXPECT_EQ(keys.authenticate("Bearer whatever", scope_completions).tenant, "default");
}

TEST(api_keys, bad_files_are_refused_by_name) {
  testing::temp_dir dir;
  const std::string h = sha256_hex("k");
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "expected"},
      {R"({"keys": []})", "no keys"},
      {R"({"keys": [{"tenant": "a b", "sha256": ")" + h + "\"}]}", "tenant"},
      {R"({"keys": [{"tenant": "a", "sha256": "ABC"}]})", "sha256"},
      {R"({"keys": [{"tenant": "a", "sha256": ")" + h + R"(", "scopes": ["admin"]}]})", "scopes"},
      {R"({"keys": [{"tenant": "a", "sha256": ")" + h + R"("}, {"tenant": "b", "sha256": ")" +
           h + "\"}]}",
       "twice"},
  };
  for (const auto& [text, needle] : cases) {
    try {
      api_keys::load(write(dir, text));
      ADD_FAILURE() << "accepted: " << text;
    } catch (const input_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(api_keys::load(dir.str("missing.json")), input_error);
}

} // namespace
} // namespace proofmesh::gateway
