// Completions become typed results by the task's role: parsed outputs are ok, completions that
// ran out of tokens are truncated, those that do not parse (or carry a non-finite score) are
// unparseable, and token counts always travel.
#include "actors/roles/role_result.hpp"

#include <gtest/gtest.h>

namespace proofmesh::roles {
namespace {

using namespace transport;

engine::completion done(std::string text,
                        engine::finish_reason why = engine::finish_reason::finish_reason_stop) {
  return {.ids = {1, 2, 3}, .text = std::move(text), .finish = why};
}

TEST(role_result, each_role_parses_its_output) {
  task_msg gen{.task_id = "g", .job_id = "j", .input = generate_input{"P", ""}};
  auto r = make_result(gen, done("</think>\n## Solution\nproof\n## Self Evaluation\nok \\boxed{1}"),
                       10, 5);
  ASSERT_EQ(r.status, task_status::task_status_ok);
  EXPECT_EQ(std::get<generate_output>(r.output).solution, "proof");
  EXPECT_EQ(std::get<generate_output>(r.output).self_eval_score, 1.0f);
  EXPECT_EQ(r.prompt_tokens, 10u);
  EXPECT_EQ(r.completion_tokens, 3u);

  task_msg ver{.task_id = "v", .job_id = "j", .input = verify_input{"P", "S"}};
  r = make_result(ver, done("<think>x</think>\nminor gap \\boxed{0.5}"), 10, 5);
  ASSERT_EQ(r.status, task_status::task_status_ok);
  EXPECT_EQ(std::get<verify_output>(r.output).score, 0.5f);

  task_msg meta{.task_id = "m", .job_id = "j", .input = meta_verify_input{"P", "S", "R"}};
  r = make_result(meta, done("</think>fair \\boxed{1}"), 10, 5);
  ASSERT_EQ(r.status, task_status::task_status_ok);
  EXPECT_EQ(std::get<meta_verify_output>(r.output).analysis, "fair \\boxed{1}");
}

TEST(role_result, what_the_reference_drops_is_unparseable) {
  task_msg ver{.task_id = "v", .job_id = "j", .input = verify_input{"P", "S"}};
  const auto cut = make_result(ver, done("</think>\\boxed{1}", engine::finish_reason::finish_reason_length), 1, 1);
  EXPECT_EQ(cut.status, task_status::task_status_truncated); // counted apart from unparseable
  EXPECT_TRUE(std::holds_alternative<std::monostate>(cut.output));
  for (const auto& c : {done("no think \\boxed{1}"), done("</think>\\boxed{nan}"),
                        done("</think>no score")}) {
    auto r = make_result(ver, c, 1, 1);
    EXPECT_EQ(r.status, task_status::task_status_unparseable) << c.text;
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.output));
    EXPECT_EQ(r.completion_tokens, 3u);
  }
}

} // namespace
} // namespace proofmesh::roles
