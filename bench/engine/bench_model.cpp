#include "bench/engine/bench_model.hpp"

#include "actors/common/fnv1a.hpp"
#include "actors/common/splitmix64.hpp"
#include "actors/engine/weights/half_precision.hpp"

#include <algorithm>
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

const pe::tensor_view& random_weights::fetch(std::string_view name,
                                             std::span<const int64_t> shape) const {
  int64_t count = 1;
  for (int64_t d : shape) {
    count *= d;
  }
  values_.resize(static_cast<size_t>(count));
  const bool is_norm = name.find("norm") != std::string_view::npos;
  const bool is_vocab = name.find("embed") != std::string_view::npos ||
                        name.find("lm_head") != std::string_view::npos;
  const float width = is_vocab ? 0.1f : 0.05f;
  const uint64_t seed = fnv1a(name);
  auto fill = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const float v = is_norm ? 1.0f
                              : (static_cast<float>(splitmix64(seed + i) >> 40) / 16777216.0f -
                                 0.5f) * width;
      values_[i] = pe::f32_to_bf16(v);
    }
  };
  const size_t n = values_.size();
  const size_t parts = n < (size_t{1} << 22) ? 1 : std::max(1u, std::thread::hardware_concurrency());
  const size_t step = (n + parts - 1) / parts;
  std::vector<std::thread> workers;
  for (size_t p = 1; p < parts; ++p) {
    workers.emplace_back(fill, std::min(n, p * step), std::min(n, (p + 1) * step));
  }
  fill(0, std::min(n, step));
  for (auto& w : workers) {
    w.join();
  }
  view_ = {.name = std::string(name), .type = pe::dtype::dtype_bf16,
           .shape = {shape.begin(), shape.end()},
           .data = reinterpret_cast<const std::byte*>(values_.data()), .num_bytes = n * 2};
  return view_;
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
