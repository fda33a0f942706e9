// The REST gateway as clients meet it: a real redis-server, a real proofmesh-gateway process with
// API keys for two tenants and, where a job must run, a real coordinator and real role workers on
// scripted models (tests/support/scripted_models.hpp), so every count of a job is known in
// advance. Nothing is mocked; loops stop at generous deadlines and nothing asserts a time.
#include "actors/transport/redis_client.hpp"
#include "tests/gateway/mesh_fixture.hpp"

namespace proofmesh {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using namespace testing; // the fixture's names: alpha, beta, error_code, stream_order
using gateway_test = mesh_fixture;

TEST_F(gateway_test, bad_input_gets_a_json_error_and_the_server_keeps_serving) {
  start_gateway();
  const std::string good = R"({"problems": [{"question": "Prove that 1 = 1."}]})";
  const std::string alpha_job = submit(json::parse(good));
  ASSERT_FALSE(alpha_job.empty());
  std::string invalid_utf8 = R"({"problems": [{"question": "bad )";
  invalid_utf8 += "\xff\xfe";
  invalid_utf8 += R"("}]})";
  json many = {{"problems", json::array()}};
  for (int i = 0; i < 1025; ++i) many["problems"].push_back({{"question", "q"}});
  struct bad_case {
    std::string what, method, path, body;
    testing::http_headers headers;
    int status;
    std::string code;
  };
  const std::vector<bad_case> cases = {
      {"no key", "GET", "/v1/jobs", "", {}, 401, "missing_api_key"},
      {"wrong key", "GET", "/v1/jobs", "", {{"Authorization", "Bearer nope"}}, 401,
       "invalid_api_key"},
      {"key without the jobs scope", "GET", "/v1/jobs", "",
       {{"Authorization", "Bearer key-completions-only"}}, 403, "forbidden"},
      {"malformed JSON", "POST", "/v1/jobs", "{\"problems\": [", alpha, 400, "invalid_json"},
      {"invalid UTF-8", "POST", "/v1/jobs", invalid_utf8, alpha, 400, "invalid_json"},
      {"problems of the wrong type", "POST", "/v1/jobs", R"({"problems": "one"})", alpha, 400,
       "invalid_request"},
      {"a question of the wrong type", "POST", "/v1/jobs", R"({"problems": [{"question": 5}]})",
       alpha, 400, "invalid_request"},
      {"a number as the body", "POST", "/v1/jobs", "42", alpha, 400, "invalid_request"},
      {"a negative count", "POST", "/v1/jobs",
       R"({"problems": [{"question": "q"}], "params": {"num_proofs": -1}})", alpha, 400,
       "invalid_request"},
      {"an enormous count", "POST", "/v1/jobs",
       R"({"problems": [{"question": "q"}], "params": {"verifications_per_proof": 1e30}})",
       alpha, 400, "invalid_request"},
      {"an integer past int64", "POST", "/v1/jobs",
       R"({"problems": [{"question": "q"}], "params": {"max_tokens": 99999999999999999999}})",
       alpha, 400, "invalid_request"},
      {"a misspelt field", "POST", "/v1/jobs", R"({"problems": [{"question": "q"}], "parms": {}})",
       alpha, 400, "invalid_request"},
      {"an id of our own", "POST", "/v1/jobs", R"({"id": "mine", "problems": [{"question": "q"}]})",
       alpha, 400, "invalid_request"},
      {"too many problems", "POST", "/v1/jobs", many.dump(), alpha, 400, "invalid_request"},
      {"a huge body", "POST", "/v1/jobs", std::string(9 << 20, ' '), alpha, 413,
       "body_too_large"},
      {"an unknown job", "GET", "/v1/jobs/job-0123456789abcdef", "", alpha, 404, "job_not_found"},
      {"a job id that is a path", "GET", "/v1/jobs/..%2F..%2Fetc", "", alpha, 404, "not_found"},
      {"a job id with a NUL", "GET", "/v1/jobs/job%00x", "", alpha, 404, "job_not_found"},
      {"another tenant's job", "GET", "/v1/jobs/" + alpha_job, "", beta, 404, "job_not_found"},
      {"another tenant's result", "GET", "/v1/jobs/" + alpha_job + "/result", "", beta, 404,
       "job_not_found"},
      {"another tenant's events", "GET", "/v1/jobs/" + alpha_job + "/events", "", beta, 404,
       "job_not_found"},
      {"cancelling another tenant's job", "DELETE", "/v1/jobs/" + alpha_job, "", beta, 404,
       "job_not_found"},
      {"a result before the end", "GET", "/v1/jobs/" + alpha_job + "/result", "", alpha, 409,
       "job_not_finished"},
      {"a forged Last-Event-ID", "GET", "/v1/jobs/" + alpha_job + "/events", "",
       {{"Authorization", "Bearer key-alpha"}, {"Last-Event-ID", "$ FLUSHALL"}}, 400,
       "invalid_request"},
      {"a Last-Event-ID past 64 bits", "GET", "/v1/jobs/" + alpha_job + "/events", "",
       {{"Authorization", "Bearer key-alpha"}, {"Last-Event-ID", "99999999999999999999-0"}}, 400,
       "invalid_request"},
      {"JSON nested 100,000 deep", "POST", "/v1/jobs",
       std::string(100000, '[') + std::string(100000, ']'), alpha, 400, "invalid_json"},
      {"a job nested deep inside params", "POST", "/v1/jobs",
       R"({"problems": [{"question": "q"}], "params": {"x": )" + std::string(5000, '[') +
           std::string(5000, ']') + "}}",
       alpha, 400, "invalid_json"},
      {"a bad page size", "GET", "/v1/jobs?limit=-3", "", alpha, 400, "invalid_request"},
      {"a wrong method", "PUT", "/v1/jobs", "", alpha, 405, "method_not_allowed"},
      {"an unknown path", "GET", "/v2/everything", "", alpha, 404, "not_found"},
      {"huge headers", "GET", "/v1/jobs", "", {{"X-Padding", std::string(64 << 10, 'x')}}, 431,
       "headers_too_large"},
  };
  for (const bad_case& c : cases) {
    testing::http_reply r = call(c.method, c.path, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body.substr(0, 300);
    EXPECT_EQ(error_code(r), c.code) << c.what << ": " << r.body.substr(0, 300);
    EXPECT_EQ(r.headers["content-type"], "application/json") << c.what;
  }
  // Not HTTP at all.
  {
    const int fd = testing::http_connect(port_);
    testing::http_send_all(fd, "HELLO THERE\r\n\r\n");
    testing::http_reply r = testing::http_parse(testing::http_read_all(fd, 10s));
    ::close(fd);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_code(r), "invalid_request");
  }
  // Still serving, and the tenants' lists are their own.
  EXPECT_EQ(testing::http_get(port_, "/healthz").status, 200);
  EXPECT_EQ(testing::http_get(port_, "/readyz").status, 200);
  const std::string beta_job = submit(json::parse(good), beta);
  json alpha_list = json::parse(call("GET", "/v1/jobs").body);
  json beta_list = json::parse(call("GET", "/v1/jobs", "", beta).body);
  ASSERT_EQ(alpha_list["data"].size(), 1u) << alpha_list.dump();
  EXPECT_EQ(alpha_list["data"][0]["id"], alpha_job);
  ASSERT_EQ(beta_list["data"].size(), 1u) << beta_list.dump();
  EXPECT_EQ(beta_list["data"][0]["id"], beta_job);
  testing::http_reply metrics = testing::http_get(port_, "/metrics");
  EXPECT_NE(metrics.body.find("proofmesh_gateway_jobs_submitted_total 2\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("proofmesh_gateway_auth_failures_total 3\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("proofmesh_gateway_request_seconds_bucket{le=\"+Inf\"}"),
            std::string::npos);
  gateway_->signal(SIGTERM);
  EXPECT_EQ(gateway_->wait_exit(30s), std::optional<int>(0)) << log("gateway");
}

TEST_F(gateway_test, a_full_queue_answers_429_and_a_queued_job_can_be_cancelled) {
  start_gateway(/*max_queue_depth=*/2);
  const json job = {{"problems", {{{"question", "Prove that 1 = 1."}}}}};
  const std::string first = submit(job);
  submit(job);
  testing::http_reply full = call("POST", "/v1/jobs", job.dump());
  EXPECT_EQ(full.status, 429) << full.body;
  EXPECT_EQ(error_code(full), "queue_full");
  EXPECT_EQ(full.headers["retry-after"], "5");
  // The same Idempotency-Key names the same job, even while the queue is full.
  testing::http_headers keyed = alpha;
  keyed.emplace_back("Idempotency-Key", "nightly-run-7");
  EXPECT_EQ(call("POST", "/v1/jobs", job.dump(), keyed).status, 429); // it was never queued
  // Cancelled while queued: the coordinator that claims it finishes it as cancelled at once.
  testing::http_reply cancel = call("DELETE", "/v1/jobs/" + first);
  EXPECT_EQ(cancel.status, 202) << cancel.body;
  EXPECT_EQ(json::parse(cancel.body)["status"], "cancelling");
  EXPECT_TRUE(status(first)["cancel_requested"].get<bool>());
  start_mesh();
  json s = wait_status(first, "cancelled", 120s);
  ASSERT_EQ(s["status"], "cancelled") << s.dump() << log("coordinator");
  json result = json::parse(call("GET", "/v1/jobs/" + first + "/result").body);
  EXPECT_EQ(result["status"], "cancelled");
  EXPECT_EQ(result["problems"][0]["counts"]["proofs"], 0);
  EXPECT_EQ(error_code(call("DELETE", "/v1/jobs/" + first)), "job_finished");
  // With room again, a keyed submit queues once and a repeat names the same job.
  std::this_thread::sleep_for(600ms); // the gateway refreshes its view of the queue depth
  testing::http_reply a = call("POST", "/v1/jobs", job.dump(), keyed);
  testing::http_reply b = call("POST", "/v1/jobs", job.dump(), keyed);
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(json::parse(a.body)["id"], json::parse(b.body)["id"]);
}

TEST_F(gateway_test, a_job_over_http_completes_with_the_expected_counts_and_streams_progress) {
  start_gateway();
  start_mesh();
  // Two problems: one in the reference's inputs format (an array, with its extra fields).
  const json problems = json::array(
      {{{"id", 1}, {"question", "Prove that 2 is even."}, {"problem_idx", "even"},
        {"answer", "-"}, {"contest", "test"}},
       {{"id", 2}, {"question", "Prove that 3 is odd."}}});
  const json job = {{"problems", problems},
                    {"strategy", "quick"},
                    {"params", {{"num_proofs", 3}, {"verifications_per_proof", 2},
                                {"meta_verifications_per_rating", 1}, {"max_tokens", 8},
                                {"max_rounds", 1}}}};
  const std::string id = submit(job);
  ASSERT_FALSE(id.empty());
  int stream_status = 0;
  std::vector<testing::sse_event> events = testing::sse_collect(
      port_, "/v1/jobs/" + id + "/events", alpha, 300s, &stream_status);
  EXPECT_EQ(stream_status, 200);
  ASSERT_GE(events.size(), 3u) << log("coordinator");
  EXPECT_EQ(events.front().event, "queued");
  EXPECT_EQ(events.back().event, "completed") << log("coordinator");
  // Per problem: 3 proofs, 3 x 2 ratings, every rating (0.5 <= 0.75) meta-verified once.
  int results = 0;
  std::map<std::string, json> problem_done;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(stream_order(events[i - 1].id), stream_order(events[i].id));
    }
    if (events[i].event == "problem_done") {
      json e = json::parse(events[i].data);
      problem_done[e["problem"]] = e;
    }
    if (events[i].event != "result") continue;
    json e = json::parse(events[i].data);
    EXPECT_EQ(e["status"], "ok") << e.dump();
    ++results;
    EXPECT_EQ(e["done"], results);
  }
  EXPECT_EQ(results, 2 * (3 + 6 + 6));
  // Each problem's end is an event, with its status and the proof it selected.
  ASSERT_EQ(problem_done.size(), 2u);
  EXPECT_EQ(problem_done["even"]["status"], "unsolved");
  EXPECT_EQ(problem_done["even"]["best"]["verifications"], 6);
  json s = status(id);
  EXPECT_EQ(s["status"], "completed");
  EXPECT_EQ(s["tasks_done"], 30);
  testing::http_reply r = call("GET", "/v1/jobs/" + id + "/result");
  ASSERT_EQ(r.status, 200) << r.body;
  json result = json::parse(r.body);
  ASSERT_EQ(result["problems"].size(), 2u);
  for (const json& p : result["problems"]) {
    EXPECT_EQ(p["counts"], json({{"proofs", 3}, {"ratings", 6}, {"meta_ratings", 6},
                                 {"ratings_dropped", 0}, {"truncated", 0}, {"unparseable", 0},
                                 {"dead_lettered", 0}}))
        << p.dump();
    // The final selection: the three scripted proofs are one text, pooled once with all six
    // ratings (the reference's dedup by text).
    EXPECT_EQ(p["best"]["meanscore"], 0.5);
    EXPECT_EQ(p["best"]["self_eval_score"], 1.0);
    EXPECT_EQ(p["best"]["proof_id"], 1);
    EXPECT_EQ(p["best"]["verifications"], 6);
    EXPECT_EQ(p["best"]["ratings"].size(), 6u);
    EXPECT_EQ(p["best"]["proof"], testing::scripted_solution);
    EXPECT_EQ(p["meta_verification"]["agreement"], 1.0);
    EXPECT_EQ(p["pool_size"], 1);
  }
  EXPECT_EQ(result["problems"][0]["problem_id"], "even");
  // The problem's proof pool in Redis, in the reference's schema: the proof, its ratings by
  // score and their meta-verifications.
  transport::redis_client redis({.port = redis_.port(), .password = redis_.password()});
  transport::redis_reply pool = redis.command({"HGETALL", "job:" + id + ":pool:even"});
  ASSERT_EQ(pool.elements.size(), 2u); // one proof, as a field/value pair
  EXPECT_EQ(pool.elements[0].str, "1");
  json proof = json::parse(pool.elements[1].str);
  EXPECT_EQ(proof["proof"], testing::scripted_solution);
  EXPECT_EQ(proof["meanscore"], 0.5);
  EXPECT_EQ(proof["proof_id"], 1);
  EXPECT_EQ(proof["round_idx"], 1);
  ASSERT_EQ(proof["score2ratings"]["0.5"].size(), 6u);
  EXPECT_EQ(proof["score2ratings"]["0.5"][0]["quality"][0]["score"], 1.0);
  EXPECT_EQ(redis.command({"ZCARD", "job:" + id + ":pool:even:ranked"}).integer, 1);
  // A client that lost its connection resumes after the last event it saw, missing nothing.
  std::vector<testing::sse_event> rest = testing::sse_collect(
      port_, "/v1/jobs/" + id + "/events",
      {{"Authorization", "Bearer key-alpha"}, {"Last-Event-ID", events[4].id}}, 60s);
  ASSERT_EQ(rest.size(), events.size() - 5);
  EXPECT_EQ(rest.front().id, events[5].id);
  EXPECT_EQ(rest.back().event, "completed");
}

// A tenant cannot hold every stream; a resume after a finished job's last event says 204.
TEST_F(gateway_test, event_streams_are_capped_per_tenant_and_a_finished_stream_says_so) {
  start_gateway(/*max_queue_depth=*/1000, /*max_streams_per_tenant=*/2);
  const json job = {{"problems", {{{"question", "Prove that 1 = 1."}}}}};
  const std::string id = submit(job);
  // Two open streams of alpha's (no coordinator runs, so they stay open).
  std::vector<int> fds;
  for (int i = 0; i < 2; ++i) {
    fds.push_back(testing::http_connect(port_));
    testing::http_send_all(fds.back(), "GET /v1/jobs/" + id + "/events HTTP/1.1\r\nHost: x\r\n"
                                       "Authorization: Bearer key-alpha\r\n\r\n");
    EXPECT_NE(testing::http_read_all(fds.back(), 2s).find("event: queued"), std::string::npos);
  }
  testing::http_reply third = call("GET", "/v1/jobs/" + id + "/events");
  EXPECT_EQ(third.status, 503) << third.body;
  EXPECT_EQ(error_code(third), "too_many_streams");
  // Beta is another tenant: it has room.
  const std::string beta_job = submit(job, beta);
  int status = 0;
  testing::sse_collect(port_, "/v1/jobs/" + beta_job + "/events", beta, 1s, &status);
  EXPECT_EQ(status, 200);
  for (int fd : fds) ::close(fd);
  // Closed streams give their slots back.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int again = 503;
  while (again == 503 && std::chrono::steady_clock::now() < deadline) {
    testing::sse_collect(port_, "/v1/jobs/" + id + "/events", alpha, 500ms, &again);
  }
  EXPECT_EQ(again, 200);
  // Run it to the end; resuming after its last event is 204 (do not reconnect).
  start_mesh();
  std::vector<testing::sse_event> events =
      testing::sse_collect(port_, "/v1/jobs/" + id + "/events", alpha, 120s);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().event, "completed") << log("coordinator");
  EXPECT_EQ(testing::http_call(port_, "GET", "/v1/jobs/" + id + "/events", "",
                               {{"Authorization", "Bearer key-alpha"},
                                {"Last-Event-ID", events.back().id}})
                .status,
            204);
}

TEST_F(gateway_test, a_running_job_is_cancelled_and_keeps_what_it_recorded) {
  start_gateway();
  start_mesh({.generator_slots = 1});
  const json job = {{"problems", {{{"question", "Prove that 1 = 1."}}}},
                    {"strategy", "quick"},
                    {"params", {{"num_proofs", 1024}, {"verifications_per_proof", 0},
                                {"max_tokens", 8}}}};
  const std::string id = submit(job);
  // Cancel once work is under way.
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (status(id)["tasks_done"].get<int>() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  testing::http_reply cancel = call("DELETE", "/v1/jobs/" + id);
  ASSERT_EQ(cancel.status, 202) << cancel.body;
  json s = wait_status(id, "cancelled", 60s);
  ASSERT_EQ(s["status"], "cancelled") << s.dump() << log("coordinator");
  json result = json::parse(call("GET", "/v1/jobs/" + id + "/result").body);
  const int proofs = result["problems"][0]["counts"]["proofs"].get<int>();
  EXPECT_GE(proofs, 2);
  EXPECT_LT(proofs, 1024) << "the job finished before the cancel; nothing was tested";
  std::vector<testing::sse_event> events =
      testing::sse_collect(port_, "/v1/jobs/" + id + "/events", alpha, 60s);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "cancelled");
}

TEST_F(gateway_test, readiness_follows_redis_and_an_outage_is_a_503) {
  start_gateway();
  EXPECT_EQ(testing::http_get(port_, "/readyz").status, 200);
  redis_.stop(SIGKILL);
  testing::http_reply ready = testing::http_get(port_, "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(error_code(ready), "redis_unavailable");
  testing::http_reply post =
      call("POST", "/v1/jobs", R"({"problems": [{"question": "Prove that 1 = 1."}]})");
  EXPECT_EQ(post.status, 503) << post.body;
  EXPECT_EQ(error_code(post), "redis_unavailable");
  EXPECT_EQ(post.headers["retry-after"], "1");
  EXPECT_EQ(testing::http_get(port_, "/healthz").status, 200); // alive, just not ready
  redis_.restart();
  EXPECT_EQ(testing::http_get(port_, "/readyz").status, 200);
  EXPECT_EQ(call("POST", "/v1/jobs", R"({"problems": [{"question": "Prove that 1 = 1."}]})")
                .status,
            202);
}

// Redis came back empty (no AOF, a lost volume; FLUSHALL here): readiness says what a submit
// would meet, and a submit works, since the queue makes its stream and group again.
TEST_F(gateway_test, after_redis_lost_everything_readiness_and_submits_work) {
  start_gateway();
  ASSERT_EQ(call("POST", "/v1/jobs", R"({"problems": [{"question": "Prove that 1 = 1."}]})")
                .status,
            202);
  transport::redis_client redis({.port = redis_.port(), .password = redis_.password()});
  ASSERT_EQ(redis.command({"FLUSHALL"}).str, "OK");
  EXPECT_EQ(testing::http_get(port_, "/readyz").status, 200);
  ASSERT_EQ(redis.command({"FLUSHALL"}).str, "OK");
  testing::http_reply post =
      call("POST", "/v1/jobs", R"({"problems": [{"question": "Prove that 1 = 1."}]})");
  EXPECT_EQ(post.status, 202) << post.body;
}

} // namespace
} // namespace proofmesh
