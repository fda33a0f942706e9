// The proofmesh CLI as users and tools call it: a real process, real files, exit codes.
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <filesystem>
#include <fstream>

namespace proofmesh {
namespace {

const std::string cli = std::string(PM_BUILD_DIR) + "/proofmesh";

class cli_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new testing::temp_dir();
    auto r = testing::run_command(cli + " model init --arch qwen3 --preset tiny --seed 3 --out " +
                                      dir_->str("m"),
                                  dir_->str("init.err"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  testing::command_result run(const std::string& args, const std::string& stdin_text = "") {
    std::string in_file = dir_->str("stdin.txt");
    std::ofstream(in_file, std::ios::binary) << stdin_text;
    return testing::run_command(cli + " " + args + " <" + in_file, dir_->str("err.txt"));
  }

  // A bad invocation: exit code 2 and exactly one line on stderr that mentions `needle`.
  void expect_usage_error(const std::string& args, const std::string& needle) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  // A copy of the model folder with one file replaced.
  std::string corrupt_copy(const std::string& name, const std::string& file,
                           const std::string& content) {
    std::string out = dir_->str(name);
    std::filesystem::copy(dir_->str("m"), out, std::filesystem::copy_options::recursive |
                                                   std::filesystem::copy_options::overwrite_existing);
    std::ofstream(out + "/" + file, std::ios::binary | std::ios::trunc) << content;
    return out;
  }

  static testing::temp_dir* dir_;
};

testing::temp_dir* cli_test::dir_ = nullptr;

TEST_F(cli_test, generate_json_prints_one_line_per_completion) {
  auto r = run("generate --model " + dir_->str("m") +
               " --prompt-ids 1,2,3,4 --temperature 0 --max-tokens 6 --logprobs 3 --n 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["ids"].size(), 6u);
    EXPECT_TRUE(j["text"].is_string());
    EXPECT_EQ(j["finish_reason"], "length");
    ASSERT_EQ(j["logprobs"].size(), 6u);
    EXPECT_EQ(j["logprobs"][0]["top_ids"].size(), 3u);
    EXPECT_EQ(j["logprobs"][0]["top_ids"][0], j["ids"][0]);
    EXPECT_LE(j["logprobs"][0]["top_logprobs"][0].get<double>(), 0.0);
    ++count;
  }
  EXPECT_EQ(count, 2);
}

// A scripted model writes its script, whatever the prompt and at any temperature, then stops;
// it is what the mesh's end-to-end tests run their roles on.
TEST_F(cli_test, a_scripted_model_writes_its_script_and_stops) {
  const std::string script = "</think>\nA rating, with \"quotes\" and \u00e9.\n\\boxed{0.5}";
  std::ofstream(dir_->str("script.txt"), std::ios::binary) << script;
  for (const char* arch : {"llama", "qwen2"}) {
    const std::string out = dir_->str(std::string("scripted-") + arch);
    auto made = run(std::string("model init --arch ") + arch + " --out " + out +
                    " --script-file " + dir_->str("script.txt"));
    ASSERT_EQ(made.exit_code, 0) << made.err;
    for (const char* prompt : {"Prove it.", "Something else entirely, longer than before."}) {
      auto r = run("generate --model " + out + " --prompt \"" + prompt +
                   "\" --temperature 1 --top-p 1 --seed 7 --max-tokens 16 --json");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      auto j = nlohmann::json::parse(r.out);
      EXPECT_EQ(j["text"], script) << arch << ": " << r.out;
      EXPECT_EQ(j["finish_reason"], "stop");
    }
  }
  expect_usage_error("model init --arch llama --out " + dir_->str("x") + " --script-file " +
                         dir_->str("no-such-file"),
                     "no-such-file");
}

// Several scripts: each completion writes one, drawn from its seed; greedy writes the first.
TEST_F(cli_test, a_model_of_several_scripts_draws_one_per_seed) {
  const std::vector<std::string> scripts = {"First answer. \\boxed{0}", "Second answer.",
                                            "Third, \u00e9. \\boxed{1}"};
  std::string files;
  for (size_t i = 0; i < scripts.size(); ++i) {
    const std::string file = dir_->str("answer-" + std::to_string(i) + ".txt");
    std::ofstream(file, std::ios::binary) << scripts[i];
    files += " --script-file " + file;
  }
  const std::string out = dir_->str("three-scripts");
  auto made = run("model init --arch llama --out " + out + files);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::set<std::string> seen;
  for (int seed = 1; seed <= 16; ++seed) {
    auto r = run("generate --model " + out + " --prompt 'Prove it.' --temperature 1 --seed " +
                 std::to_string(seed) + " --max-tokens 8 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string text = nlohmann::json::parse(r.out)["text"];
    EXPECT_NE(std::find(scripts.begin(), scripts.end(), text), scripts.end()) << text;
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), scripts.size()); // 16 draws of three: each came up
  auto greedy = run("generate --model " + out + " --prompt 'Prove it.' --temperature 0 --json");
  ASSERT_EQ(greedy.exit_code, 0) << greedy.err;
  EXPECT_EQ(nlohmann::json::parse(greedy.out)["text"], scripts[0]);
  expect_usage_error("model init --arch llama --out " + dir_->str("dup") + " --script-file " +
                         dir_->str("answer-0.txt") + " --script-file " + dir_->str("answer-0.txt"),
                     "another script");
}

TEST_F(cli_test, generate_streams_text_and_reports_speed) {
  auto r = run("generate --model " + dir_->str("m") +
               " --prompt 'Prove it.' --chat --max-tokens 5 --seed 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tokens/s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("TTFT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("loaded "), std::string::npos) << r.err;
}

TEST_F(cli_test, tokenize_and_decode_round_trip) {
  std::string text = "Let n ≥ 1 be 数学 👋🏽\r\n  ok";
  std::string tok = dir_->str("m") + "/tokenizer.json";
  auto enc = run("tokenize --tokenizer " + tok + " --json", text);
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  auto ids = nlohmann::json::parse(enc.out)["ids"];
  EXPECT_GT(ids.size(), 5u);
  auto dec = run("tokenize --tokenizer " + tok + " --decode --json", enc.out);
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  EXPECT_EQ(nlohmann::json::parse(dec.out)["text"], text);
}

TEST_F(cli_test, bad_flags_and_values_exit_2_with_one_line) {
  std::string m = " --model " + dir_->str("m");
  expect_usage_error("generate --prompt-ids 1" , "--model");
  expect_usage_error("generate" + m + " --prompt-ids 1 --bogus", "bogus");
  expect_usage_error("generate" + m + " --prompt-ids 1 --temperature -1", "--temperature");
  expect_usage_error("generate" + m + " --prompt-ids 1 --top-p 0", "--top-p");
  expect_usage_error("generate" + m + " --prompt-ids 1,x", "--prompt-ids");
  expect_usage_error("generate" + m + " --prompt-ids 999999", "vocabulary");
  expect_usage_error("generate" + m, "--prompt");
  expect_usage_error("generate --model /nonexistent --prompt-ids 1", "/nonexistent");
  expect_usage_error("model init --arch gpt2 --out " + dir_->str("x"), "--arch");
  expect_usage_error("tokenize --tokenizer /nonexistent.json", "/nonexistent.json");
  expect_usage_error("frobnicate", "frobnicate");
  expect_usage_error("generate" + m + " --prompt-ids 1 --backend tpu", "--backend");
  expect_usage_error("generate" + m + " --prompt-ids 1 --dtype int4", "--dtype");
  expect_usage_error("generate" + m + " --prompt-ids 1 --kv-cache-dtype fp4", "--kv-cache-dtype");
  // Known before a weight loads: an FP8 cache computes in bf16 (the test model is float32).
  expect_usage_error("generate" + m + " --prompt-ids 1 --backend cuda --kv-cache-dtype fp8",
                     "--kv-cache-dtype fp8");
  expect_usage_error("generate" + m + " --prompt-ids 1 --kv-memory-fraction 0.99",
                     "--kv-memory-fraction");
  expect_usage_error("generate" + m + " --prompt-ids 1 --kv-memory-fraction 0",
                     "--kv-memory-fraction");
  // The engine flags every way in shares, checked before any model loads.
  expect_usage_error("generate" + m + " --prompt-ids 1 --block-size 0", "--block-size");
  expect_usage_error("generate" + m + " --prompt-ids 1 --max-running 0", "--max-running");
  expect_usage_error("generate" + m + " --prompt-ids 1 --max-step-tokens 0", "--max-step-tokens");
  // up checks what its workers would refuse before starting anything.
  expect_usage_error("up" + m + " --workers 1 --slots 2", "--slots");
  expect_usage_error("up" + m + " --workers 65", "[0, 64]");
  expect_usage_error("up" + m + " --block-size 0", "--block-size");
}

TEST_F(cli_test, cuda_backend_runs_or_says_why_not) {
  // On a machine with a GPU this generates; without one it must refuse cleanly, naming cuda.
  auto r = run("generate --model " + dir_->str("m") +
               " --prompt-ids 1,2,3 --temperature 0 --max-tokens 4 --backend cuda --json");
  if (r.exit_code == 0) {
    EXPECT_EQ(nlohmann::json::parse(r.out)["ids"].size(), 4u);
  } else {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--backend cuda"), std::string::npos) << r.err;
  }
}

TEST_F(cli_test, corrupt_model_files_exit_2_with_one_line) {
  std::string ids = " --prompt-ids 1,2 --max-tokens 2";
  expect_usage_error("generate --model " + corrupt_copy("c1", "model.safetensors", "garbage") + ids,
                     "model.safetensors");
  expect_usage_error(
      "generate --model " +
          corrupt_copy("c2", "model.safetensors", std::string("\xff\xff\xff\xff\0\0\0\0{}", 10)) + ids,
      "model.safetensors");
  expect_usage_error("generate --model " + corrupt_copy("c3", "config.json", "{\"model_type\": 3") +
                         ids,
                     "config.json");
  expect_usage_error("generate --model " +
                         corrupt_copy("c4", "config.json",
                                      R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 8,
                                          "intermediate_size": 8, "num_hidden_layers": 1,
                                          "num_attention_heads": 2})") +
                         ids,
                     "embed_tokens");
  expect_usage_error("generate --model " + corrupt_copy("c5", "tokenizer.json", "{\"model\": []}") +
                         ids,
                     "tokenizer");
}

} // namespace
} // namespace proofmesh
