// What a role service sends to an OpenAI-compatible server and makes of its answers. The answer
// bodies below follow the shapes vLLM (deepseek_r1 reasoning parser: `reasoning_content`; 0.10
// and later also `reasoning`) and SGLang (--reasoning-parser deepseek-r1: `reasoning_content`)
// document for /v1/chat/completions, and a server with no reasoning parser (the whole text in
// `content`). They were written from those projects' documented response schemas, not captured
// from running servers (none can run here).
#include "actors/roles/openai_exchange.hpp"

#include "actors/common/error.hpp"
#include "actors/roles/role_result.hpp"
#include "actors/roles/token_logprobs.hpp"
#include "actors/transport/wire_codec.hpp"

#include <gtest/gtest.h>

namespace proofmesh::roles {
namespace {

using namespace transport;
using nlohmann::json;

TEST(openai_exchange, a_role_task_is_one_user_message_with_the_tasks_sampling) {
  task_msg t{.task_id = "j/p/r1/gen/0", .job_id = "j", .input = generate_input{"Q", ""},
             .sampling = {.temperature = 1.0f, .top_p = 0.95f, .max_tokens = 131072, .seed = 7}};
  openai_call c = openai_request(t, "PROMPT", "deepseek-ai/DeepSeek-Math-V2", 131072);
  EXPECT_EQ(c.path, "/v1/chat/completions");
  EXPECT_EQ(c.body["model"], "deepseek-ai/DeepSeek-Math-V2");
  EXPECT_EQ(c.body["messages"], json::parse(R"([{"role": "user", "content": "PROMPT"}])"));
  EXPECT_FLOAT_EQ(c.body["temperature"].get<float>(), 1.0f);
  EXPECT_FLOAT_EQ(c.body["top_p"].get<float>(), 0.95f);
  EXPECT_EQ(c.body["max_tokens"], 131072);
  EXPECT_EQ(c.body["seed"], 7);
  // A raw completion keeps its chat, or its prompt (then /v1/completions), and stop strings.
  task_msg chat{.input = complete_input{.messages = {{"system", "S"}, {"user", "U"}},
                                        .stop = {"END"}}};
  openai_call cc = openai_request(chat, "", "m", 16);
  EXPECT_EQ(cc.body["messages"][0]["role"], "system");
  EXPECT_EQ(cc.body["stop"], json::array({"END"}));
  EXPECT_FALSE(cc.body.contains("seed"));
  task_msg text{.input = complete_input{.prompt = "Once"}};
  openai_call tc = openai_request(text, "", "m", 16);
  EXPECT_EQ(tc.path, "/v1/completions");
  EXPECT_EQ(tc.body["prompt"], "Once");
}

const char* vllm_reasoning = R"({
  "id": "chatcmpl-9f", "object": "chat.completion", "created": 1764400000,
  "model": "deepseek-ai/DeepSeek-Math-V2",
  "choices": [{"index": 0, "message": {"role": "assistant",
      "reasoning_content": "Let me check n = 3.",
      "content": "## Solution\nBy induction.\n## Self Evaluation\nSound.\n\\boxed{1}",
      "tool_calls": []},
    "logprobs": null, "finish_reason": "stop", "stop_reason": null}],
  "usage": {"prompt_tokens": 812, "total_tokens": 2112, "completion_tokens": 1300}})";

TEST(openai_exchange, vllm_reasoning_content_is_rebuilt_around_think_tags) {
  const openai_answer a = parse_openai_answer(json::parse(vllm_reasoning));
  EXPECT_EQ(a.text, "<think>\nLet me check n = 3.\n</think>\n## Solution\nBy induction.\n"
                    "## Self Evaluation\nSound.\n\\boxed{1}");
  EXPECT_TRUE(a.stopped);
  EXPECT_EQ(a.prompt_tokens, 812u);
  EXPECT_EQ(a.completion_tokens, 1300u);
  // ... and parses as our own engine's output does.
  task_msg gen{.task_id = "t", .input = generate_input{"Q", ""}};
  task_result_msg r = make_result(gen, a.text, a.stopped, a.prompt_tokens, a.completion_tokens, 5);
  ASSERT_EQ(r.status, task_status::task_status_ok);
  EXPECT_EQ(std::get<generate_output>(r.output).solution, "By induction.");
  EXPECT_EQ(std::get<generate_output>(r.output).self_eval_score, 1.0f);
  EXPECT_EQ(r.completion_tokens, 1300u);
}

TEST(openai_exchange, newer_vllm_reasoning_and_sglang_shapes) {
  const openai_answer v = parse_openai_answer(json::parse(R"({"object": "chat.completion",
      "choices": [{"index": 0, "message": {"role": "assistant", "reasoning": "think",
                   "content": "rated \\boxed{0.5}"}, "finish_reason": "stop"}]})"));
  EXPECT_EQ(v.text, "<think>\nthink\n</think>\nrated \\boxed{0.5}");
  // SGLang: reasoning_content, matched_stop, usage with cached tokens details.
  const openai_answer s = parse_openai_answer(json::parse(R"({"id": "4a", "object":
      "chat.completion", "created": 1764400001, "model": "default",
      "choices": [{"index": 0, "message": {"role": "assistant", "content": "fair \\boxed{1}",
                   "reasoning_content": "the rating is right", "tool_calls": null},
                   "logprobs": null, "finish_reason": "stop", "matched_stop": 1}],
      "usage": {"prompt_tokens": 50, "total_tokens": 60, "completion_tokens": 10,
                "prompt_tokens_details": null}})"));
  EXPECT_EQ(s.text, "<think>\nthe rating is right\n</think>\nfair \\boxed{1}");
  EXPECT_EQ(s.completion_tokens, 10u);
}

TEST(openai_exchange, without_a_reasoning_field_the_content_is_the_whole_text) {
  // A server with no reasoning parser: the think block is in the content already.
  const openai_answer a = parse_openai_answer(json::parse(R"({"choices": [{"index": 0,
      "message": {"role": "assistant", "content": "<think>x</think>\nok \\boxed{1}",
                  "reasoning_content": null}, "finish_reason": "stop"}]})"));
  EXPECT_EQ(a.text, "<think>x</think>\nok \\boxed{1}");
  task_msg ver{.task_id = "v", .input = verify_input{"P", "S"}};
  task_result_msg r = make_result(ver, a.text, a.stopped, 0, 0, 0);
  ASSERT_EQ(r.status, task_status::task_status_ok);
  EXPECT_EQ(std::get<verify_output>(r.output).score, 1.0f);
  // Cut at the length limit, with a null content (all reasoning): truncated, not parsed.
  const openai_answer cut = parse_openai_answer(json::parse(R"({"choices": [{"index": 0,
      "message": {"role": "assistant", "content": null, "reasoning_content": "long"},
      "finish_reason": "length"}]})"));
  EXPECT_FALSE(cut.stopped);
  EXPECT_EQ(cut.text, "<think>\nlong\n</think>\n");
  EXPECT_EQ(make_result(ver, cut.text, cut.stopped, 0, 0, 0).status,
            task_status::task_status_truncated);
  // /v1/completions: choices[0].text.
  EXPECT_EQ(parse_openai_answer(json::parse(R"({"choices": [{"text": "abc",
      "finish_reason": "length"}]})")).text, "abc");
}

// A completion that wants logprobs asks in each kind's spelling and reads both shapes back: chat's
// entries (bytes, where given, are the token) and text's parallel lists; null is OpenAI's -inf.
TEST(openai_exchange, logprobs_are_asked_for_and_read_back_in_both_shapes) {
  task_msg chat{.task_id = "c/0", .job_id = "c",
                .input = complete_input{.messages = {{"user", "Hi"}}},
                .sampling = {.logprobs = 2}};
  openai_call c = openai_request(chat, "", "m", 8);
  EXPECT_EQ(c.body["logprobs"], true);
  EXPECT_EQ(c.body["top_logprobs"], 2);
  task_msg text{.task_id = "t/0", .job_id = "t", .input = complete_input{.prompt = "Let"},
                .sampling = {.logprobs = 0}};
  EXPECT_EQ(openai_request(text, "", "m", 8).body["logprobs"], 0);
  task_msg none{.task_id = "n/0", .job_id = "n", .input = complete_input{.prompt = "Let"}};
  EXPECT_FALSE(openai_request(none, "", "m", 8).body.contains("logprobs"));

  openai_answer a = parse_openai_answer(json::parse(R"({"choices": [{"finish_reason": "stop",
      "message": {"content": "Hi é"}, "logprobs": {"content": [
        {"token": "Hi", "logprob": -0.25, "bytes": [72, 105],
         "top_logprobs": [{"token": "Hi", "logprob": -0.25, "bytes": [72, 105]},
                          {"token": "Yo", "logprob": null}]},
        {"token": "\ufffd", "logprob": -1.5, "bytes": [195], "top_logprobs": []}]}}]})"));
  ASSERT_EQ(a.logprobs.size(), 2u);
  EXPECT_EQ(a.logprobs[0].token, "Hi");
  EXPECT_FLOAT_EQ(a.logprobs[0].logprob, -0.25f);
  ASSERT_EQ(a.logprobs[0].top.size(), 2u);
  EXPECT_EQ(a.logprobs[0].top[1].token, "Yo");
  EXPECT_LT(a.logprobs[0].top[1].logprob, -1000.0f);
  EXPECT_EQ(a.logprobs[1].token, std::string("\xc3")); // half a character: its byte

  a = parse_openai_answer(json::parse(R"({"choices": [{"finish_reason": "length", "text": " n be",
      "logprobs": {"tokens": [" n", " be"], "token_logprobs": [-0.5, -2.0],
                   "top_logprobs": [{" n": -0.5, " x": -1.0}, {" be": -2.0}],
                   "text_offset": [0, 2]}}]})"));
  ASSERT_EQ(a.logprobs.size(), 2u);
  EXPECT_EQ(a.logprobs[1].token, " be");
  EXPECT_FLOAT_EQ(a.logprobs[1].logprob, -2.0f);
  EXPECT_EQ(a.logprobs[0].top.size(), 2u);
}

// A server's logprobs fit one wire message: the alternatives asked for, tokens an id's size, and
// no more entries than half a message holds; what is kept decodes.
TEST(openai_exchange, a_servers_logprobs_are_cut_to_what_the_wire_carries) {
  const wire_limits limits;
  std::vector<token_logprob> many(20000, {std::string(1000, 'x'), -1.0f,
                                          std::vector<top_logprob>(20, {"alt", -2.0f})});
  std::vector<token_logprob> kept = within_wire_limits(many, 3);
  ASSERT_FALSE(kept.empty());
  EXPECT_LT(kept.size(), many.size()); // 20,000 x (256 + 20 alternatives) would not fit
  for (const token_logprob& t : kept) {
    EXPECT_EQ(t.token.size(), limits.max_id_bytes);
    EXPECT_EQ(t.top.size(), 3u);
  }
  task_result_msg r{.task_id = "c/0", .output = complete_output{"text", "length", kept, 0}};
  EXPECT_TRUE(decode(encode(r)).message.has_value());
  EXPECT_EQ(within_wire_limits({{"a", -1.0f, {{"b", -2.0f}}}}, 0)[0].top.size(), 0u);
}

TEST(openai_exchange, what_is_not_a_completion_is_refused) {
  for (const char* body : {R"({})", R"({"choices": []})", R"({"choices": [3]})",
                           R"({"choices": [{"finish_reason": "stop"}]})", R"([1])"}) {
    EXPECT_THROW(parse_openai_answer(json::parse(body)), input_error) << body;
  }
}

} // namespace
} // namespace proofmesh::roles
