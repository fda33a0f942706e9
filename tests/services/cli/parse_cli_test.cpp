// `proofmesh parse` as users run it: every case of ../shared/dsm2/parse-cases.jsonl through the
// real binary gives the reference's verdict (ok, solution, self-evaluation and its score, or the
// rating and its score); a dropped output exits 1 and says why; a bad kind exits 2.
#include "tests/support/run_command.hpp"
#include "tests/support/shared_path.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace proofmesh {
namespace {

const std::string cli = std::string(PM_BUILD_DIR) + "/proofmesh";

TEST(parse_cli, every_reference_case_gets_the_reference_verdict) {
  PM_SKIP_WITHOUT_SHARED();
  testing::temp_dir dir;
  std::ifstream cases(testing::shared_path("dsm2/parse-cases.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(cases, line)) {
    const nlohmann::json c = nlohmann::json::parse(line);
    const nlohmann::json& want = c["expected"];
    std::ofstream(dir.str("output.txt"), std::ios::binary) << c["output"].get<std::string>();
    const std::string kind = c["kind"];
    testing::command_result r = testing::run_command(
        cli + " parse " + kind + " --json < " + dir.str("output.txt"), dir.str("err.txt"));
    const std::string where = kind + "/" + c.value("variant", "") + " (line " +
                              std::to_string(n + 1) + ")";
    ASSERT_EQ(r.exit_code, want["ok"].get<bool>() ? 0 : 1) << where << ": " << r.err;
    const nlohmann::json got = nlohmann::json::parse(r.out);
    EXPECT_EQ(got["ok"], want["ok"]) << where;
    if (!want["ok"].get<bool>()) {
      EXPECT_FALSE(got["error"].get<std::string>().empty()) << where;
    } else if (kind == "generation") {
      EXPECT_EQ(got["solution"], want["solution"]) << where;
      EXPECT_EQ(got["self_eval"], want["self_eval"]) << where;
      EXPECT_EQ(got["self_eval_score"].get<double>(), want["self_eval_score"].get<double>())
          << where;
    } else {
      EXPECT_EQ(got["rating"], want["rating"]) << where;
      EXPECT_EQ(got["score"].get<double>(), want["score"].get<double>()) << where;
    }
    ++n;
  }
  EXPECT_EQ(n, 72);
}

TEST(parse_cli, text_output_and_bad_kinds) {
  testing::temp_dir dir;
  std::ofstream(dir.str("v.txt")) << "</think>\nFine.\n\\boxed{0.5}";
  testing::command_result r =
      testing::run_command(cli + " parse meta-verification < " + dir.str("v.txt"), dir.str("e"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "score: 0.5\n== rating\nFine.\n\\boxed{0.5}\n");
  std::ofstream(dir.str("g.txt")) << "## Solution\nonly a solution";
  r = testing::run_command(cli + " parse generation < " + dir.str("g.txt"), dir.str("e"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("Self Evaluation"), std::string::npos) << r.out;
  r = testing::run_command(cli + " parse proof < " + dir.str("g.txt"), dir.str("e"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("kind must be"), std::string::npos) << r.err;
}

} // namespace
} // namespace proofmesh
