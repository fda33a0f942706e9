// `proofmesh submit`, `status` and `result` against a real redis-server: the three file shapes
// become one checked job on the `jobs` stream; a bad file or flag exits 2 and queues nothing;
// status and result read what a coordinator wrote; an unreachable Redis is a clear error.
#include "actors/transport/job_queue.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace proofmesh {
namespace {

using namespace transport;

class queue_cli_test : public ::testing::Test {
protected:
  testing::command_result run(const std::string& args) {
    return testing::run_command(std::string(PM_BUILD_DIR) + "/proofmesh " + args + " --queue " +
                                    url(),
                                dir_.str("err.txt"));
  }
  std::string url() const {
    return "redis://:" + redis_.password() + "@127.0.0.1:" + std::to_string(redis_.port());
  }
  std::vector<nlohmann::json> queued() {
    std::vector<nlohmann::json> out;
    redis_reply r = client_.command({"XRANGE", "jobs", "-", "+"});
    for (const redis_reply& e : r.elements) {
      out.push_back(nlohmann::json::parse(e.elements[1].elements[3].str));
    }
    return out;
  }

  testing::temp_dir dir_;
  testing::redis_server redis_;
  redis_client client_{{.port = redis_.port(), .password = redis_.password()}};
};

TEST_F(queue_cli_test, every_file_shape_becomes_one_checked_job) {
  dir_.write("a.jsonl", std::string("{\"question\": \"Q1\", \"problem_idx\": \"A-1\"}\n\n"
                                    "{\"question\": \"Q2\"}\n"));
  dir_.write("b.json", std::string(R"([{"id": 1, "question": "Q", "answer": "null",
                                        "contest": "C", "problem_idx": "C-1"}])"));
  dir_.write("c.json", std::string(R"({"id": "my-job", "problems": [{"question": "Q"}]})"));
  dir_.write("d.jsonl", std::string(R"({"question": "only one"})" "\n"));
  auto a = run("submit " + dir_.str("a.jsonl") + " --num-proofs 2 --max-tokens 64");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = run("submit " + dir_.str("b.json"));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto c = run("submit " + dir_.str("c.json"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "my-job\n");
  auto d = run("submit " + dir_.str("d.jsonl")); // one line of JSONL is an object too
  ASSERT_EQ(d.exit_code, 0) << d.err;
  std::vector<nlohmann::json> jobs = queued();
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[3]["problems"][0]["question"], "only one");
  EXPECT_EQ(jobs[0]["problems"].size(), 2u);
  EXPECT_EQ(jobs[0]["problems"][0]["problem_idx"], "A-1");
  EXPECT_EQ(jobs[0]["params"]["num_proofs"], 2);
  EXPECT_EQ(jobs[0]["id"].get<std::string>() + "\n", a.out);
  EXPECT_EQ(jobs[1]["problems"][0]["problem_idx"], "C-1");
}

TEST_F(queue_cli_test, bad_input_exits_2_and_queues_nothing) {
  dir_.write("bad.jsonl", std::string("{\"question\": \"Q\"}\nnot json\n"));
  dir_.write("empty.json", std::string(R"({"problems": []})"));
  for (const std::string& args : std::vector<std::string>{
           "submit " + dir_.str("bad.jsonl"), "submit " + dir_.str("empty.json"),
           "submit /nonexistent.json", "status no-such-job", "result no-such-job"}) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_TRUE(queued().empty());
  auto bad_url = testing::run_command(std::string(PM_BUILD_DIR) +
                                          "/proofmesh status x --queue http://nowhere",
                                      dir_.str("err.txt"));
  EXPECT_EQ(bad_url.exit_code, 2);
}

TEST_F(queue_cli_test, status_and_result_read_the_coordinators_records) {
  client_.command({"HSET", "job:j1", "status", "completed"});
  client_.command({"SET", "job:j1:result", R"({"id": "j1", "status": "completed"})"});
  auto s = run("status j1");
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, "completed\n");
  auto r = run("result j1");
  EXPECT_EQ(nlohmann::json::parse(r.out)["id"], "j1");
  redis_.stop(SIGKILL);
  auto down = run("status j1");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("redis"), std::string::npos) << down.err;
}

} // namespace
} // namespace proofmesh
