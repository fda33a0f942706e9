// `proofmesh generate`: load a model folder and generate, streaming to the terminal or printing
// one JSON line per completion. Rules of the road: every flag is checked before the model loads,
// so a typo costs no load time; the JSON form is a stable interface that tests and tools parse.
#include "actors/common/error.hpp"
#include "actors/engine/chat/chat_format.hpp"
#include "actors/engine/generation/generation.hpp"
#include "actors/engine/model/model_config.hpp"
#include "actors/engine/runtime/engine_config.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "services/cli/command.hpp"
#include "services/common/engine_flags.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace proofmesh::cli {

namespace {

struct generate_flags {
  std::string model;
  std::string prompt;
  std::string prompt_ids;
  bool chat = false;
  std::string chat_format;
  bool thinking = false;
  std::string system;
  int32_t max_tokens = 16;
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  uint64_t seed = 0;
  int32_t n = 1;
  std::vector<std::string> stop;
  int32_t logprobs = 0;
  bool json = false;
  bool ignore_eos = false;
  services::engine_flags engine;
};

std::vector<int32_t> parse_id_list(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.empty() || item.size() > 10 || item.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(item) > INT32_MAX) {
      throw input_error("--prompt-ids must be comma-separated non-negative integers, got \"" +
                        item + "\"");
    }
    ids.push_back(static_cast<int32_t>(std::stoll(item)));
    if (comma == std::string::npos) {
      break;
    }
    pos = comma + 1;
  }
  return ids;
}

void check_flags(const generate_flags& f, bool has_prompt, bool has_ids) {
  if (has_prompt == has_ids) {
    throw input_error("give exactly one of --prompt and --prompt-ids");
  }
  if (f.chat && has_ids) {
    throw input_error("--chat needs --prompt text, not --prompt-ids");
  }
  if (!(f.temperature >= 0.0f && f.temperature <= 100.0f)) {
    throw input_error("--temperature must be in [0, 100]");
  }
  if (!(f.top_p > 0.0f && f.top_p <= 1.0f)) {
    throw input_error("--top-p must be in (0, 1]");
  }
  if (f.top_k < 0) {
    throw input_error("--top-k must be >= 0");
  }
  if (f.n < 1 || f.n > 1024) {
    throw input_error("--n must be in [1, 1024]");
  }
  if (f.max_tokens < 0 || f.max_tokens > (1 << 20)) {
    throw input_error("--max-tokens must be in [0, 1048576]");
  }
  if (f.logprobs < 0 || f.logprobs > 100) {
    throw input_error("--logprobs must be in [0, 100]");
  }
  if (f.stop.size() > 16) {
    throw input_error("at most 16 --stop strings");
  }
  for (const auto& s : f.stop) {
    if (s.empty() || s.size() > 256) {
      throw input_error("--stop strings must be 1 to 256 bytes");
    }
  }
  if (!std::filesystem::is_directory(f.model)) {
    throw input_error("--model " + f.model + ": not a folder");
  }
}

// The process's peak resident memory (VmHWM), in bytes; 0 where /proc does not say. A load
// streams the weights through, so this stays far below the checkpoint's size.
int64_t peak_host_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::stoll(line.substr(6)) * 1024; // "VmHWM:   123456 kB"
    }
  }
  return 0;
}

nlohmann::ordered_json completion_json(const engine::completion& c) {
  nlohmann::ordered_json lp = nlohmann::ordered_json::array();
  for (const auto& step : c.logprobs) {
    lp.push_back({{"top_ids", step.top_ids}, {"top_logprobs", step.top_logprobs}});
  }
  return {{"ids", c.ids},
          {"text", c.text},
          {"finish_reason", engine::finish_reason_name(c.finish)},
          {"logprobs", lp}};
}

// The prompt as ids: given, or the text encoded (in the model's chat format with --chat).
std::vector<int32_t> prompt_of(const generate_flags& f, bool ids_given,
                               const std::optional<engine::tokenizer>& tok) {
  if (ids_given) return parse_id_list(f.prompt_ids);
  if (!f.chat) return tok->encode(f.prompt, true);
  std::optional<engine::chat_format> format;
  if (!f.chat_format.empty()) {
    format = engine::parse_chat_format(f.chat_format);
    if (!format) {
      throw input_error("--chat-format must be deepseek_v3, deepseek_v32, chatml or llama3");
    }
  } else {
    format = engine::detect_chat_format(f.model, *tok);
  }
  std::vector<engine::chat_message> messages;
  if (!f.system.empty()) messages.push_back({"system", f.system});
  messages.push_back({"user", f.prompt});
  return tok->encode(engine::render_chat(*format, messages, f.thinking), false);
}

// The completions as the flags ask: JSON lines, or text (streamed already when there is one),
// then the run's figures on stderr.
void print_results(const generate_flags& f, bool streamed,
                   const std::vector<engine::completion>& results,
                   const engine::model_runner& model, size_t prompt_tokens,
                   const engine::generate_timing& timing) {
  size_t generated = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    generated += results[i].ids.size();
    if (f.json) {
      std::cout << completion_json(results[i]).dump(-1, ' ', false,
                                                    nlohmann::json::error_handler_t::replace)
                << "\n";
    } else if (!streamed) {
      std::cout << "--- completion " << i << " (" << engine::finish_reason_name(results[i].finish)
                << ") ---\n"
                << results[i].text << "\n";
    }
  }
  if (f.json) return;
  std::cout << "\n";
  const engine::runner_stats load = model.stats();
  const double seconds = timing.seconds;
  std::fprintf(stderr,
               "[loaded %.2f GB in %.2f s (%.2f GB/s), peak host memory %.2f GB; %zu prompt "
               "tokens, %zu generated in %.2f s: %.1f tokens/s; TTFT %.1f ms]\n",
               static_cast<double>(load.loaded_bytes) / 1e9, load.load_seconds,
               load.load_seconds > 0
                   ? static_cast<double>(load.loaded_bytes) / 1e9 / load.load_seconds
                   : 0.0,
               static_cast<double>(peak_host_bytes()) / 1e9, prompt_tokens, generated, seconds,
               seconds > 0 ? static_cast<double>(generated) / seconds : 0.0,
               1e3 * timing.first_token_seconds);
}

} // namespace

command_fn add_generate_command(CLI::App& app) {
  auto f = std::make_shared<generate_flags>();
  app.add_option("--model", f->model, "model folder (config.json, *.safetensors, tokenizer.json)")
      ->required();
  auto* prompt = app.add_option("--prompt", f->prompt, "prompt text");
  auto* ids = app.add_option("--prompt-ids", f->prompt_ids, "prompt token ids, e.g. 1,2,3");
  app.add_flag("--chat", f->chat, "wrap --prompt as a user message in the model's chat format");
  app.add_option("--chat-format", f->chat_format,
                 "deepseek_v3, deepseek_v32, chatml or llama3 (default: detect)");
  app.add_flag("--thinking", f->thinking,
               "open the reply with <think> (deepseek_v32; its template's default is off)");
  app.add_option("--system", f->system, "system message for --chat");
  app.add_option("--max-tokens", f->max_tokens, "new tokens per completion");
  app.add_option("--temperature", f->temperature, "0 for greedy");
  app.add_option("--top-p", f->top_p, "nucleus sampling mass");
  app.add_option("--top-k", f->top_k, "keep the k most likely tokens (0: all)");
  app.add_option("--seed", f->seed, "sampling seed; the same seed reproduces the run");
  app.add_option("--n", f->n, "completions of the prompt");
  app.add_option("--stop", f->stop, "stop string (repeatable)");
  app.add_option("--logprobs", f->logprobs, "top-k logprobs per generated token");
  app.add_flag("--json", f->json, "one JSON line per completion");
  app.add_flag("--ignore-eos", f->ignore_eos, "keep generating past the model's eos tokens");
  services::add_engine_flags(app, f->engine);
  return [f, prompt, ids] {
    check_flags(*f, prompt->count() > 0, ids->count() > 0);
    const engine::engine_config engine_config = f->engine.resolve();
    // A folder without tokenizer.json still serves --prompt-ids; completions then carry ids only.
    std::optional<engine::tokenizer> tok;
    auto tok_path = std::filesystem::path(f->model) / "tokenizer.json";
    if (std::filesystem::exists(tok_path) || ids->count() == 0) {
      tok = engine::tokenizer::from_file(tok_path.string());
    } else {
      std::cerr << "proofmesh: note: " << tok_path.string() << " not found; printing ids only\n";
    }
    engine::generate_request request{.prompt = prompt_of(*f, ids->count() > 0, tok)};
    engine::model_config config = engine::load_model_config(f->model);
    auto store = engine::weight_store::open(f->model);
    std::unique_ptr<engine::model_runner> model = engine::make_runner(engine_config, config, store);
    request.n = f->n;
    request.max_tokens = f->max_tokens;
    request.sampling = {.temperature = f->temperature, .top_p = f->top_p, .top_k = f->top_k,
                        .seed = f->seed, .num_logprobs = f->logprobs};
    request.stop_strings = f->stop;
    if (!f->ignore_eos) {
      for (int64_t id : config.eos_token_ids) request.stop_ids.push_back(static_cast<int32_t>(id));
    }
    // Stream the single completion live; with --n > 1 the completions print when done.
    const bool stream = !f->json && f->n == 1;
    engine::generate_timing timing;
    auto results = engine::generate(
        *model, tok ? &*tok : nullptr, request,
        [&](int32_t, std::string_view text) {
          if (stream) std::cout << text << std::flush;
        },
        engine::scheduler_config_for(engine_config), &timing);
    print_results(*f, stream, results, *model, request.prompt.size(), timing);
    return 0;
  };
}

} // namespace proofmesh::cli
