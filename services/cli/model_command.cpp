// `proofmesh model init`: a random-weight model in Hugging Face format.
#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"
#include "actors/engine/model/model_init.hpp"
#include "services/cli/command.hpp"

#include <iostream>
#include <memory>

namespace proofmesh::cli {

namespace {

struct init_flags {
  std::string arch;
  std::string preset = "tiny";
  uint64_t seed = 0;
  std::string out;
  std::string dtype = "float32";
  std::vector<std::string> script_files;
};

} // namespace

command_fn add_model_command(CLI::App& app) {
  auto flags = std::make_shared<init_flags>();
  auto* init = app.add_subcommand("init", "write a random-weight model (config, weights, tokenizer)");
  init->add_option("--arch", flags->arch, "llama, qwen2, qwen3, deepseek_v3 or deepseek_v32")
      ->required();
  init->add_option("--preset", flags->preset, "tiny or small");
  init->add_option("--seed", flags->seed, "seed for the weights");
  init->add_option("--out", flags->out, "output folder")->required();
  init->add_option("--dtype", flags->dtype, "float32 or bfloat16");
  init->add_option("--script-file", flags->script_files,
                   "a scripted model instead: it always writes this file's text (for tests and "
                   "the demo); given several times, one of the files, drawn from each "
                   "completion's seed");
  return [flags] {
    auto arch = engine::parse_model_arch(flags->arch);
    if (!arch) {
      throw input_error("--arch must be llama, qwen2, qwen3, deepseek_v3 or deepseek_v32, got \"" +
                        flags->arch + "\"");
    }
    auto preset = engine::parse_model_preset(flags->preset);
    if (!preset) {
      throw input_error("--preset must be tiny or small, got \"" + flags->preset + "\"");
    }
    if (flags->dtype != "float32" && flags->dtype != "bfloat16") {
      throw input_error("--dtype must be float32 or bfloat16, got \"" + flags->dtype + "\"");
    }
    if (flags->script_files.size() > 64) throw input_error("at most 64 --script-file");
    std::vector<std::string> scripts;
    for (const std::string& file : flags->script_files) {
      scripts.push_back(read_text_file(file, size_t{64} << 10));
      if (scripts.back().empty()) throw input_error("--script-file " + file + " is empty");
    }
    engine::init_random_model({.arch = *arch,
                               .preset = *preset,
                               .seed = flags->seed,
                               .bf16 = flags->dtype == "bfloat16",
                               .out_dir = flags->out,
                               .scripts = scripts});
    std::cerr << "wrote a " << (scripts.empty() ? "random-weight " : "scripted ") << flags->arch << " model (" << flags->preset << ", "
              << flags->dtype << ", seed " << flags->seed << ") to " << flags->out << "\n";
    return 0;
  };
}

} // namespace proofmesh::cli
