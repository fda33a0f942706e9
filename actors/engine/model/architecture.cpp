#include "actors/engine/model/architecture.hpp"

#include "actors/engine/model/dense_decoder.hpp"

namespace proofmesh::engine {

std::unique_ptr<architecture> load_architecture(const model_config& config,
                                                const weight_source& source, ops& backend) {
  switch (config.arch) {
  case model_arch::model_arch_llama:
  case model_arch::model_arch_qwen2:
  case model_arch::model_arch_qwen3:
    return load_dense_decoder(config, source, backend);
  }
  return nullptr; // unreachable: parse_model_config accepts only the families above
}

} // namespace proofmesh::engine
