// bench/engine: the CUDA runner and the continuous-batching engine on random-weight models of
// real shapes, in bf16. Prints one JSON line per case for bench/engine/run.sh, which sets them
// beside the peer's figures from the same run.
// Usage: engine_bench MODEL [CASE...]
//        (CASE: decode, decode_long, fanout, offline, offline_fp8; default all)
// Cases (MODEL is llama-3.2-1b or llama-3-8b):
//   decode      bs 1, 64, 256: 128-token prompts prefilled untimed, then 128 decode steps timed,
//               each sampling on the device (temperature 1.0, top-p 0.95, as the reference
//               pipeline) and bringing the tokens to the host; the same at bs 1 with CUDA graphs
//               off (decode_eager, 1B only), to show what the graphs are worth, and greedy at bs 1
//               (decode_greedy), to show what top-p sampling costs.
//   decode_long bs 16 over 32,768-token contexts (a distinct prompt each, prefilled untimed in
//               8,192-token chunks), 64 decode steps timed: the long-proof case, against the
//               roofline of the weights plus every sequence's KV read once a step.
//   offline     256 requests of 128 random tokens in, 2,048 out (no stop), through batch_engine;
//               tokens/s of the whole run, and TTFT and TPOT medians per request.
//   offline_fp8 the same with --kv-cache-dtype fp8: the cache holds twice the tokens, so more of
//               the 256 run at once, and each decode step reads half the bytes.
//   fanout      64 samples of one 4,096-token prompt through batch_engine, until each has its
//               first token, against one request of another 4,096-token prompt alone.
#include "actors/engine/runtime/engine_config.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"
#include "bench/engine/bench_model.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace pe = proofmesh::engine;
namespace pb = proofmesh::bench;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) {
    return 0;
  }
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

std::vector<int32_t> prompt_tokens(int64_t length, uint64_t salt) {
  std::vector<int32_t> p(static_cast<size_t>(length));
  for (size_t t = 0; t < p.size(); ++t) {
    p[t] = static_cast<int32_t>((salt * 7919 + t * 104729 + salt * t) % 128000);
  }
  return p;
}

void decode_case(pe::model_runner& runner, const std::string& model, const char* name, int bs,
                 float temperature = 1.0f, int prompt_len = 128, int steps = 128) {
  const pe::model_config& c = runner.config();
  constexpr int prefill_tokens = 8192; // a prefill call's most tokens: bounds its activations
  std::vector<pe::sequence_id> seqs;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<pe::runner_item> items;
  for (int b = 0; b < bs; ++b) {
    prompts.push_back(prompt_tokens(prompt_len, static_cast<uint64_t>(b)));
  }
  for (int b = 0; b < bs; ++b) {
    seqs.push_back(runner.create_sequence());
  }
  // Prefill, untimed: short prompts many to a call, long ones in chunks (every chunk but the
  // last fills a call, so a sequence never has two pieces in one call).
  int in_call = 0;
  auto flush = [&] {
    if (!items.empty()) {
      runner.forward(items);
    }
    items.clear();
    in_call = 0;
  };
  for (int b = 0; b < bs; ++b) {
    for (int at = 0; at < prompt_len; at += prefill_tokens) {
      const int n = std::min(prefill_tokens, prompt_len - at);
      if (in_call + n > prefill_tokens) {
        flush();
      }
      items.push_back({.seq = seqs[static_cast<size_t>(b)],
                       .tokens = std::span(prompts[static_cast<size_t>(b)]).subspan(
                           static_cast<size_t>(at), static_cast<size_t>(n))});
      in_call += n;
    }
  }
  flush();
  std::vector<int32_t> next(static_cast<size_t>(bs), 42);
  std::vector<pe::sample_spec> specs(static_cast<size_t>(bs),
                                     {.params = {.temperature = temperature, .top_p = 0.95f}});
  auto run_steps = [&](int n) {
    for (int s = 0; s < n; ++s) {
      items.clear();
      for (int b = 0; b < bs; ++b) {
        items.push_back({.seq = seqs[static_cast<size_t>(b)],
                         .tokens = std::span(&next[static_cast<size_t>(b)], 1)});
        specs[static_cast<size_t>(b)].step = static_cast<uint64_t>(s);
      }
      auto picked = runner.forward_sample(items, specs);
      for (int b = 0; b < bs; ++b) {
        next[static_cast<size_t>(b)] = picked[static_cast<size_t>(b)].token;
      }
    }
  };
  run_steps(4); // warm-up: GEMM plans, graph capture, scratch growth
  auto t0 = clock_type::now();
  run_steps(steps);
  double sec = seconds_since(t0);
  double roofline = bs * pb::h200_bandwidth /
                    (pb::weight_bytes(c) + pb::kv_bytes(c, (prompt_len + 4 + steps / 2.0) * bs));
  std::printf("{\"engine\": \"proofmesh\", \"model\": \"%s\", \"case\": \"%s\", \"bs\": %d, "
              "\"ctx\": %d, \"tok_s\": %.1f, \"tpot_ms\": %.3f, \"roofline_tok_s\": %.1f}\n",
              model.c_str(), name, bs, prompt_len, bs * steps / sec, 1e3 * sec / steps, roofline);
  std::fflush(stdout);
  for (auto s : seqs) {
    runner.release_sequence(s);
  }
}

// The engine every case runs: the defaults of engine_config, in bf16 on the GPU.
const pe::engine_config bench_engine{.backend = pe::engine_backend::engine_backend_cuda,
                                     .dtype = pe::engine_dtype::engine_dtype_bf16,
                                     .kv_memory_fraction = 0.85};

// Runs the engine until idle; returns per request the times of its first and last token.
struct request_times {
  double first = -1, last = -1;
  int64_t tokens = 0;
};
std::map<pe::request_id, request_times> drain(pe::batch_engine& engine,
                                              clock_type::time_point t0) {
  std::map<pe::request_id, request_times> times;
  while (!engine.idle()) {
    for (const pe::engine_event& e : engine.step()) {
      request_times& t = times[e.id];
      const double now = seconds_since(t0);
      if (t.first < 0) {
        t.first = now;
      }
      t.last = now;
      ++t.tokens;
    }
  }
  return times;
}

void offline_case(pe::model_runner& runner, const std::string& model, const char* name) {
  const int requests = 256, in = 128, out = 2048;
  const int64_t blocks = runner.stats().free_kv_blocks; // what the cache holds, all free now
  pe::batch_engine engine(runner, nullptr, pe::scheduler_config_for(bench_engine));
  for (int r = 0; r < requests; ++r) {
    engine.submit({.prompt = prompt_tokens(in, 1000 + static_cast<uint64_t>(r)),
                   .max_tokens = out,
                   .sampling = {.temperature = 1.0f, .top_p = 0.95f, .seed = 1},
                   .stream = static_cast<uint64_t>(r)});
  }
  auto t0 = clock_type::now();
  auto times = drain(engine, t0);
  double sec = seconds_since(t0);
  std::vector<double> ttft, tpot;
  int64_t generated = 0;
  for (const auto& [id, t] : times) {
    ttft.push_back(1e3 * t.first);
    if (t.tokens > 1) {
      tpot.push_back(1e3 * (t.last - t.first) / static_cast<double>(t.tokens - 1));
    }
    generated += t.tokens;
  }
  std::printf("{\"engine\": \"proofmesh\", \"model\": \"%s\", \"case\": \"%s\", \"bs\": %d, "
              "\"in\": %d, \"out\": %d, \"tok_s\": %.1f, \"ttft_ms_p50\": %.1f, "
              "\"tpot_ms_p50\": %.3f, \"preemptions\": %lld, \"kv_blocks\": %lld}\n",
              model.c_str(), name, requests, in, out, static_cast<double>(generated) / sec,
              median(ttft), median(tpot),
              static_cast<long long>(engine.planner().num_preemptions()),
              static_cast<long long>(blocks));
  std::fflush(stdout);
}

double prefill_seconds(pe::model_runner& runner, const std::vector<int32_t>& prompt, int samples,
                       int64_t* computed = nullptr) {
  pe::batch_engine engine(runner, nullptr, pe::scheduler_config_for(bench_engine));
  for (int s = 0; s < samples; ++s) {
    engine.submit({.prompt = prompt, .max_tokens = 1,
                   .sampling = {.temperature = 1.0f, .top_p = 0.95f, .seed = 1},
                   .stream = static_cast<uint64_t>(s)});
  }
  auto t0 = clock_type::now();
  drain(engine, t0);
  const double sec = seconds_since(t0);
  if (computed != nullptr) {
    *computed = engine.num_computed_tokens();
  }
  return sec;
}

void fanout_case(pe::model_runner& runner, const std::string& model) {
  const int samples = 64, length = 4096;
  // Warm-up at both batch shapes, on other prompts: the fan-out's 64-row decode-sized steps
  // (logits at m = 64 over the whole vocabulary) meet cuBLASLt's heuristic and a lazy module
  // load the first time, about 50 ms that belongs to start-up, not to the fan-out.
  prefill_seconds(runner, prompt_tokens(length, 7), 1);
  prefill_seconds(runner, prompt_tokens(length, 6), samples);
  const double one = prefill_seconds(runner, prompt_tokens(length, 8), 1);
  int64_t computed = 0;
  const double fan = prefill_seconds(runner, prompt_tokens(length, 9), samples, &computed);
  std::printf("{\"engine\": \"proofmesh\", \"model\": \"%s\", \"case\": \"fanout\", "
              "\"bs\": %d, \"prompt\": %d, \"one_prefill_ms\": %.2f, \"fanout_prefill_ms\": %.2f, "
              "\"ratio\": %.3f, \"computed_tokens\": %lld}\n",
              model.c_str(), samples, length, 1e3 * one, 1e3 * fan, fan / one,
              static_cast<long long>(computed));
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  std::string model = argc > 1 ? argv[1] : "llama-3.2-1b";
  // Cases named after the model run alone (decode, fanout, offline); none named: all of them.
  std::vector<std::string> only(argv + std::min(argc, 2), argv + argc);
  auto wanted = [&](const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };
  pe::model_config c = pb::bench_shape(model);
  const pb::random_weights w;
  if (c.num_hidden_layers <= 16 && wanted("decode")) { // the graphs' worth shows best on the
                                   // small model; the 8B upload would cost the device budget twice
    pe::engine_config eager_engine = bench_engine;
    eager_engine.kv_memory_fraction = 0.1;
    eager_engine.cuda_graphs = false;
    auto eager = pe::make_runner(eager_engine, c, w);
    decode_case(*eager, model, "decode_eager", 1);
  }
  auto runner = pe::make_runner(bench_engine, c, w);
  if (wanted("decode")) {
    for (int bs : {1, 64, 256}) {
      decode_case(*runner, model, "decode", bs);
    }
    decode_case(*runner, model, "decode_greedy", 1, 0.0f); // the sampler's share: argmax only
  }
  if (wanted("decode_long")) {
    decode_case(*runner, model, "decode_long", 16, 1.0f, 32768, 64);
  }
  if (wanted("fanout")) {
    fanout_case(*runner, model);
  }
  if (wanted("offline")) {
    offline_case(*runner, model, "offline");
  }
  if (wanted("offline_fp8")) {
    runner.reset(); // the bf16 cache's memory goes back before the FP8 runner sizes its own
    pe::engine_config fp8_engine = bench_engine;
    fp8_engine.kv_dtype = pe::kv_cache_dtype::kv_cache_dtype_fp8;
    offline_case(*pe::make_runner(fp8_engine, c, w), model, "offline_fp8");
  }
  return 0;
}
