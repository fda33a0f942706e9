// bench/engine's DeepSeek-V3.2 cases: the CUDA runner on a truncated model of the real widths
// (two dense and two MoE layers, FP8 checkpoint dequantised to bf16 on load) that
// tests/golden/deepseek_real_width.py writes, beside transformers on the same weights
// (bench/engine/peer_deepseek.py) in one run. One JSON line per case; bench/engine/run_deepseek.sh
// prints the table. Nothing is asserted. `PM_OP_TIMES=1 deepseek_bench DIR quick` prints where
// the time of the prefill and the bs=1 decode goes, op by op (actors/engine/cuda/op_timer.hpp).
// Cases:
//   prefill   one 8,192-token prompt (after a 512-token warm-up), time to its first logits;
//   decode    bs 1, 64 and 256 at 4K and 32K context: one prompt of the context prefilled
//             (untimed), forked bs times (the forks share its KV blocks, so at bs > 1 the cache
//             reads come partly from L2: the figure is optimistic by up to the KV share of the
//             roofline), then greedy decode steps with sampling on the device, timed.
// The decode roofline is the bytes one step must read at 4.3 TB/s: every dense weight, the experts
// the batch's tokens can touch on average, in bf16 as we hold them, plus each sequence's latent
// and indexer keys. Prefill's is its FLOPs (the active weights' GEMMs, MLA absorbed over at most
// index_topk keys, the indexer over every key) at 800 TFLOP/s, the bf16 GEMM rate DESIGN.md
// records for this machine (790-880 at 8192^3).
#include "actors/engine/runtime/engine_config.hpp"
#include "actors/engine/weights/weight_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace pe = proofmesh::engine;

namespace {

using clock_type = std::chrono::steady_clock;
constexpr double h200_bandwidth = 4.3e12;
constexpr double h200_bf16_flops = 8.0e14;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::vector<int32_t> prompt_tokens(int64_t length, uint64_t salt) {
  std::vector<int32_t> p(static_cast<size_t>(length));
  for (size_t t = 0; t < p.size(); ++t) {
    p[t] = static_cast<int32_t>((salt * 7919 + t * 104729 + salt * t) % 128000);
  }
  return p;
}

// Parameters a decode step reads: everything but the routed experts, plus the experts that
// bs tokens choosing 8 of 256 touch on average.
double step_bytes(const pe::model_config& c, int bs, double context) {
  const pe::mla_config& m = c.mla;
  const double h = static_cast<double>(c.hidden_size), heads = static_cast<double>(c.num_attention_heads);
  const double attention = h * m.q_lora_rank + m.q_lora_rank * heads * m.qk_head_dim() +
                           h * (m.kv_lora_rank + m.qk_rope_head_dim) +
                           m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim) +
                           heads * m.v_head_dim * h +
                           m.q_lora_rank * c.indexer.n_heads * c.indexer.head_dim +
                           h * c.indexer.head_dim + h * c.indexer.n_heads;
  const double expert = 3.0 * h * static_cast<double>(c.moe.moe_intermediate_size);
  const double experts = static_cast<double>(c.moe.n_routed_experts);
  const double touched =
      experts * (1.0 - std::pow(1.0 - static_cast<double>(c.moe.num_experts_per_tok) / experts, bs));
  double params = 2.0 * h * static_cast<double>(c.vocab_size); // embedding row + lm_head
  for (bool moe : c.moe.moe_layers) {
    params += attention + (moe ? expert * (touched + static_cast<double>(c.moe.n_shared_experts))
                               : 3.0 * h * static_cast<double>(c.intermediate_size));
  }
  const double kv = static_cast<double>(c.num_hidden_layers) *
                    (m.kv_lora_rank + m.qk_rope_head_dim + c.indexer.head_dim) * 2.0;
  return 2.0 * params + kv * context * bs;
}

// FLOPs of prefilling `tokens` from position 0.
double prefill_flops(const pe::model_config& c, int64_t tokens) {
  const pe::mla_config& m = c.mla;
  const double h = static_cast<double>(c.hidden_size), heads = static_cast<double>(c.num_attention_heads);
  const double attention = h * m.q_lora_rank + m.q_lora_rank * heads * m.qk_head_dim() +
                           h * (m.kv_lora_rank + m.qk_rope_head_dim) + heads * m.v_head_dim * h +
                           m.q_lora_rank * c.indexer.n_heads * c.indexer.head_dim +
                           h * c.indexer.head_dim + h * c.indexer.n_heads;
  const double expert = 3.0 * h * static_cast<double>(c.moe.moe_intermediate_size);
  double flops = 0;
  for (bool moe : c.moe.moe_layers) {
    const double mlp = moe ? expert * static_cast<double>(c.moe.num_experts_per_tok + c.moe.n_shared_experts)
                           : 3.0 * h * static_cast<double>(c.intermediate_size);
    flops += 2.0 * static_cast<double>(tokens) * (attention + mlp);
    for (int64_t t = 0; t < tokens; ++t) {
      const double keys = static_cast<double>(std::min<int64_t>(t + 1, c.indexer.topk));
      flops += heads * 2.0 * (m.qk_nope_head_dim * m.kv_lora_rank + m.v_head_dim * m.kv_lora_rank +
                              2.0 * (m.kv_lora_rank + m.qk_rope_head_dim) * keys) +
               2.0 * c.indexer.n_heads * c.indexer.head_dim * static_cast<double>(t + 1);
    }
  }
  return flops + 2.0 * h * static_cast<double>(c.vocab_size);
}

void line(const char* name, int bs, int64_t context, double seconds, int64_t tokens,
          double roofline_seconds) {
  std::printf("{\"engine\": \"proofmesh\", \"model\": \"deepseek-v3.2-4l\", \"case\": \"%s\", "
              "\"bs\": %d, \"context\": %lld, \"seconds\": %.4f, \"tok_s\": %.1f, "
              "\"roofline_tok_s\": %.1f}\n",
              name, bs, static_cast<long long>(context), seconds, tokens / seconds,
              tokens / roofline_seconds);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: deepseek_bench MODEL_DIR [quick]\n");
    return 2;
  }
  const std::string dir = argv[1];
  // quick: the prefill and bs 1 at 4K only, for a profiler's run.
  const bool quick = argc > 2 && std::string(argv[2]) == "quick";
  const pe::model_config c = pe::load_model_config(dir);
  const pe::weight_store weights = pe::weight_store::open(dir);
  const auto t_load = clock_type::now();
  auto runner = pe::make_runner({.backend = pe::engine_backend::engine_backend_cuda,
                                 .dtype = pe::engine_dtype::engine_dtype_bf16,
                                 .kv_memory_fraction = 0.6},
                                c, weights);
  std::fprintf(stderr, "loaded in %.1f s\n", seconds_since(t_load));

  {
    const std::vector<int32_t> warm = prompt_tokens(512, 1);
    pe::runner_item w{.seq = runner->create_sequence(), .tokens = warm};
    runner->forward(std::span(&w, 1));
    runner->release_sequence(w.seq);
    const std::vector<int32_t> prompt = prompt_tokens(8192, 2);
    pe::runner_item p{.seq = runner->create_sequence(), .tokens = prompt};
    const auto t0 = clock_type::now();
    runner->forward(std::span(&p, 1));
    line("prefill", 1, 8192, seconds_since(t0), 8192, prefill_flops(c, 8192) / h200_bf16_flops);
    runner->release_sequence(p.seq);
  }

  for (int64_t context : {int64_t{4096}, int64_t{32768}}) {
    if (quick && context > 4096) {
      break;
    }
    const std::vector<int32_t> prompt = prompt_tokens(context, 3);
    const pe::sequence_id root = runner->create_sequence();
    // Prefill in 8K chunks, as the engine's step budget would.
    for (int64_t at = 0; at < context; at += 8192) {
      const int64_t n = std::min<int64_t>(8192, context - at);
      pe::runner_item chunk{.seq = root,
                            .tokens = std::span(prompt).subspan(static_cast<size_t>(at),
                                                                static_cast<size_t>(n))};
      runner->forward(std::span(&chunk, 1));
    }
    for (int bs : {1, 64, 256}) {
      if (quick && bs > 1) {
        break;
      }
      const int steps = context > 8192 ? 4 : 8;
      std::vector<pe::sequence_id> seqs;
      for (int b = 0; b < bs; ++b) {
        seqs.push_back(*runner->fork_prefix(root, context));
      }
      std::vector<int32_t> next(static_cast<size_t>(bs), 42);
      std::vector<pe::sample_spec> specs(static_cast<size_t>(bs), {.params = {.temperature = 0}});
      std::vector<pe::runner_item> items;
      double timed = 0;
      for (int s = 0; s <= steps; ++s) { // step 0 warms up
        items.clear();
        for (int b = 0; b < bs; ++b) {
          items.push_back({.seq = seqs[static_cast<size_t>(b)],
                           .tokens = std::span(&next[static_cast<size_t>(b)], 1)});
        }
        const auto t0 = clock_type::now();
        auto picked = runner->forward_sample(items, specs);
        if (s > 0) {
          timed += seconds_since(t0);
        }
        for (int b = 0; b < bs; ++b) {
          next[static_cast<size_t>(b)] = picked[static_cast<size_t>(b)].token;
        }
      }
      line("decode", bs, context, timed, int64_t{bs} * steps,
           steps * step_bytes(c, bs, static_cast<double>(context)) / h200_bandwidth);
      for (auto s : seqs) {
        runner->release_sequence(s);
      }
    }
    runner->release_sequence(root);
  }
  return 0;
}
