// DeepSeek-V3 and V3.2 on the CPU runtime against transformers 5.17 in float32, on the tiny
// models make_deepseek_golden.py wrote with save_pretrained (bf16 weights, and an FP8 copy in
// DeepSeek's block-scaled layout): all-position logits, and the greedy continuation with its
// top-5 logprobs through the CLI exactly as the acceptance command runs it. Then the errors a
// corrupt or unsupported checkpoint must give: exit code 2, naming what is wrong.
// Tolerances: both sides compute in float32 from the same weights and differ only in summation
// order (we absorb kv_b into q and out; transformers expands keys and values), so logits agree to
// ~1e-6 relative; we allow 1e-4 (the bar), and 1e-4 absolute on logprobs. The script kept
// only seeds whose top-k choices (router groups, experts, indexer keys) have a relative margin of
// at least 1e-3, so rounding cannot flip a choice.
#include "actors/engine/model/cpu_runner.hpp"
#include "actors/engine/model/model_init.hpp"
#include "actors/engine/weights/safetensors_writer.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <functional>

namespace proofmesh::engine {
namespace {

using nlohmann::json;

const std::string data_dir = std::string(PM_SOURCE_DIR) + "/tests/golden/data/deepseek/";

std::string id_list(const json& ids) {
  std::string out;
  for (int64_t id : ids) {
    out += (out.empty() ? "" : ",");
    out += std::to_string(id);
  }
  return out;
}

testing::command_result generate(const std::string& model, const json& prompt_ids,
                                 const testing::temp_dir& tmp) {
  return testing::run_command(std::string(PM_BUILD_DIR) + "/proofmesh generate --model " + model +
                                  " --prompt-ids " + id_list(prompt_ids) +
                                  " --temperature 0 --max-tokens 12 --logprobs 5 --json",
                              tmp.str("err"));
}

class deepseek_golden : public ::testing::TestWithParam<const char*> {};

TEST_P(deepseek_golden, prompt_logits_match_transformers) {
  const std::string dir = data_dir + GetParam();
  const json ref = json::parse(testing::read_file(dir + "/expected.json"));
  const model_config config = load_model_config(dir);
  cpu_runner runner(config, weight_store::open(dir));
  const auto prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
  runner_item item{.seq = runner.create_sequence(), .tokens = prompt, .all_logits = true};
  const std::vector<float> logits = runner.forward(std::span(&item, 1));
  const auto vocab = static_cast<size_t>(config.vocab_size);
  ASSERT_EQ(ref["logits"].size(), prompt.size());
  ASSERT_EQ(logits.size(), prompt.size() * vocab);
  for (size_t t = 0; t < prompt.size(); ++t) {
    double scale = 0, diff = 0;
    for (size_t v = 0; v < vocab; ++v) {
      const double r = ref["logits"][t][v].get<double>();
      scale = std::max(scale, std::abs(r));
      diff = std::max(diff, std::abs(logits[t * vocab + v] - r));
    }
    EXPECT_LT(diff / scale, 1e-4) << "position " << t;
  }
}

TEST_P(deepseek_golden, cli_greedy_matches_transformers_generate) {
  const std::string dir = data_dir + GetParam();
  const json ref = json::parse(testing::read_file(dir + "/expected.json"));
  testing::temp_dir tmp;
  const auto r = generate(dir, ref["prompt_ids"], tmp);
  ASSERT_EQ(r.exit_code, 0) << testing::read_file(tmp.str("err"));
  const json ours = json::parse(r.out);
  EXPECT_EQ(ours["ids"], ref["greedy_ids"]);
  const size_t steps = std::min(ours["logprobs"].size(), ref["greedy_logprobs"].size());
  EXPECT_EQ(steps, ref["greedy_logprobs"].size());
  for (size_t s = 0; s < steps; ++s) {
    const json& mine = ours["logprobs"][s];
    const json& theirs = ref["greedy_logprobs"][s];
    EXPECT_EQ(mine["top_ids"][0], theirs["top_ids"][0]) << "step " << s;
    for (size_t k = 0; k < theirs["top_logprobs"].size(); ++k) {
      EXPECT_NEAR(mine["top_logprobs"][k].get<double>(), theirs["top_logprobs"][k].get<double>(),
                  1e-4)
          << "step " << s << " rank " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(models, deepseek_golden,
                         ::testing::Values("deepseek_v3", "deepseek_v3_no_qlora", "deepseek_v32",
                                           "deepseek_v32_fp8"));

// A copy of the FP8 model whose config or tensors a test then spoils.
class spoiled_fp8 : public ::testing::Test {
protected:
  void SetUp() override {
    std::filesystem::copy(data_dir + "deepseek_v32_fp8", dir_.str("model"));
    ref_ = json::parse(testing::read_file(data_dir + "deepseek_v32_fp8/expected.json"));
  }

  void edit_config(const std::function<void(json&)>& edit) {
    json config = json::parse(testing::read_file(dir_.str("model/config.json")));
    edit(config);
    std::ofstream(dir_.str("model/config.json")) << config.dump(2);
  }

  // Rewrites model.safetensors through `edit`, which may drop or change tensors.
  void edit_tensors(const std::function<void(std::vector<tensor_to_write>&)>& edit) {
    const weight_store store = weight_store::open(dir_.str("model"));
    std::vector<tensor_to_write> tensors;
    for (const std::string& name : store.names()) {
      const tensor_view& t = *store.find(name);
      tensors.push_back({.name = name, .type = t.type, .shape = t.shape,
                         .bytes = std::span(t.data, t.num_bytes)});
    }
    edit(tensors);
    write_safetensors(dir_.str("model/edited.safetensors"), tensors, {});
    std::filesystem::rename(dir_.str("model/edited.safetensors"),
                            dir_.str("model/model.safetensors"));
  }

  // Runs generate on the spoiled copy: exit code 2 and a message holding `names`.
  void expect_refused(const std::string& names) {
    const auto r = generate(dir_.str("model"), ref_["prompt_ids"], dir_);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(testing::read_file(dir_.str("err")).find(names), std::string::npos)
        << testing::read_file(dir_.str("err"));
  }

  testing::temp_dir dir_;
  json ref_;
};

TEST_F(spoiled_fp8, another_quantization_method_is_refused_by_name) {
  edit_config([](json& c) { c["quantization_config"]["quant_method"] = "awq"; });
  expect_refused("\"awq\" is not supported");
}

TEST_F(spoiled_fp8, a_block_size_that_is_not_a_pair_is_refused) {
  edit_config([](json& c) { c["quantization_config"]["weight_block_size"] = {128}; });
  expect_refused("weight_block_size");
}

TEST_F(spoiled_fp8, fp8_weights_without_a_quantization_config_are_refused) {
  edit_config([](json& c) { c.erase("quantization_config"); });
  expect_refused("has no FP8 quantization_config");
}

TEST_F(spoiled_fp8, a_missing_scale_is_named) {
  const std::string scale = "model.layers.1.self_attn.kv_b_proj.weight_scale_inv";
  edit_tensors([&](std::vector<tensor_to_write>& t) {
    std::erase_if(t, [&](const tensor_to_write& x) { return x.name == scale; });
  });
  expect_refused(scale + "\" is missing");
}

TEST_F(spoiled_fp8, a_scale_of_the_wrong_shape_is_named) {
  const std::string scale = "model.layers.2.mlp.experts.3.down_proj.weight_scale_inv";
  edit_tensors([&](std::vector<tensor_to_write>& t) {
    for (tensor_to_write& x : t) {
      if (x.name == scale) {
        x.shape = {1, 2}; // [2, 1] in the checkpoint: same bytes, blocks transposed
      }
    }
  });
  expect_refused(scale);
}

TEST_F(spoiled_fp8, a_scale_that_is_not_finite_is_named) {
  const std::string scale = "model.layers.0.self_attn.o_proj.weight_scale_inv";
  std::vector<std::byte> nan_bytes;
  edit_tensors([&](std::vector<tensor_to_write>& t) {
    for (tensor_to_write& x : t) {
      if (x.name == scale) {
        nan_bytes.assign(x.bytes.begin(), x.bytes.end());
        const float nan = NAN;
        std::memcpy(nan_bytes.data(), &nan, sizeof nan);
        x.bytes = nan_bytes;
      }
    }
  });
  expect_refused(scale + "\" holds a scale that is negative or not finite");
}

TEST_F(spoiled_fp8, a_missing_expert_is_named) {
  const std::string expert = "model.layers.1.mlp.experts.5.up_proj.weight";
  edit_tensors([&](std::vector<tensor_to_write>& t) {
    std::erase_if(t, [&](const tensor_to_write& x) { return x.name == expert; });
  });
  expect_refused(expert);
}

TEST_F(spoiled_fp8, a_truncated_shard_is_refused) {
  const std::string path = dir_.str("model/model.safetensors");
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  expect_refused("model.safetensors");
}

TEST_F(spoiled_fp8, unsupported_routing_is_refused_by_name) {
  edit_config([](json& c) { c["topk_method"] = "greedy"; });
  expect_refused("topk_method");
}

TEST_F(spoiled_fp8, a_group_count_that_does_not_divide_the_experts_is_refused) {
  edit_config([](json& c) { c["n_group"] = 3; });
  expect_refused("n_group");
}

// A model init DeepSeek-V3.2, which writes the MTP layer after its two trunk layers as DeepSeek's
// checkpoints have it (save_pretrained drops it): loaded when whole, refused by name when not.
class spoiled_mtp : public spoiled_fp8 {
protected:
  void SetUp() override {
    init_random_model({.arch = model_arch::model_arch_deepseek_v32, .seed = 3,
                       .out_dir = dir_.str("model")});
    ref_ = {{"prompt_ids", {1, 5, 9}}};
  }
};

TEST_F(spoiled_mtp, a_whole_mtp_layer_loads) {
  const model_config config = load_model_config(dir_.str("model"));
  ASSERT_EQ(config.num_nextn_predict_layers, 1);
  EXPECT_TRUE(weight_store::open(dir_.str("model")).contains("model.layers.2.eh_proj.weight"));
  const auto r = generate(dir_.str("model"), ref_["prompt_ids"], dir_);
  EXPECT_EQ(r.exit_code, 0) << testing::read_file(dir_.str("err"));
}

TEST_F(spoiled_mtp, a_misshapen_mtp_tensor_is_named) {
  const std::string name = "model.layers.2.eh_proj.weight";
  edit_tensors([&](std::vector<tensor_to_write>& t) {
    for (tensor_to_write& x : t) {
      if (x.name == name) {
        x.shape = {x.shape[1], x.shape[0]};
      }
    }
  });
  expect_refused(name);
}

TEST_F(spoiled_mtp, a_missing_mtp_expert_is_named) {
  const std::string name = "model.layers.2.mlp.experts.6.down_proj.weight";
  edit_tensors([&](std::vector<tensor_to_write>& t) {
    std::erase_if(t, [&](const tensor_to_write& x) { return x.name == name; });
  });
  expect_refused(name);
}

} // namespace
} // namespace proofmesh::engine
