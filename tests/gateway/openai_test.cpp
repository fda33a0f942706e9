// The OpenAI-compatible endpoints as an OpenAI client meets them, through the real gateway,
// Redis, coordinator and workers: chat and text completions, buffered and streamed, n choices,
// stop strings, reasoning split at </think>, usage; a streamed answer equals the buffered one
// for a seed; a client that leaves mid-stream cancels its work; bad requests get errors with
// stable codes. Nothing asserts a time.
#include "actors/engine/model/model_init.hpp"
#include "actors/transport/redis_client.hpp"
#include "tests/gateway/mesh_fixture.hpp"

namespace proofmesh {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace testing; // the fixture's names

const http_headers gamma_key = {{"Authorization", "Bearer key-completions-only"}};

// The `data:` payloads of an OpenAI stream, in order ("[DONE]" included as it is).
std::vector<std::string> data_lines(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const size_t end = body.find("\n\n", pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

class openai_test : public mesh_fixture {
protected:
  // A generator that thinks, then answers.
  std::string thinking_model() {
    const std::string dir = dir_.str("thinker");
    engine::init_random_model(
        {.out_dir = dir, .script = "<think>Let me think.</think>The answer is 4."});
    return dir;
  }
  http_reply post(const std::string& path, const json& body,
                  const http_headers& headers = gamma_key) {
    return http_call(port_, "POST", path, body.dump(), headers, 120s);
  }
  // Until the coordinator has met the generator pool, a completion is 503 no_workers.
  void wait_for_generators() {
    const json ping = {{"model", "proofmesh-generator"}, {"prompt", "ping"}, {"max_tokens", 1}};
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (post("/v1/completions", ping).status == 503 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
  }
};

TEST_F(openai_test, chat_and_text_completions_answer_like_openai) {
  start_gateway();
  start_mesh({.generator_model = thinking_model()});
  wait_for_generators();
  http_reply models = http_call(port_, "GET", "/v1/models", "", gamma_key);
  ASSERT_EQ(models.status, 200) << models.body;
  json m = json::parse(models.body);
  EXPECT_EQ(m["object"], "list");
  ASSERT_EQ(m["data"].size(), 3u);
  EXPECT_EQ(m["data"][0]["id"], "proofmesh-generator");

  const json chat = {{"model", "proofmesh-generator"},
                     {"messages", {{{"role", "system"}, {"content", "Be brief."}},
                                   {{"role", "user"}, {"content", "What is 2 + 2?"}}}},
                     {"n", 2},
                     {"temperature", 0.7},
                     {"max_tokens", 16},
                     {"user", "ignored, as OpenAI-compatible servers do"}};
  http_reply r = post("/v1/chat/completions", chat);
  ASSERT_EQ(r.status, 200) << r.body << log("coordinator");
  json a = json::parse(r.body);
  EXPECT_EQ(a["object"], "chat.completion");
  EXPECT_EQ(a["model"], "proofmesh-generator");
  EXPECT_EQ(a["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  ASSERT_EQ(a["choices"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const json& c = a["choices"][i];
    EXPECT_EQ(c["index"], i);
    EXPECT_EQ(c["finish_reason"], "stop");
    EXPECT_EQ(c["message"]["role"], "assistant");
    EXPECT_EQ(c["message"]["reasoning_content"], "Let me think.");
    EXPECT_EQ(c["message"]["content"], "The answer is 4.");
  }
  EXPECT_GT(a["usage"]["prompt_tokens"].get<int>(), 5);
  EXPECT_EQ(a["usage"]["completion_tokens"], 4); // the script token and end of text, twice
  EXPECT_EQ(a["usage"]["total_tokens"].get<int>(),
            a["usage"]["prompt_tokens"].get<int>() + a["usage"]["completion_tokens"].get<int>());

  // Streamed: a role chunk, the split deltas, a finish chunk, usage, [DONE].
  json streamed = chat;
  streamed["n"] = 1;
  streamed["stream"] = true;
  streamed["stream_options"] = {{"include_usage", true}};
  r = post("/v1/chat/completions", streamed);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  std::vector<std::string> lines = data_lines(r.body);
  ASSERT_GE(lines.size(), 4u) << r.body;
  EXPECT_EQ(lines.back(), "[DONE]");
  std::string reasoning, content, finish;
  json usage;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    json c = json::parse(lines[i]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    ASSERT_TRUE(c.contains("usage")) << lines[i]; // null until the last chunk, as OpenAI's
    if (!c["usage"].is_null()) {
      usage = c["usage"];
      EXPECT_TRUE(c["choices"].empty());
      continue;
    }
    const json& d = c["choices"][0]["delta"];
    if (i == 0) {
      EXPECT_EQ(d["role"], "assistant");
    }
    reasoning += d.value("reasoning_content", "");
    content += d.value("content", "");
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(reasoning, "Let me think.");
  EXPECT_EQ(content, "The answer is 4.");
  EXPECT_EQ(finish, "stop");
  EXPECT_EQ(usage["completion_tokens"], 2);

  // A text completion with a stop string: cut before it, finish_reason stop, no split.
  r = post("/v1/completions", {{"model", "proofmesh-generator"},
                               {"prompt", "Question: 2 + 2?"},
                               {"stop", "answer"}});
  ASSERT_EQ(r.status, 200) << r.body;
  a = json::parse(r.body);
  EXPECT_EQ(a["object"], "text_completion");
  EXPECT_EQ(a["choices"][0]["text"], "<think>Let me think.</think>The ");
  EXPECT_EQ(a["choices"][0]["finish_reason"], "stop");
}

TEST_F(openai_test, a_streamed_answer_equals_the_buffered_one_for_a_seed) {
  start_gateway();
  const std::string random_model = dir_.str("random");
  engine::init_random_model({.seed = 11, .out_dir = random_model});
  start_mesh({.generator_model = random_model});
  wait_for_generators();
  const json ask = {{"model", "proofmesh-generator"}, {"prompt", "Let n be an integer."},
                    {"n", 2}, {"max_tokens", 40}, {"temperature", 1.0}, {"seed", 1234}};
  http_reply whole = post("/v1/completions", ask);
  ASSERT_EQ(whole.status, 200) << whole.body << log("coordinator");
  json a = json::parse(whole.body);
  json streamed_ask = ask;
  streamed_ask["stream"] = true;
  http_reply streamed = post("/v1/completions", streamed_ask);
  ASSERT_EQ(streamed.status, 200);
  std::string texts[2];
  for (const std::string& line : data_lines(streamed.body)) {
    if (line == "[DONE]") break;
    json c = json::parse(line);
    texts[c["choices"][0]["index"].get<size_t>()] += c["choices"][0]["text"].get<std::string>();
  }
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(texts[i], a["choices"][i]["text"]) << "choice " << i;
    EXPECT_FALSE(texts[i].empty());
  }
  EXPECT_NE(texts[0], texts[1]); // choices draw their own streams of the seed
  http_reply again = post("/v1/completions", ask);
  EXPECT_EQ(json::parse(again.body)["choices"], a["choices"]); // the seed reproduces
}

// One chat entry's checks: a logprob, its bytes spelling its token, `top` alternatives highest
// first.
void expect_token_entry(const json& t, size_t top) {
  ASSERT_TRUE(t.is_object()) << t;
  EXPECT_LE(t["logprob"].get<double>(), 0.0);
  const std::string token = t["token"];
  ASSERT_TRUE(t["bytes"].is_array());
  ASSERT_EQ(t["top_logprobs"].size(), top) << t;
  for (size_t k = 0; k + 1 < top; ++k) {
    EXPECT_GE(t["top_logprobs"][k]["logprob"].get<double>(),
              t["top_logprobs"][k + 1]["logprob"].get<double>());
  }
}

TEST_F(openai_test, logprobs_come_in_openai_shapes_buffered_and_streamed) {
  start_gateway();
  const std::string random_model = dir_.str("random");
  engine::init_random_model({.seed = 11, .out_dir = random_model});
  start_mesh({.generator_model = random_model});
  wait_for_generators();
  const json chat = {{"model", "proofmesh-generator"},
                     {"messages", {{{"role", "user"}, {"content", "Let n be an integer."}}}},
                     {"max_tokens", 24}, {"temperature", 1.0}, {"seed", 99},
                     {"logprobs", true}, {"top_logprobs", 3}};
  http_reply r = post("/v1/chat/completions", chat);
  ASSERT_EQ(r.status, 200) << r.body << log("coordinator");
  json a = json::parse(r.body);
  const json content = a["choices"][0]["logprobs"]["content"];
  ASSERT_TRUE(content.is_array()) << r.body.substr(0, 500);
  const int generated = a["usage"]["completion_tokens"];
  const bool stopped = a["choices"][0]["finish_reason"] == "stop";
  EXPECT_EQ(static_cast<int>(content.size()), generated - (stopped ? 1 : 0)); // no end of text
  int sampled_outside_top = 0;
  for (const json& t : content) {
    expect_token_entry(t, 3);
    sampled_outside_top += t["token"] != t["top_logprobs"][0]["token"];
  }
  EXPECT_GT(sampled_outside_top, 0); // at temperature 1 on random weights: its own logprob shows

  // Streamed, the same seed: each chunk carries its delta's tokens; together, the same list.
  json streamed = chat;
  streamed["stream"] = true;
  r = post("/v1/chat/completions", streamed);
  ASSERT_EQ(r.status, 200) << r.body;
  json tokens = json::array();
  for (const std::string& line : data_lines(r.body)) {
    if (line == "[DONE]") break;
    const json chunk = json::parse(line);
    const json& lp = chunk["choices"][0]["logprobs"];
    if (lp.is_null()) continue; // the finish chunk
    for (const json& t : lp["content"]) tokens.push_back(t);
  }
  EXPECT_EQ(tokens, content) << r.body.substr(0, 3000);

  // Asked for no alternatives: each token's own logprob, and an empty top.
  json plain = chat;
  plain["top_logprobs"] = 0;
  r = post("/v1/chat/completions", plain);
  ASSERT_EQ(r.status, 200) << r.body;
  a = json::parse(r.body);
  ASSERT_EQ(a["choices"][0]["logprobs"]["content"].size(), content.size());
  for (size_t i = 0; i < content.size(); ++i) {
    expect_token_entry(a["choices"][0]["logprobs"]["content"][i], 0);
    EXPECT_EQ(a["choices"][0]["logprobs"]["content"][i]["logprob"], content[i]["logprob"]);
  }

  // Text completions: OpenAI's parallel lists, offsets into the text; null when not asked.
  const json text = {{"model", "proofmesh-generator"}, {"prompt", "Let n be an integer."},
                     {"max_tokens", 24}, {"temperature", 1.0}, {"seed", 5}, {"logprobs", 2}};
  r = post("/v1/completions", text);
  ASSERT_EQ(r.status, 200) << r.body;
  a = json::parse(r.body);
  const json& lp = a["choices"][0]["logprobs"];
  ASSERT_TRUE(lp.is_object()) << r.body.substr(0, 500);
  const size_t n = lp["tokens"].size();
  EXPECT_GT(n, 0u);
  ASSERT_EQ(lp["token_logprobs"].size(), n);
  ASSERT_EQ(lp["top_logprobs"].size(), n);
  ASSERT_EQ(lp["text_offset"].size(), n);
  EXPECT_EQ(lp["text_offset"][0], 0);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_LE(lp["token_logprobs"][i].get<double>(), 0.0);
    EXPECT_GE(lp["top_logprobs"][i].size(), 1u); // two alternatives, unless they print alike
    EXPECT_LE(lp["top_logprobs"][i].size(), 2u);
    if (i > 0) {
      EXPECT_GE(lp["text_offset"][i], lp["text_offset"][i - 1]);
    }
  }
  json no_logprobs = text;
  no_logprobs.erase("logprobs");
  r = post("/v1/completions", no_logprobs);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["choices"][0]["logprobs"].is_null());
}

// The script is one token: its logprob is all but 0, and its text is the whole answer.
TEST_F(openai_test, a_scripted_tokens_logprob_is_certain) {
  start_gateway();
  start_mesh({.generator_model = thinking_model()});
  wait_for_generators();
  http_reply r = post("/v1/chat/completions",
                      {{"model", "proofmesh-generator"},
                       {"messages", {{{"role", "user"}, {"content", "2 + 2?"}}}},
                       {"logprobs", true}, {"top_logprobs", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json content = json::parse(r.body)["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 1u) << r.body; // end of text has no entry
  EXPECT_EQ(content[0]["token"], "<think>Let me think.</think>The answer is 4.");
  EXPECT_GT(content[0]["logprob"].get<double>(), -1e-3);
  EXPECT_EQ(content[0]["top_logprobs"][0]["token"], content[0]["token"]);
  std::string bytes;
  for (const json& b : content[0]["bytes"]) bytes += static_cast<char>(b.get<int>());
  EXPECT_EQ(bytes, content[0]["token"].get<std::string>());
}

TEST_F(openai_test, a_client_that_leaves_mid_stream_cancels_its_completion) {
  start_gateway();
  const std::string random_model = dir_.str("random");
  engine::init_random_model({.seed = 12, .out_dir = random_model});
  // One slot and many long choices: the request runs for a long while unless cancelled. Greedy,
  // because this model's greedy path never meets its eos in 1,500 tokens, while sampled choices
  // stop at eos after ~150: under a loaded make test all 16 could end before the cancel landed.
  start_mesh({.generator_slots = 1, .generator_model = random_model});
  wait_for_generators();
  const int fd = http_connect(port_);
  const std::string body = json{{"model", "proofmesh-generator"},
                                {"prompt", "Once upon a time"},
                                {"n", 16},
                                {"max_tokens", 1500},
                                {"temperature", 0},
                                {"stream", true}}
                               .dump();
  http_send_all(fd, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    "key-completions-only\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body);
  // Read until the first delta names the request, then leave.
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (seen.find("\"text\"") == std::string::npos && seen.find("[DONE]") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    seen += http_read_all(fd, 100ms);
  }
  ::close(fd);
  const size_t at = seen.find("\"id\":\"cmpl-");
  ASSERT_NE(at, std::string::npos) << seen << log("coordinator");
  const std::string id = seen.substr(at + 6, seen.find('"', at + 6) - at - 6);
  transport::redis_client redis({.port = redis_.port(), .password = redis_.password()});
  std::string last;
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (last.find("cancelled") == std::string::npos && std::chrono::steady_clock::now() < until) {
    transport::redis_reply r =
        redis.command({"XREVRANGE", "completion:" + id + ":events", "+", "-", "COUNT", "1"});
    if (!r.elements.empty()) last = r.elements[0].elements[1].elements[1].str;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(last.find("\"cancelled\""), std::string::npos)
      << last << "\ncancel key: " << redis.command({"GET", "completion:" + id + ":cancel"}).str
      << "\n" << log("coordinator") << log("gateway");
  // Far fewer than 16 choices ran to their end: the queued ones were withdrawn.
  transport::redis_reply all = redis.command({"XRANGE", "completion:" + id + ":events", "-", "+"});
  int choices = 0;
  for (const transport::redis_reply& e : all.elements) {
    if (e.elements[1].elements[1].str.find("\"choice\"") != std::string::npos) ++choices;
  }
  EXPECT_LT(choices, 16);
}

TEST_F(openai_test, bad_requests_get_errors_with_stable_codes) {
  start_gateway();
  start_mesh({.meta_verifier = false});
  const json good = {{"model", "proofmesh-generator"},
                     {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
  auto with = [&](const char* key, json value) {
    json j = good;
    j[key] = std::move(value);
    return j.dump();
  };
  std::string long_prompt;
  for (int i = 0; i < 3000; ++i) long_prompt += "prove ";
  struct bad_case {
    std::string what, path, body;
    http_headers headers;
    int status;
    std::string code;
  };
  const std::vector<bad_case> cases = {
      {"no key", "/v1/chat/completions", good.dump(), {}, 401, "missing_api_key"},
      {"a key without the completions scope", "/v1/chat/completions", good.dump(),
       {{"Authorization", "Bearer key-jobs-only"}}, 403, "forbidden"},
      {"an unknown model", "/v1/chat/completions", with("model", "gpt-4"), gamma_key, 404,
       "model_not_found"},
      {"no messages", "/v1/chat/completions", R"({"model": "proofmesh-generator"})", gamma_key,
       400, "invalid_request"},
      {"a role we do not know", "/v1/chat/completions",
       with("messages", {{{"role", "wizard"}, {"content", "x"}}}), gamma_key, 400,
       "invalid_request"},
      {"temperature 3", "/v1/chat/completions", with("temperature", 3), gamma_key, 400,
       "invalid_request"},
      {"top_p 0", "/v1/chat/completions", with("top_p", 0), gamma_key, 400, "invalid_request"},
      {"n 0", "/v1/chat/completions", with("n", 0), gamma_key, 400, "invalid_request"},
      {"n 17", "/v1/chat/completions", with("n", 17), gamma_key, 400, "invalid_request"},
      {"max_tokens 0", "/v1/chat/completions", with("max_tokens", 0), gamma_key, 400,
       "invalid_request"},
      {"five stop strings", "/v1/chat/completions", with("stop", {"a", "b", "c", "d", "e"}),
       gamma_key, 400, "invalid_request"},
      {"stream as a string", "/v1/chat/completions", with("stream", "yes"), gamma_key, 400,
       "invalid_request"},
      {"top_logprobs without logprobs", "/v1/chat/completions", with("top_logprobs", 2),
       gamma_key, 400, "invalid_request"},
      {"logprobs as a number in a chat", "/v1/chat/completions", with("logprobs", 2), gamma_key,
       400, "invalid_request"},
      {"top_logprobs 21", "/v1/chat/completions",
       json{{"model", "proofmesh-generator"}, {"messages", good["messages"]}, {"logprobs", true},
            {"top_logprobs", 21}}.dump(),
       gamma_key, 400, "invalid_request"},
      {"text logprobs 21", "/v1/completions",
       R"({"model": "proofmesh-generator", "prompt": "a", "logprobs": 21})", gamma_key, 400,
       "invalid_request"},
      {"a list of prompts", "/v1/completions",
       R"({"model": "proofmesh-generator", "prompt": ["a", "b"]})", gamma_key, 400,
       "invalid_request"},
      {"malformed JSON", "/v1/completions", "{", gamma_key, 400, "invalid_json"},
      {"a prompt past the model's context", "/v1/completions",
       json{{"model", "proofmesh-generator"}, {"prompt", long_prompt}}.dump(), gamma_key, 400,
       "invalid_request"},
      {"no worker in the pool", "/v1/chat/completions",
       with("model", "proofmesh-meta-verifier"), gamma_key, 503, "no_workers"},
  };
  wait_for_generators(); // "none" must mean none, not "not met yet"
  for (const bad_case& c : cases) {
    http_reply r = http_call(port_, "POST", c.path, c.body, c.headers, 60s);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body.substr(0, 300);
    EXPECT_EQ(error_code(r), c.code) << c.what << ": " << r.body.substr(0, 300);
  }
  EXPECT_EQ(http_call(port_, "GET", "/v1/chat/completions", "", gamma_key).status, 405);
  EXPECT_EQ(post("/v1/chat/completions", good).status, 200); // still serving
}

} // namespace
} // namespace proofmesh
