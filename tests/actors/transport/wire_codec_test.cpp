// The wire codec: every message round-trips field for field, and every kind of bad buffer is
// refused with its reason and never read: truncations into data at every length, random byte flips, a
// wrong identifier or schema version, an empty payload, oversize envelopes and fields, values
// out of range, and role/input or status/output combinations that cannot be.
#include "actors/transport/wire_codec.hpp"

#include "schemas/mesh_generated.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace proofmesh::transport {
namespace {

namespace w = proofmesh::wire;

task_msg sample_task() {
  return {.task_id = "job-1/p0/r0/verify/3",
          .job_id = "job-1",
          .input = verify_input{"Prove that 2 + 2 = 4.", "By counting: 1, 2, 3, 4. \\boxed{}"},
          .sampling = {.temperature = 0.8f, .top_p = 0.95f, .top_k = 20, .max_tokens = 4096,
                       .seed = 42, .stream = 3},
          .attempt = 1};
}

std::vector<wire_message> every_kind() {
  return {
      sample_task(),
      task_msg{.task_id = "t/g", .job_id = "j",
               .input = generate_input{"P", std::string("context ü∑ with a NUL \0 inside", 33)}},
      task_msg{.task_id = "t/m", .job_id = "j", .input = meta_verify_input{"P", "S", "R"}},
      task_result_msg{.task_id = "t/g",
                      .output = generate_output{"proof", "self eval", 0.5f},
                      .prompt_tokens = 100, .completion_tokens = 2000, .elapsed_ms = 1234},
      task_result_msg{.task_id = "t/v", .output = verify_output{"rating text", 1.0f}},
      task_result_msg{.task_id = "t/m", .output = meta_verify_output{"analysis", 0.0f}},
      task_result_msg{.task_id = "t/u", .status = task_status::task_status_unparseable},
      task_result_msg{.task_id = "t/f", .status = task_status::task_status_failed,
                      .error = "KV cache is full"},
      credit_msg{.slots = 32},
      heartbeat_msg{.worker_id = "verifier-2", .worker_role = role::role_verifier,
                    .in_flight = 7, .sent_at_ms = 1700000000000ULL, .capacity = 16},
      cancel_msg{.task_id = "t/v"},
      progress_msg{.task_id = "t/g", .completion_tokens = 512},
      task_msg{.task_id = "cmpl-1/0", .job_id = "cmpl-1",
               .input = complete_input{.messages = {{"system", "Be brief."}, {"user", "Hi ü"}},
                                       .stop = {"\n\n", "END"}},
               .sampling = {.max_tokens = 64, .stream = 1},
               .pool = role::role_verifier},
      task_msg{.task_id = "cmpl-2/0", .job_id = "cmpl-2",
               .input = complete_input{.prompt = "Let n be"}},
      task_result_msg{.task_id = "cmpl-1/0", .output = complete_output{"Hello.", "stop"},
                      .prompt_tokens = 9, .completion_tokens = 3},
      progress_msg{.task_id = "cmpl-1/0", .completion_tokens = 2, .text_delta = "Hel",
                   .text_offset = 0},
      task_msg{.task_id = "cmpl-3/0", .job_id = "cmpl-3", .input = complete_input{.prompt = "x"},
               .sampling = {.logprobs = 20}},
      progress_msg{.task_id = "cmpl-3/0", .completion_tokens = 2, .text_delta = "a\xe2",
                   .logprobs = {{"a", -0.25f, {{"a", -0.25f}, {"b", -2.0f}}},
                                {"\xe2", -1.5f, {}}},
                   .logprobs_offset = 7},
      task_result_msg{.task_id = "cmpl-3/0",
                      .output = complete_output{"a\xe2\x88\x80", "length",
                                                {{"\x88\x80", -0.5f, {{"x", -0.1f}}}}, 2}},
  };
}

TEST(wire_codec, every_message_round_trips) {
  for (const wire_message& m : every_kind()) {
    decode_result r = decode(encode(m));
    ASSERT_TRUE(r.message.has_value()) << "kind " << m.index() << ": "
                                       << wire_errc_name(r.error);
    EXPECT_EQ(*r.message, m) << "kind " << m.index();
  }
  auto t = std::get<task_msg>(*decode(encode(sample_task())).message);
  EXPECT_EQ(t.task_role(), role::role_verifier);
}

// Every token logprob is a table (and each alternative one): a long completion's many tables
// pass the Verifier, whose caps follow the size.
TEST(wire_codec, thousands_of_token_logprobs_round_trip) {
  progress_msg p{.task_id = "cmpl-1/0", .text_delta = "abc"};
  for (int i = 0; i < 4000; ++i) {
    p.logprobs.push_back({std::string(1, static_cast<char>(0x80 + i % 64)), -1.0f,
                          std::vector<top_logprob>(20, {"alt", -2.0f})});
  }
  decode_result r = decode(encode(p));
  ASSERT_TRUE(r.message.has_value()) << wire_errc_name(r.error);
  EXPECT_EQ(*r.message, wire_message(p));
}

TEST(wire_codec, every_truncation_is_refused_or_loses_nothing) {
  // The builder may end a buffer with alignment padding that nothing references: cutting only
  // that still decodes, to the very same message. Any cut into data is refused.
  const std::vector<uint8_t> whole = encode(sample_task());
  int refused = 0;
  for (size_t n = 0; n < whole.size(); ++n) {
    decode_result r = decode(std::span(whole.data(), n));
    if (r.message) {
      EXPECT_EQ(*r.message, wire_message(sample_task())) << "length " << n;
    } else {
      ++refused;
    }
  }
  EXPECT_GE(refused, static_cast<int>(whole.size()) - 8);
}

TEST(wire_codec, random_byte_flips_never_crash_and_are_mostly_refused) {
  const std::vector<uint8_t> whole = encode(sample_task());
  std::mt19937 rng(7);
  int refused = 0;
  const int trials = 20000;
  for (int i = 0; i < trials; ++i) {
    std::vector<uint8_t> bad = whole;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    decode_result r = decode(bad);
    refused += r.message.has_value() ? 0 : 1;
    if (r.message) {
      // Whatever survived the checks is within the limits.
      const auto* t = std::get_if<task_msg>(&*r.message);
      if (t != nullptr) {
        EXPECT_LE(t->task_id.size(), wire_limits{}.max_id_bytes);
        EXPECT_TRUE(std::isfinite(t->sampling.temperature));
      }
    }
  }
  // Flips in string bytes leave valid messages; flips in offsets, tags and numbers mostly do not.
  EXPECT_GT(refused, trials / 10);
}

TEST(wire_codec, identifier_size_and_garbage_are_refused) {
  std::vector<uint8_t> bytes = encode(credit_msg{.slots = 4});
  std::vector<uint8_t> wrong_id = bytes;
  wrong_id[4] = 'X'; // the identifier sits after the root offset
  EXPECT_EQ(decode(wrong_id).error, wire_errc::wire_errc_malformed);
  EXPECT_EQ(decode(std::vector<uint8_t>(64, 0xab)).error, wire_errc::wire_errc_malformed);
  EXPECT_EQ(decode({}).error, wire_errc::wire_errc_malformed);
  EXPECT_EQ(decode(bytes, {.max_message_bytes = bytes.size() - 1}).error,
            wire_errc::wire_errc_too_large);
}

// Envelopes the encoder never writes, built with the generated API.
std::vector<uint8_t> raw_envelope(uint16_t version, bool with_payload) {
  flatbuffers::FlatBufferBuilder b;
  auto credit = w::CreateCredit(b, 3);
  w::FinishEnvelopeBuffer(
      b, w::CreateEnvelope(b, version, with_payload ? w::Payload::Credit : w::Payload::NONE,
                           with_payload ? credit.Union() : 0));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(wire_codec, versions_and_payloads_are_checked) {
  EXPECT_TRUE(decode(raw_envelope(wire_schema_version, true)).message.has_value());
  EXPECT_EQ(decode(raw_envelope(wire_schema_version + 1, true)).error,
            wire_errc::wire_errc_wrong_version);
  EXPECT_EQ(decode(raw_envelope(wire_schema_version, false)).error,
            wire_errc::wire_errc_empty_payload);
}

TEST(wire_codec, field_values_are_checked) {
  auto refused_with = [](const wire_message& m, const wire_limits& limits = {}) {
    decode_result r = decode(encode(m), limits);
    EXPECT_FALSE(r.message.has_value());
    return r.error;
  };
  task_msg t = sample_task();
  t.sampling.temperature = NAN;
  EXPECT_EQ(refused_with(t), wire_errc::wire_errc_bad_value);
  t = sample_task();
  t.sampling.top_p = 0;
  EXPECT_EQ(refused_with(t), wire_errc::wire_errc_bad_value);
  t = sample_task();
  t.sampling.max_tokens = 0;
  EXPECT_EQ(refused_with(t), wire_errc::wire_errc_bad_value);
  t = sample_task();
  t.task_id.clear();
  EXPECT_EQ(refused_with(t), wire_errc::wire_errc_bad_value);
  t = sample_task();
  t.task_id.assign(300, 'x');
  EXPECT_EQ(refused_with(t), wire_errc::wire_errc_field_too_long);
  EXPECT_EQ(refused_with(sample_task(), {.max_text_bytes = 10}),
            wire_errc::wire_errc_field_too_long);
  EXPECT_EQ(refused_with(credit_msg{.slots = 0}), wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(credit_msg{.slots = 1u << 20}), wire_errc::wire_errc_bad_value);
  // ok without an output; a failure that carries one; a NaN score.
  EXPECT_EQ(refused_with(task_result_msg{.task_id = "t"}), wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(task_result_msg{.task_id = "t", .status = task_status::task_status_failed,
                                         .output = verify_output{"r", 1}}),
            wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(task_result_msg{.task_id = "t", .output = verify_output{"r", NAN}}),
            wire_errc::wire_errc_bad_value);
  // Logprobs: at most 20 alternatives asked or carried, finite and at most 0, counts capped.
  t = sample_task();
  t.sampling.logprobs = 21;
  EXPECT_EQ(refused_with(t), wire_errc::wire_errc_bad_value);
  t.sampling.logprobs = -2;
  EXPECT_EQ(refused_with(t), wire_errc::wire_errc_bad_value);
  token_logprob wide{"a", -1.0f, std::vector<top_logprob>(21, {"b", -1.0f})};
  EXPECT_EQ(refused_with(progress_msg{.task_id = "t", .logprobs = {wide}}),
            wire_errc::wire_errc_field_too_long);
  EXPECT_EQ(refused_with(progress_msg{.task_id = "t", .logprobs = {{"a", 0.5f, {}}}}),
            wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(progress_msg{.task_id = "t", .logprobs = {{"a", NAN, {}}}}),
            wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(progress_msg{.task_id = "t", .logprobs = {{"a", -1, {}}, {"b", -1, {}}}},
                         {.max_logprob_tokens = 1}),
            wire_errc::wire_errc_field_too_long);
}

TEST(wire_codec, a_completion_task_is_served_by_its_pool_and_checked) {
  auto t = std::get<task_msg>(*decode(encode(std::get<task_msg>(every_kind()[12]))).message);
  EXPECT_EQ(t.task_role(), role::role_verifier);
  auto refused_with = [](const wire_message& m) {
    decode_result r = decode(encode(m));
    EXPECT_FALSE(r.message.has_value());
    return r.error;
  };
  // Neither a prompt nor messages; both; an empty stop string; a finish reason we never send.
  EXPECT_EQ(refused_with(task_msg{.task_id = "c/0", .job_id = "c", .input = complete_input{}}),
            wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(task_msg{.task_id = "c/0", .job_id = "c",
                                  .input = complete_input{.prompt = "p",
                                                          .messages = {{"user", "m"}}}}),
            wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(task_msg{.task_id = "c/0", .job_id = "c",
                                  .input = complete_input{.prompt = "p", .stop = {""}}}),
            wire_errc::wire_errc_bad_value);
  EXPECT_EQ(refused_with(task_result_msg{.task_id = "c/0",
                                         .output = complete_output{"text", "tired"}}),
            wire_errc::wire_errc_bad_value);
  complete_input many{.prompt = "p"};
  many.stop.assign(17, "x");
  EXPECT_EQ(refused_with(task_msg{.task_id = "c/0", .job_id = "c", .input = many}),
            wire_errc::wire_errc_field_too_long);
}

TEST(wire_codec, a_role_that_does_not_fit_its_input_is_refused) {
  flatbuffers::FlatBufferBuilder b;
  auto input = w::CreateGenerateInputDirect(b, "P", "");
  auto task = w::CreateTaskDirect(b, "t", "j", w::Role::verifier, w::TaskInput::GenerateInput,
                                  input.Union());
  w::FinishEnvelopeBuffer(b, w::CreateEnvelope(b, wire_schema_version, w::Payload::Task,
                                               task.Union()));
  std::vector<uint8_t> bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  EXPECT_EQ(decode(bytes).error, wire_errc::wire_errc_bad_value);
}

TEST(wire_codec, drops_are_counted_by_reason) {
  wire_drops drops;
  drops.add(wire_errc::wire_errc_malformed);
  drops.add(wire_errc::wire_errc_malformed);
  drops.add(wire_errc::wire_errc_too_large);
  EXPECT_EQ(drops.count(wire_errc::wire_errc_malformed), 2u);
  EXPECT_EQ(drops.count(wire_errc::wire_errc_too_large), 1u);
  EXPECT_EQ(drops.total(), 3u);
}

} // namespace
} // namespace proofmesh::transport
