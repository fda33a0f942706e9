// Job specs: a full spec parses with every field; defaults fill what is absent; every malformed,
// mistyped or out-of-range field is refused with its name.
#include "actors/pipeline/job_spec.hpp"

#include "actors/common/error.hpp"

#include <gtest/gtest.h>

namespace proofmesh::pipeline {
namespace {

TEST(job_spec, parses_fields_and_defaults) {
  job_spec s = parse_job_spec(
      R"({"id": "job-1", "problems": [{"question": "Q1", "problem_idx": "IMO2025-1"},
          {"question": "Q2"}], "strategy": "quick",
          "params": {"num_proofs": 2, "verifications_per_proof": 3, "max_tokens": 64,
                     "temperature": 0.7}})");
  EXPECT_EQ(s.id, "job-1");
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_EQ(s.problems[0].problem_id, "IMO2025-1");
  EXPECT_EQ(s.problems[1].problem_id, "p1");
  EXPECT_EQ(s.params.num_proofs, 2);
  EXPECT_EQ(s.params.verifications_per_proof, 3);
  EXPECT_EQ(s.params.meta_verifications_per_rating, 1); // the preset's
  EXPECT_EQ(s.params.max_rounds, 2);
  EXPECT_EQ(s.params.strategy, "quick");
  EXPECT_EQ(s.params.sampling.max_tokens, 64);
  EXPECT_FLOAT_EQ(s.params.sampling.temperature, 0.7f);
}

TEST(job_spec, refuses_bad_fields_by_name) {
  auto why = [](const std::string& text) {
    try {
      parse_job_spec(text);
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(why("not json").find("not a JSON object"), std::string::npos);
  EXPECT_NE(why(R"({"problems": []})").find("problems"), std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": 3}]})").find("problems[0].question"),
            std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": ""}]})").find("problems[0].question"),
            std::string::npos);
  EXPECT_NE(why(R"({"id": "a b", "problems": [{"question": "q"}]})").find("id"),
            std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": "q", "problem_idx": "x"},
                                 {"question": "q", "problem_idx": "x"}]})").find("repeated"),
            std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": "q"}], "strategy": "magic"})").find("strategy"),
            std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": "q"}], "params": {"num_proofs": -1}})")
                .find("params.num_proofs"), std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": "q"}], "params": {"num_proofs": 1e12}})")
                .find("params.num_proofs"), std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": "q"}], "params": {"top_p": 2}})").find("top_p"),
            std::string::npos);
  EXPECT_NE(why(R"({"problems": [{"question": "q"}], "strategy": 3})").find("strategy"),
            std::string::npos);
  EXPECT_EQ(parse_job_spec(R"({"problems": [{"question": "q"}]})").params.strategy, "reference");
  std::string many = R"({"problems": [)";
  for (int i = 0; i < 1025; ++i) many += std::string(i ? "," : "") + R"({"question": "q"})";
  many += "]}";
  EXPECT_NE(why(many).find("problems must be"), std::string::npos);
}

} // namespace
} // namespace proofmesh::pipeline
