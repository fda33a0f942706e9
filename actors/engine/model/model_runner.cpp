#include "actors/engine/model/model_runner.hpp"

#include "actors/common/check.hpp"

namespace proofmesh::engine {

std::vector<sample_result> model_runner::forward_sample(std::span<const runner_item>,
                                                       std::span<const sample_spec>) {
  PM_ASSERT(false, "forward_sample is only called where samples_on_device() is true");
  return {};
}

} // namespace proofmesh::engine
