#include "actors/engine/model/architecture.hpp"

#include "actors/engine/model/deepseek_decoder.hpp"
#include "actors/engine/model/dense_decoder.hpp"
#include "actors/engine/weights/weight_source.hpp"

#include <chrono>

namespace proofmesh::engine {

namespace {

// Counts the bytes every backend's load reads, so no backend counts them itself.
class counting_source final : public weight_source {
public:
  explicit counting_source(const weight_source& inner) : inner_(inner) {}
  const tensor_view& fetch(std::string_view name,
                           std::span<const int64_t> expected_shape) const override {
    const tensor_view& t = inner_.fetch(name, expected_shape);
    bytes_ += static_cast<int64_t>(t.num_bytes);
    return t;
  }
  void release(const tensor_view& tensor) const override { inner_.release(tensor); }
  bool contains(std::string_view name) const override { return inner_.contains(name); }
  int64_t bytes() const { return bytes_; }

private:
  const weight_source& inner_;
  mutable int64_t bytes_ = 0;
};

std::unique_ptr<architecture> load_family(const model_config& config, const weight_source& source,
                                          ops& backend) {
  switch (config.arch) {
  case model_arch::model_arch_llama:
  case model_arch::model_arch_qwen2:
  case model_arch::model_arch_qwen3:
    return load_dense_decoder(config, source, backend);
  case model_arch::model_arch_deepseek_v3:
  case model_arch::model_arch_deepseek_v32:
    return load_deepseek_decoder(config, source, backend);
  }
  return nullptr; // unreachable: parse_model_config accepts only the families above
}

} // namespace

kernels::cpu::rope_freq_params rope_frequencies(const model_config& config) {
  namespace kc = kernels::cpu;
  const rope_config& r = config.rope;
  const kc::rope_scaling scaling = r.kind == rope_kind::rope_kind_llama3 ? kc::rope_scaling::rope_scaling_llama3
                                   : r.kind == rope_kind::rope_kind_yarn ? kc::rope_scaling::rope_scaling_yarn
                                                                         : kc::rope_scaling::rope_scaling_none;
  return {.head_dim = config.head_dim, .theta = r.theta, .scaling = scaling, .factor = r.factor,
          .original_max_position = static_cast<double>(r.original_max_position_embeddings),
          .low_freq_factor = r.low_freq_factor, .high_freq_factor = r.high_freq_factor,
          .beta_fast = r.beta_fast, .beta_slow = r.beta_slow, .truncate = r.truncate};
}

std::unique_ptr<architecture> load_architecture(const model_config& config,
                                                const weight_source& source, ops& backend,
                                                load_stats* stats) {
  const auto start = std::chrono::steady_clock::now();
  const counting_source counted(source);
  std::unique_ptr<architecture> model = load_family(config, counted, backend);
  backend.finish_loading();
  if (stats != nullptr) {
    *stats = {.bytes = counted.bytes(),
              .seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                             .count()};
  }
  return model;
}

} // namespace proofmesh::engine
