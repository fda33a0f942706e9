// The engine's message types cross a serializer intact (the mesh will send them between nodes),
// the type-ID block registers under the names it promises, and engine errors render by name.
// Rules of the road: every round trip starts from a target that holds other values, so a field
// the inspect overloads forget shows up as a mismatch, not as a lucky default.
#include "actors/engine/serving/engine_types.hpp"

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/uniform_type_info_map.hpp>
#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

class engine_types_test : public ::testing::Test {
protected:
  // Serializes `x` and reads it back into `target`.
  template <class T>
  void round_trip(T x, T& target) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys_, buf};
    ASSERT_FALSE(sink(x)) << "serializing";
    caf::binary_deserializer source{sys_, buf};
    ASSERT_FALSE(source(target)) << "deserializing";
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_{add_engine_types(cfg_)};
};

completion sample_completion() {
  return {.ids = {7, 8, 9},
          .text = "a\xc3\xa9z",
          .finish = finish_reason::finish_reason_stop,
          .logprobs = {{.top_ids = {7, 1}, .top_logprobs = {-0.5f, -1.25f}}, {}, {.top_ids = {9}}}};
}

TEST_F(engine_types_test, events_round_trip_with_and_without_a_completion) {
  engine_event finished{.id = 41, .text = "tail", .finished = sample_completion(),
                        .cancelled = true};
  engine_event got{.id = 1, .text = "old"};
  round_trip(finished, got);
  EXPECT_EQ(got.id, 41);
  EXPECT_EQ(got.text, "tail");
  EXPECT_TRUE(got.cancelled);
  ASSERT_TRUE(got.finished.has_value());
  EXPECT_EQ(got.finished->ids, finished.finished->ids);
  EXPECT_EQ(got.finished->text, finished.finished->text);
  EXPECT_EQ(got.finished->finish, finish_reason::finish_reason_stop);
  ASSERT_EQ(got.finished->logprobs.size(), 3u);
  EXPECT_EQ(got.finished->logprobs[0].top_ids, (std::vector<int32_t>{7, 1}));
  EXPECT_EQ(got.finished->logprobs[0].top_logprobs, (std::vector<float>{-0.5f, -1.25f}));
  EXPECT_EQ(got.finished->logprobs[2].top_ids, (std::vector<int32_t>{9}));

  round_trip(engine_event{.id = 2, .text = "mid"}, got); // `got` holds a completion now
  EXPECT_EQ(got.id, 2);
  EXPECT_FALSE(got.finished.has_value());
  EXPECT_FALSE(got.cancelled);
}

TEST_F(engine_types_test, requests_and_stats_round_trip) {
  engine_request request{.prompt = {1, 2, 3}, .max_tokens = 77,
                         .sampling = {.temperature = 0.5f, .top_p = 0.9f, .top_k = 12,
                                      .seed = 1234567890123ull, .num_logprobs = 3},
                         .stop_strings = {"\n\n", "QED"}, .stop_ids = {0, 2}, .stream = 5};
  engine_request got;
  round_trip(request, got);
  EXPECT_EQ(got.prompt, request.prompt);
  EXPECT_EQ(got.max_tokens, 77);
  EXPECT_EQ(got.sampling.temperature, 0.5f);
  EXPECT_EQ(got.sampling.top_p, 0.9f);
  EXPECT_EQ(got.sampling.top_k, 12);
  EXPECT_EQ(got.sampling.seed, 1234567890123ull);
  EXPECT_EQ(got.sampling.num_logprobs, 3);
  EXPECT_EQ(got.stop_strings, request.stop_strings);
  EXPECT_EQ(got.stop_ids, request.stop_ids);
  EXPECT_EQ(got.stream, 5u);

  engine_stats stats{.num_requests = 1, .num_running = 2, .num_waiting = 3, .num_steps = 4,
                     .num_generated_tokens = 5, .num_preemptions = 6, .num_step_failures = 7,
                     .runner = {.prefix_hit_tokens = 8, .free_kv_blocks = 9, .graph_steps = 10,
                                .graph_captures = 11}};
  engine_stats got_stats;
  round_trip(stats, got_stats);
  const std::vector<int64_t> want{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const std::vector<int64_t> have{got_stats.num_requests, got_stats.num_running,
                                  got_stats.num_waiting, got_stats.num_steps,
                                  got_stats.num_generated_tokens, got_stats.num_preemptions,
                                  got_stats.num_step_failures, got_stats.runner.prefix_hit_tokens,
                                  got_stats.runner.free_kv_blocks, got_stats.runner.graph_steps,
                                  got_stats.runner.graph_captures};
  EXPECT_EQ(have, want);
}

TEST_F(engine_types_test, the_block_registers_every_type_by_name) {
  const std::vector<std::string> names{
      "proofmesh::engine::sampling_params", "proofmesh::engine::step_logprobs",
      "proofmesh::engine::finish_reason",   "proofmesh::engine::completion",
      "proofmesh::engine::engine_request",  "proofmesh::engine::engine_event",
      "proofmesh::engine::runner_stats",    "proofmesh::engine::engine_stats",
      "proofmesh::engine::engine_errc",     "proofmesh::engine::engine_listener"};
  EXPECT_EQ(caf::id_block::proofmesh_engine::begin, caf::first_custom_type_id);
  EXPECT_EQ(caf::id_block::proofmesh_engine::end - caf::id_block::proofmesh_engine::begin,
            static_cast<int>(names.size()));
  for (const std::string& name : names) {
    EXPECT_NE(sys_.types().make_value(name), nullptr) << name;
  }
  EXPECT_STREQ(caf::type_name<engine_event>::value, "proofmesh::engine::engine_event");
}

TEST_F(engine_types_test, engine_errors_render_by_name_and_map_back_to_their_code) {
  caf::error err = caf::make_error(engine_errc::engine_errc_overloaded, std::string("full"));
  EXPECT_EQ(engine_errc_of(err), engine_errc::engine_errc_overloaded);
  EXPECT_NE(sys_.render(err).find("pm_engine: overloaded"), std::string::npos) << sys_.render(err);
  EXPECT_EQ(engine_errc_of(caf::make_error(caf::sec::runtime_error)), std::nullopt);
  EXPECT_EQ(engine_errc_of(caf::error{}), std::nullopt);
}

} // namespace
} // namespace proofmesh::engine
