#include "actors/roles/token_logprobs.hpp"

#include "actors/transport/wire_codec.hpp"

#include <algorithm>

namespace proofmesh::roles {

namespace pt = proofmesh::transport;

namespace {

std::string token_text(const engine::tokenizer& tok, int32_t id) {
  std::string bytes = tok.token_bytes(id, false);
  if (bytes.size() > pt::wire_limits{}.max_id_bytes) bytes.resize(pt::wire_limits{}.max_id_bytes);
  return bytes;
}

} // namespace

int32_t engine_logprobs_for(int32_t logprobs) { return logprobs < 0 ? 0 : std::max(1, logprobs); }

std::optional<pt::token_logprob> token_logprob_of(const engine::tokenizer& tok, int32_t token,
                                                  const engine::step_logprobs& step,
                                                  int32_t alternatives,
                                                  std::span<const int32_t> stop_ids) {
  if (step.top_ids.empty() || alternatives < 0 ||
      std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end()) {
    return std::nullopt;
  }
  pt::token_logprob out{.token = token_text(tok, token), .logprob = step.token_logprob};
  const size_t n = std::min({static_cast<size_t>(alternatives), step.top_ids.size(),
                             step.top_logprobs.size()});
  for (size_t i = 0; i < n; ++i) {
    out.top.push_back({token_text(tok, step.top_ids[i]), step.top_logprobs[i]});
  }
  return out;
}

} // namespace proofmesh::roles
