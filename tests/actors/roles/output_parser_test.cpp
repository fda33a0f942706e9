// The output parser against the reference: all 72 cases of ../shared/dsm2/parse-cases.jsonl
// (generations and verifications, quirks included: a '%' after the closing brace, nested
// braces, two boxed answers, empty boxes, bold headings, whitespace after headings, missing
// sections) must give exactly the reference's result. Plus Python's strip() and float() on the
// inputs where they differ from C's.
#include "actors/roles/output_parser.hpp"
#include "actors/roles/python_text.hpp"

#include "tests/support/read_file.hpp"
#include "tests/support/shared_path.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

namespace proofmesh::roles {
namespace {

TEST(output_parser, matches_every_reference_case) {
  PM_SKIP_WITHOUT_SHARED();
  std::istringstream lines(testing::read_file(testing::shared_path("dsm2/parse-cases.jsonl")));
  std::string line;
  int n = 0, generations = 0, verifications = 0;
  while (std::getline(lines, line)) {
    nlohmann::json c = nlohmann::json::parse(line);
    const nlohmann::json& want = c["expected"];
    const std::string output = c["output"];
    SCOPED_TRACE("case " + std::to_string(n) + " (" + c["kind"].get<std::string>() + ", " +
                 c["variant"].get<std::string>() + ")");
    ++n;
    if (c["kind"] == "generation") {
      ++generations;
      auto got = parse_generation(output);
      ASSERT_EQ(got.has_value(), want["ok"].get<bool>());
      if (got) {
        EXPECT_TRUE(got->solution == want["solution"].get<std::string>());
        EXPECT_TRUE(got->self_eval == want["self_eval"].get<std::string>());
        EXPECT_EQ(got->self_eval_score, want["self_eval_score"].get<double>());
      }
    } else {
      ++verifications;
      auto got = parse_verification(output);
      ASSERT_EQ(got.has_value(), want["ok"].get<bool>());
      if (got) {
        EXPECT_TRUE(got->rating == want["rating"].get<std::string>());
        EXPECT_EQ(got->score, want["score"].get<double>());
      }
    }
  }
  EXPECT_EQ(generations, 43);
  EXPECT_EQ(verifications, 29);
}

TEST(output_parser, boxed_answers_follow_the_brace_rules) {
  EXPECT_EQ(boxed_answers("\\boxed{1} and \\boxed{\\frac{1}{2}} and \\boxed{0.5}% and \\boxed{x"),
            (std::vector<std::string>{"1", "\\frac{1}{2}", "0.5}"}));
  EXPECT_TRUE(boxed_answers("no box here").empty());
}

TEST(python_text, strip_and_float_follow_python) {
  EXPECT_EQ(python_strip("\u3000\t x y \u00a0\n"), "x y");
  EXPECT_EQ(python_strip("\u200bx"), "\u200bx"); // a zero-width space is not whitespace
  EXPECT_EQ(python_float(" 0.5 "), 0.5);
  EXPECT_EQ(python_float("1_000.5"), 1000.5);
  EXPECT_EQ(python_float("-1e-2"), -0.01);
  EXPECT_EQ(python_float(".5"), 0.5);
  EXPECT_EQ(python_float("5."), 5.0);
  EXPECT_TRUE(std::isinf(*python_float("-Infinity")));
  EXPECT_TRUE(std::isnan(*python_float("nan")));
  EXPECT_EQ(python_float("1e400"), INFINITY);
  for (const char* bad : {"", " ", "0.5}", "\\frac{1}{2}", "1__0", "_1", "1_", "e5", ".", "1e"}) {
    EXPECT_FALSE(python_float(bad).has_value()) << bad;
  }
}

} // namespace
} // namespace proofmesh::roles
