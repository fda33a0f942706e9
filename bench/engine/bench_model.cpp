#include "bench/engine/bench_model.hpp"

#include "actors/common/splitmix64.hpp"

#include <stdexcept>
#include <thread>
#include <vector>

namespace proofmesh::bench {

namespace pe = proofmesh::engine;

pe::model_config bench_shape(const std::string& name) {
  pe::model_config c;
  c.arch = pe::model_arch::model_arch_llama;
  c.rope = {.kind = pe::rope_kind::rope_kind_llama3, .theta = 500000.0, .factor = 32.0,
            .low_freq_factor = 1.0, .high_freq_factor = 4.0,
            .original_max_position_embeddings = 8192};
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.num_key_value_heads = 8;
  c.num_attention_heads = 32;
  c.head_dim = 128;
  c.vocab_size = 128256;
  if (name == "llama-3.2-1b") {
    c.hidden_size = 2048;
    c.intermediate_size = 8192;
    c.num_hidden_layers = 16;
    c.head_dim = 64;
    c.tie_word_embeddings = true;
  } else if (name == "llama-3-8b") {
    c.hidden_size = 4096;
    c.intermediate_size = 14336;
    c.num_hidden_layers = 32;
    c.rope = {.kind = pe::rope_kind::rope_kind_default, .theta = 500000.0};
    c.max_position_embeddings = 8192;
  } else {
    throw std::invalid_argument("unknown bench model '" + name +
                                "' (llama-3.2-1b or llama-3-8b)");
  }
  return c;
}

namespace {

// Uniform values in [-width/2, width/2) from a counter.
std::vector<float> random_vector(size_t n, uint64_t seed, float width) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = (static_cast<float>(splitmix64(seed + i) >> 40) / 16777216.0f - 0.5f) * width;
  }
  return v;
}

} // namespace

pe::model_weights random_weights(const pe::model_config& c) {
  auto h = static_cast<size_t>(c.hidden_size);
  auto q = static_cast<size_t>(c.q_dim()), kv = static_cast<size_t>(c.kv_dim());
  auto inter = static_cast<size_t>(c.intermediate_size);
  auto vocab = static_cast<size_t>(c.vocab_size);
  pe::model_weights w;
  w.layers.resize(static_cast<size_t>(c.num_hidden_layers));
  std::vector<std::thread> tasks;
  tasks.emplace_back([&] { w.embed = random_vector(vocab * h, 1ULL << 40, 0.1f); });
  if (!c.tie_word_embeddings) {
    tasks.emplace_back([&] { w.lm_head = random_vector(vocab * h, 2ULL << 40, 0.1f); });
  }
  for (size_t l = 0; l < w.layers.size(); ++l) {
    tasks.emplace_back([&, l] {
      uint64_t seed = (l + 3) << 40;
      pe::layer_weights& lw = w.layers[l];
      lw.input_norm.assign(h, 1.0f);
      lw.post_norm.assign(h, 1.0f);
      lw.wq = random_vector(q * h, seed + (1ULL << 36), 0.05f);
      lw.wk = random_vector(kv * h, seed + (2ULL << 36), 0.05f);
      lw.wv = random_vector(kv * h, seed + (3ULL << 36), 0.05f);
      lw.wo = random_vector(h * q, seed + (4ULL << 36), 0.05f);
      lw.w_gate = random_vector(inter * h, seed + (5ULL << 36), 0.05f);
      lw.w_up = random_vector(inter * h, seed + (6ULL << 36), 0.05f);
      lw.w_down = random_vector(h * inter, seed + (7ULL << 36), 0.05f);
    });
  }
  for (auto& t : tasks) {
    t.join();
  }
  w.final_norm.assign(h, 1.0f);
  return w;
}

double weight_bytes(const pe::model_config& c) {
  double per_layer = static_cast<double>(c.hidden_size) *
                     (2.0 * c.q_dim() + 2.0 * c.kv_dim() + 3.0 * c.intermediate_size);
  double logits = static_cast<double>(c.vocab_size) * c.hidden_size;
  return 2.0 * (c.num_hidden_layers * per_layer + logits);
}

double kv_bytes(const pe::model_config& c, double tokens) {
  return 2.0 * 2.0 * c.num_hidden_layers * c.kv_dim() * tokens;
}

} // namespace proofmesh::bench
