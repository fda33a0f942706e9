// Decode throughput of the CUDA runner on random-weight models of real shapes, in bf16.
// Rules of the road: weights are random (they do not change the timing of dense models); the
// prompt is prefilled first and only the decode steps are timed; every step samples on the device
// (temperature 1.0, top-p 0.95, as the reference pipeline) and brings the tokens to the host. Prints one JSON line per case for bench/engine/run.sh.
#include "actors/engine/cuda/cuda_runner.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace pe = proofmesh::engine;

namespace {

pe::model_config shape(const std::string& name) {
  pe::model_config c;
  c.arch = pe::model_arch::model_arch_llama;
  c.rope = {.kind = pe::rope_kind::rope_kind_llama3, .theta = 500000.0, .factor = 32.0,
            .low_freq_factor = 1.0, .high_freq_factor = 4.0,
            .original_max_position_embeddings = 8192};
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.num_key_value_heads = 8;
  c.head_dim = 128;
  c.vocab_size = 128256;
  if (name == "llama-3.2-1b") {
    c.hidden_size = 2048;
    c.intermediate_size = 8192;
    c.num_hidden_layers = 16;
    c.num_attention_heads = 32;
    c.head_dim = 64;
    c.tie_word_embeddings = true;
  } else { // llama-3-8b
    c.hidden_size = 4096;
    c.intermediate_size = 14336;
    c.num_hidden_layers = 32;
    c.num_attention_heads = 32;
    c.rope.kind = pe::rope_kind::rope_kind_default;
  }
  return c;
}

// Small uniform values from a counter: cheap to make for billions of weights.
std::vector<float> random_vector(size_t n, uint64_t& state, float width) {
  std::vector<float> v(n);
  for (auto& x : v) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    x = (static_cast<float>(state >> 40) / 16777216.0f - 0.5f) * width;
  }
  return v;
}

pe::model_weights random_weights(const pe::model_config& c) {
  uint64_t s = 1;
  auto h = static_cast<size_t>(c.hidden_size);
  auto q = static_cast<size_t>(c.q_dim()), kv = static_cast<size_t>(c.kv_dim());
  auto inter = static_cast<size_t>(c.intermediate_size);
  pe::model_weights w;
  w.embed = random_vector(static_cast<size_t>(c.vocab_size) * h, s, 0.1f);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    pe::layer_weights lw;
    lw.input_norm.assign(h, 1.0f);
    lw.post_norm.assign(h, 1.0f);
    lw.wq = random_vector(q * h, s, 0.05f);
    lw.wk = random_vector(kv * h, s, 0.05f);
    lw.wv = random_vector(kv * h, s, 0.05f);
    lw.wo = random_vector(h * q, s, 0.05f);
    lw.w_gate = random_vector(inter * h, s, 0.05f);
    lw.w_up = random_vector(inter * h, s, 0.05f);
    lw.w_down = random_vector(h * inter, s, 0.05f);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm.assign(h, 1.0f);
  if (!c.tie_word_embeddings) {
    w.lm_head = random_vector(static_cast<size_t>(c.vocab_size) * h, s, 0.1f);
  }
  return w;
}

double weight_bytes(const pe::model_config& c) {
  double per_layer = static_cast<double>(c.hidden_size) *
                     (2.0 * c.q_dim() + 2.0 * c.kv_dim() + 3.0 * c.intermediate_size);
  double embed = static_cast<double>(c.vocab_size) * c.hidden_size;
  return 2.0 * (c.num_hidden_layers * per_layer + embed * (c.tie_word_embeddings ? 1 : 2));
}

} // namespace

int main(int argc, char** argv) {
  std::string model = argc > 1 ? argv[1] : "llama-3.2-1b";
  int prompt_len = 128, steps = 128;
  pe::model_config c = shape(model);
  pe::model_weights w = random_weights(c);
  auto runner = pe::make_cuda_runner(c, w, {.dtype = pe::compute_dtype::compute_dtype_bf16,
                                            .kv_memory_fraction = 0.5});
  w = {};
  for (int bs : {1, 64, 256}) {
    std::vector<pe::sequence_id> seqs;
    std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(bs));
    std::vector<pe::runner_item> items;
    for (int b = 0; b < bs; ++b) {
      for (int t = 0; t < prompt_len; ++t) {
        prompts[static_cast<size_t>(b)].push_back((b * 7919 + t * 104729) % 128000);
      }
      seqs.push_back(runner->create_sequence());
      items.push_back({.seq = seqs.back(), .tokens = prompts[static_cast<size_t>(b)]});
    }
    runner->forward(items); // prefill, untimed
    std::vector<int32_t> next(static_cast<size_t>(bs), 42);
    // The reference pipeline's sampling: temperature 1.0, top-p 0.95, on the device.
    std::vector<pe::sample_spec> specs(static_cast<size_t>(bs),
                                       {.params = {.temperature = 1.0f, .top_p = 0.95f}});
    auto run_steps = [&](int n) {
      for (int s = 0; s < n; ++s) {
        items.clear();
        for (int b = 0; b < bs; ++b) {
          items.push_back({.seq = seqs[static_cast<size_t>(b)],
                           .tokens = std::span(&next[static_cast<size_t>(b)], 1)});
        }
        runner->forward_sample(items, specs);
      }
    };
    run_steps(4); // warm-up: GEMM plans, scratch growth
    auto t0 = std::chrono::steady_clock::now();
    run_steps(steps);
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double tok_s = bs * steps / sec;
    double kv_bytes = 2.0 * c.num_hidden_layers * c.kv_dim() * 2.0 * (prompt_len + steps / 2) * bs;
    double roofline = bs * 4.3e12 / (weight_bytes(c) + kv_bytes);
    std::printf("{\"engine\": \"proofmesh\", \"model\": \"%s\", \"bs\": %d, \"tok_s\": %.1f, "
                "\"tpot_ms\": %.3f, \"roofline_tok_s\": %.1f}\n",
                model.c_str(), bs, tok_s, 1e3 * sec / steps, roofline);
    std::fflush(stdout);
    for (auto s : seqs) {
      runner->release_sequence(s);
    }
  }
  return 0;
}
